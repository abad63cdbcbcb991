/* weft/pthreadpool.h: the pthreadpool C API, run by weft (library weft::pthreadpool).
 *
 * Engines written against pthreadpool (XNNPACK, NNPACK, QNNPACK, ...) run their loops on
 * a weft::Scheduler without a source change: link libweft_pthreadpool.so ahead of the
 * engine (or LD_PRELOAD it) and the engine's pthreadpool_* calls land here. This header
 * is for code that wants to call the API directly, or use the weft extensions at the end,
 * without the upstream <pthreadpool.h>. Its declarations are those of Debian's pthreadpool
 * (0.0~git20210507) plus the two *_with_thread entry points of later upstream versions;
 * tests/engines/pthreadpool_header_check.c and .cpp include both headers in one
 * translation unit, so the compiler rejects any drift between them.
 *
 * Semantics (the same as pthreadpool unless said otherwise):
 *  - Every parallelize function is the parallel version of the loop written above it.
 *    It returns once every item has been processed; the caller takes part in the work.
 *  - A NULL pool, or a pool of one thread, runs the loop on the calling thread, in order.
 *  - One pool is one weft::Scheduler with threads_count - 1 pinned workers (Config from
 *    WEFT_* environment variables, see weft/config.hpp). threads_count = 0: one thread
 *    per usable core (affinity mask and cgroup quota), where pthreadpool takes one per
 *    logical processor.
 *  - Differences: calls from several threads on one pool run concurrently (pthreadpool
 *    serializes them); the items of a loop are handed out by weft's range stealing.
 *    The *_with_uarch functions always pass default_uarch_index (as pthreadpool built
 *    without cpuinfo; uarch indices only differ on heterogeneous ARM cores).
 *  - An exception thrown by a C++ task function propagates out of the parallelize call
 *    after every thread has stopped (pthreadpool would terminate).
 *
 * Flags:
 *  - PTHREADPOOL_FLAG_DISABLE_DENORMALS: each thread sets flush-to-zero and
 *    denormals-are-zero (x86 MXCSR) while it runs items of this call, and restores its
 *    previous mode afterwards. No effect on other architectures.
 *  - PTHREADPOOL_FLAG_YIELD_WORKERS: accepted and ignored. weft's idle workers spin for
 *    Config::spin (WEFT_SPIN_US, 50 us by default) and then sleep in the kernel anyway,
 *    so they already yield shortly after every call; set WEFT_SPIN_US=0 to yield at once.
 */
#ifndef WEFT_PTHREADPOOL_H_
#define WEFT_PTHREADPOOL_H_

#include <stddef.h>
#include <stdint.h>

typedef struct pthreadpool* pthreadpool_t;

typedef void (*pthreadpool_task_1d_t)(void*, size_t);
typedef void (*pthreadpool_task_1d_tile_1d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_task_2d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_task_2d_tile_1d_t)(void*, size_t, size_t, size_t);
typedef void (*pthreadpool_task_2d_tile_2d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_t)(void*, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_tile_1d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_tile_1d_t)(void*, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_4d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_5d_t)(void*, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_5d_tile_1d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_5d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t,
                                              size_t);
typedef void (*pthreadpool_task_6d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_6d_tile_1d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t,
                                              size_t);
typedef void (*pthreadpool_task_6d_tile_2d_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t,
                                              size_t, size_t);

typedef void (*pthreadpool_task_1d_with_id_t)(void*, uint32_t, size_t);
typedef void (*pthreadpool_task_2d_tile_2d_with_id_t)(void*, uint32_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_task_3d_tile_2d_with_id_t)(void*, uint32_t, size_t, size_t, size_t, size_t,
                                                      size_t);
typedef void (*pthreadpool_task_4d_tile_2d_with_id_t)(void*, uint32_t, size_t, size_t, size_t, size_t,
                                                      size_t, size_t);

/* From later upstream pthreadpool: the second argument is the index of the calling
 * thread, in [0, pthreadpool_get_threads_count(pool)), distinct among the threads that
 * run items of the same call at the same time (for per-thread scratch buffers). */
typedef void (*pthreadpool_task_1d_with_thread_t)(void*, size_t, size_t);
typedef void (*pthreadpool_task_2d_with_thread_t)(void*, size_t, size_t, size_t);

/* Legacy (pthreadpool_compute_*) task types. */
typedef void (*pthreadpool_function_1d_t)(void*, size_t);
typedef void (*pthreadpool_function_1d_tiled_t)(void*, size_t, size_t);
typedef void (*pthreadpool_function_2d_t)(void*, size_t, size_t);
typedef void (*pthreadpool_function_2d_tiled_t)(void*, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_function_3d_tiled_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t);
typedef void (*pthreadpool_function_4d_tiled_t)(void*, size_t, size_t, size_t, size_t, size_t, size_t,
                                                size_t, size_t);

#define PTHREADPOOL_FLAG_DISABLE_DENORMALS 0x00000001
#define PTHREADPOOL_FLAG_YIELD_WORKERS 0x00000002

#if defined(__GNUC__)
#define WEFT_PTHREADPOOL_DEPRECATED __attribute__((__deprecated__))
#else
#define WEFT_PTHREADPOOL_DEPRECATED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A pool of threads_count threads, the caller included (0: one per usable core), or
 * NULL when the scheduler could not be created (the reason is printed to stderr). */
pthreadpool_t pthreadpool_create(size_t threads_count);
/* Threads that run a loop, the caller included; 1 for NULL. */
size_t pthreadpool_get_threads_count(pthreadpool_t threadpool);
/* Joins the pool's workers. No call may be running on the pool. NULL is ignored. */
void pthreadpool_destroy(pthreadpool_t threadpool);

/* for (i = 0; i < range; i++) function(context, i); */
void pthreadpool_parallelize_1d(pthreadpool_t threadpool, pthreadpool_task_1d_t function,
                                void* context, size_t range, uint32_t flags);
/* for (i = 0; i < range; i++) function(context, thread_index, i); */
void pthreadpool_parallelize_1d_with_thread(pthreadpool_t threadpool,
                                            pthreadpool_task_1d_with_thread_t function,
                                            void* context, size_t range, uint32_t flags);
/* for (i = 0; i < range; i++) function(context, default_uarch_index, i); */
void pthreadpool_parallelize_1d_with_uarch(pthreadpool_t threadpool,
                                           pthreadpool_task_1d_with_id_t function, void* context,
                                           uint32_t default_uarch_index, uint32_t max_uarch_index,
                                           size_t range, uint32_t flags);
/* for (i = 0; i < range; i += tile) function(context, i, min(range - i, tile)); */
void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_1d_tile_1d_t function, void* context,
                                        size_t range, size_t tile, uint32_t flags);

/* for (i...) for (j...) function(context, i, j); */
void pthreadpool_parallelize_2d(pthreadpool_t threadpool, pthreadpool_task_2d_t function,
                                void* context, size_t range_i, size_t range_j, uint32_t flags);
/* for (i...) for (j...) function(context, thread_index, i, j); */
void pthreadpool_parallelize_2d_with_thread(pthreadpool_t threadpool,
                                            pthreadpool_task_2d_with_thread_t function,
                                            void* context, size_t range_i, size_t range_j,
                                            uint32_t flags);
/* for (i...) for (j...; j += tile_j) function(context, i, j, min(range_j - j, tile_j)); */
void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_2d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t tile_j,
                                        uint32_t flags);
/* for (i...; i += tile_i) for (j...; j += tile_j)
 *   function(context, i, j, min(range_i - i, tile_i), min(range_j - j, tile_j)); */
void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_2d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t tile_i,
                                        size_t tile_j, uint32_t flags);
/* As 2d_tile_2d, with default_uarch_index passed before i. */
void pthreadpool_parallelize_2d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_2d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t max_uarch_index, size_t range_i, size_t range_j,
    size_t tile_i, size_t tile_j, uint32_t flags);

/* for (i...) for (j...) for (k...) function(context, i, j, k); */
void pthreadpool_parallelize_3d(pthreadpool_t threadpool, pthreadpool_task_3d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                uint32_t flags);
/* k tiled: function(context, i, j, k, min(range_k - k, tile_k)). */
void pthreadpool_parallelize_3d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_3d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t tile_k, uint32_t flags);
/* j and k tiled: function(context, i, j, k, size_j, size_k). */
void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_3d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t tile_j, size_t tile_k, uint32_t flags);
void pthreadpool_parallelize_3d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_3d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t max_uarch_index, size_t range_i, size_t range_j,
    size_t range_k, size_t tile_j, size_t tile_k, uint32_t flags);

/* 4-D: function(context, i, j, k, l); tile_1d tiles l, tile_2d tiles k and l (starts
 * first, then sizes: function(context, i, j, k, l, size_k, size_l)). */
void pthreadpool_parallelize_4d(pthreadpool_t threadpool, pthreadpool_task_4d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, uint32_t flags);
void pthreadpool_parallelize_4d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_4d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t tile_l, uint32_t flags);
void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_4d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t tile_k, size_t tile_l,
                                        uint32_t flags);
void pthreadpool_parallelize_4d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_4d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t max_uarch_index, size_t range_i, size_t range_j,
    size_t range_k, size_t range_l, size_t tile_k, size_t tile_l, uint32_t flags);

/* 5-D and 6-D, the same pattern (and the same shape of prototype, by the ABI's design):
   the last one or two dimensions tiled. */
void pthreadpool_parallelize_5d(pthreadpool_t threadpool, pthreadpool_task_5d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, size_t range_m, uint32_t flags);
void pthreadpool_parallelize_5d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_5d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t tile_m,
                                        uint32_t flags);
void pthreadpool_parallelize_5d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_5d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t tile_l,
                                        size_t tile_m, uint32_t flags);
void pthreadpool_parallelize_6d(pthreadpool_t threadpool, pthreadpool_task_6d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, size_t range_m, size_t range_n, uint32_t flags);
void pthreadpool_parallelize_6d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_6d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t range_n,
                                        size_t tile_n, uint32_t flags);
void pthreadpool_parallelize_6d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_6d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t range_n,
                                        size_t tile_m, size_t tile_n, uint32_t flags);

/* Legacy API: flags 0; the *_tiled ones tile every dimension and pass all starts, then
 * all sizes. */
void pthreadpool_compute_1d(pthreadpool_t threadpool, pthreadpool_function_1d_t function,
                            void* argument, size_t range) WEFT_PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_1d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_1d_tiled_t function, void* argument,
                                  size_t range, size_t tile) WEFT_PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_2d(pthreadpool_t threadpool, pthreadpool_function_2d_t function,
                            void* argument, size_t range_i,
                            size_t range_j) WEFT_PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_2d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_2d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t tile_i,
                                  size_t tile_j) WEFT_PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_3d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_3d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t range_k, size_t tile_i,
                                  size_t tile_j, size_t tile_k) WEFT_PTHREADPOOL_DEPRECATED;
void pthreadpool_compute_4d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_4d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                  size_t tile_i, size_t tile_j, size_t tile_k,
                                  size_t tile_l) WEFT_PTHREADPOOL_DEPRECATED;

/* ---- weft extensions ---------------------------------------------------------------- */

/* weft::Priority of the pool's loops: a worker always runs the most urgent work it can
 * see. All loops of one pool run on that pool's own scheduler, so a priority orders the
 * calls made concurrently on the same pool (e.g. a live request next to a batch job
 * sharing a pool). Default: WEFT_PTHREADPOOL_PRIORITY_NORMAL. */
#define WEFT_PTHREADPOOL_PRIORITY_LOW 0
#define WEFT_PTHREADPOOL_PRIORITY_NORMAL 1
#define WEFT_PTHREADPOOL_PRIORITY_HIGH 2
#define WEFT_PTHREADPOOL_PRIORITY_CRITICAL 3
/* Returns 0, or -1 (nothing changed) for a NULL pool or a priority out of range. Takes
 * effect for calls that start after it returns. */
int weft_pthreadpool_set_priority(pthreadpool_t threadpool, int priority);
int weft_pthreadpool_get_priority(pthreadpool_t threadpool);

/* What a pool did since it was created or since the last reset. Counts are exact once
 * the calls being counted have returned. A NULL pool counts nothing (all zero). */
struct weft_pthreadpool_stats {
  uint64_t calls;            /* parallelize/compute calls with at least one item */
  uint64_t inline_calls;     /* of those, run on the caller alone (one item or one thread) */
  uint64_t items_on_caller;  /* task-function invocations on threads that are not workers
                                of this pool (the threads that made the calls) */
  uint64_t items_on_workers; /* ... on the pool's weft workers */
};
void weft_pthreadpool_get_stats(pthreadpool_t threadpool, struct weft_pthreadpool_stats* stats);
void weft_pthreadpool_reset_stats(pthreadpool_t threadpool);
/* Non-zero when this library was built from weft (a cheap runtime check that the
 * pthreadpool_* symbols in use are weft's: see dladdr on one of them). */
int weft_pthreadpool_is_weft(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WEFT_PTHREADPOOL_H_ */
