// The pthreadpool C API on weft. Every parallelize/compute variant is the same thing
// underneath: an N-d grid of tiles (an untiled dimension has tiles of 1), numbered
// row-major, run by Scheduler::parallel_for over the tile numbers. Each chunk of tile
// numbers is turned back into coordinates once (a few divisions) and then walked like
// an odometer, so the per-tile cost is an add and a compare per dimension.
//
// Counts are computed with weft's checked arithmetic (weft/detail/checked.hpp): a grid
// of more tiles than size_t can number (say 2^40 x 2^40) cannot be one parallel_for,
// and this C ABI has no error to return, so its leading dimensions are walked in order
// on the caller, each step a parallel_for over the trailing dimensions: every tile is
// still visited once, in row-major order, as pthreadpool would (never a silent skip).
#include "weft/pthreadpool.h"

// Drift check: where the upstream header is installed, its prototypes and ours meet in
// this translation unit, and any difference in a signature is a compile error.
#if __has_include(<pthreadpool.h>)
#include <pthreadpool.h>
#endif

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>

#include "weft/config.hpp"
#include "weft/detail/checked.hpp"
#include "weft/options.hpp"
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

#if defined(__SSE__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define WEFT_PTHREADPOOL_HAS_MXCSR 1
#endif

namespace {

// Per thread index (0: threads that are not workers of the pool, k: worker k - 1), so
// that threads counting their items do not share a cache line.
struct alignas(64) ItemCounter {
  std::atomic<std::uint64_t> items{0};
};

}  // namespace

struct pthreadpool {
  // Null for a one-thread pool: everything runs on the caller, as in pthreadpool.
  std::unique_ptr<weft::Scheduler> scheduler;
  unsigned threads = 1;
  std::atomic<weft::Priority> priority{weft::Priority::normal};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> inline_calls{0};
  std::unique_ptr<ItemCounter[]> items;  // `threads` entries
};

namespace {

// The thread's index for *_with_thread tasks and the counters: 0 for a thread that is
// not one of the pool's workers (the caller), worker w -> w + 1. Unique among the
// threads running one call: a call has at most one non-worker thread (its caller).
unsigned thread_index(const pthreadpool& pool) {
  if (!pool.scheduler) return 0;
  const int worker = pool.scheduler->current_worker();
  return worker < 0 ? 0u : static_cast<unsigned>(worker) + 1;
}

// Flush-to-zero and denormals-are-zero for the lifetime of the guard, on this thread.
class DenormalGuard {
 public:
  explicit DenormalGuard(bool enable) noexcept {
#if defined(WEFT_PTHREADPOOL_HAS_MXCSR)
    if (enable) {
      saved_ = _mm_getcsr();
      // 0x8000: FTZ (flush denormal results to zero); 0x0040: DAZ (read denormal
      // inputs as zero).
      _mm_setcsr(saved_ | 0x8040u);
      active_ = true;
    }
#else
    (void)enable;
#endif
  }
  ~DenormalGuard() {
#if defined(WEFT_PTHREADPOOL_HAS_MXCSR)
    if (active_) _mm_setcsr(saved_);
#endif
  }
  DenormalGuard(const DenormalGuard&) = delete;
  DenormalGuard& operator=(const DenormalGuard&) = delete;

 private:
  unsigned saved_ = 0;
  bool active_ = false;
};

constexpr unsigned max_dims = 6;

// The loop nest: dimension d has range[d] items in tiles of tile[d] (1: untiled).
struct Grid {
  unsigned dims = 0;
  std::size_t range[max_dims] = {};
  std::size_t tile[max_dims] = {};
  std::size_t tiles[max_dims] = {};

  Grid& dim(std::size_t r, std::size_t t = 1) {
    // pthreadpool divides by the tile size; a zero tile is treated as 1 instead.
    t = std::max<std::size_t>(t, 1);
    range[dims] = r;
    tile[dims] = t;
    tiles[dims] = weft::detail::ceil_div(r, t);
    ++dims;
    return *this;
  }
};

// How a grid runs: dimensions [0, outer) in order on the caller, and for each of their
// tiles one parallel_for over the `count` tiles of dimensions [outer, dims). outer is 0
// unless the product of all tile counts overflows size_t.
struct GridSplit {
  unsigned outer = 0;
  std::size_t count = 0;  // 0: an empty grid
};

GridSplit split_grid(const Grid& g) {
  for (unsigned d = 0; d < g.dims; ++d) {
    if (g.tiles[d] == 0) return {};
  }
  GridSplit split;
  split.count = 1;
  // The longest suffix of dimensions whose tiles size_t can count.
  for (unsigned d = g.dims; d-- > 0;) {
    if (!weft::detail::checked_mul(split.count, g.tiles[d], split.count)) {
      split.outer = d + 1;
      break;
    }
  }
  return split;
}

// Moves the tile at start[d] (extent size[d]) to the next tile of dimension d; false
// when it was the last one (start[d] is then back at 0). No start + tile: with a tile
// near SIZE_MAX that sum wraps below the range.
inline bool next_tile(const Grid& g, unsigned d, std::size_t* start, std::size_t* size) {
  if (g.tile[d] < g.range[d] - start[d]) {
    start[d] += g.tile[d];
    size[d] = std::min(g.tile[d], g.range[d] - start[d]);
    return true;
  }
  start[d] = 0;
  size[d] = std::min(g.tile[d], g.range[d]);
  return false;
}

// Calls call(thread, start, size) for tiles [b, e) (numbered row-major over dimensions
// [outer, dims)) in order, where start[d] is the first item of the tile in dimension d
// and size[d] its extent there; start/size of dimensions [0, outer) come from `fixed`.
template <class Call>
void walk_tiles(const Grid& g, unsigned outer, const std::size_t* fixed_start,
                const std::size_t* fixed_size, std::size_t b, std::size_t e, unsigned thread,
                const Call& call) {
  std::size_t start[max_dims], size[max_dims];
  for (unsigned d = 0; d < outer; ++d) {
    start[d] = fixed_start[d];
    size[d] = fixed_size[d];
  }
  std::size_t rest = b;
  for (unsigned d = g.dims; d-- > outer;) {
    // (rest % tiles) * tile < range: the tile exists.
    start[d] = (rest % g.tiles[d]) * g.tile[d];
    rest /= g.tiles[d];
    size[d] = std::min(g.tile[d], g.range[d] - start[d]);
  }
  for (std::size_t t = b;;) {
    call(thread, static_cast<const std::size_t*>(start), static_cast<const std::size_t*>(size));
    if (++t == e) break;
    // Next tile: bump the last dimension, carrying into earlier ones. t < the count of
    // dimensions [outer, dims), so the carry stops before running off dimension outer.
    unsigned d = g.dims - 1;
    while (!next_tile(g, d, start, size)) --d;
  }
}

// One parallel_for (or an inline walk) over the trailing dimensions, with the leading
// ones fixed at start/size[0, outer).
template <class Call>
void run_part(pthreadpool* pool, const Grid& grid, const GridSplit& split,
              const std::size_t* start, const std::size_t* size, bool no_denormals,
              const Call& call) {
  if (pool == nullptr) {
    DenormalGuard guard(no_denormals);
    walk_tiles(grid, split.outer, start, size, 0, split.count, 0, call);
    return;
  }
  if (!pool->scheduler || split.count == 1) {
    const unsigned thread = thread_index(*pool);
    {
      DenormalGuard guard(no_denormals);
      walk_tiles(grid, split.outer, start, size, 0, split.count, thread, call);
    }
    pool->items[thread].items.fetch_add(split.count, std::memory_order_relaxed);
    return;
  }
  weft::ForOptions options;
  // Relaxed: a setting read once per call; no data travels with it.
  options.priority = pool->priority.load(std::memory_order_relaxed);
  options.name = "pthreadpool";
  // Automatic grain: weft times the first tiles and sizes the team and the chunks
  // from that, so a call with little work stays on the caller.
  pool->scheduler->parallel_for(
      0, split.count,
      [&](std::size_t b, std::size_t e) {
        const unsigned thread = thread_index(*pool);
        {
          // Per chunk, on every participating thread (two MXCSR writes, a few cycles,
          // only with the flag); each thread's own mode is back when its chunk is done.
          DenormalGuard guard(no_denormals);
          walk_tiles(grid, split.outer, start, size, b, e, thread, call);
        }
        pool->items[thread].items.fetch_add(e - b, std::memory_order_relaxed);
      },
      options);
}

template <class Call>
void run_grid(pthreadpool* pool, const Grid& grid, std::uint32_t flags, const Call& call) {
  const GridSplit split = split_grid(grid);
  if (split.count == 0) return;
  const bool no_denormals = (flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS) != 0;
  if (pool != nullptr) {
    // Relaxed (all counters): statistics, read after the counted calls returned, which
    // orders them (parallel_for's join, or the caller's own program order).
    pool->calls.fetch_add(1, std::memory_order_relaxed);
    if (!pool->scheduler || (split.outer == 0 && split.count == 1)) {
      pool->inline_calls.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // The leading dimensions' tiles, walked in order (none unless the count overflowed).
  std::size_t start[max_dims] = {}, size[max_dims] = {};
  for (unsigned d = 0; d < split.outer; ++d) size[d] = std::min(grid.tile[d], grid.range[d]);
  for (;;) {
    run_part(pool, grid, split, start, size, no_denormals, call);
    unsigned d = split.outer;
    while (d > 0 && !next_tile(grid, d - 1, start, size)) --d;
    if (d == 0) return;
  }
}

}  // namespace

extern "C" {

pthreadpool_t pthreadpool_create(size_t threads_count) {
  try {
    auto pool = std::make_unique<pthreadpool>();
    if (threads_count != 1) {
      weft::Config config = weft::Config::from_env();
      // No background workers: pthreadpool promises thread indices below
      // pthreadpool_get_threads_count() (the *_with_thread variants index per-thread
      // scratch with them), and a low-priority pool's loops would run on threads beyond
      // it. Such a pool's low work runs on its workers, as with background_workers = 0.
      config.background_workers = 0;
      if (threads_count != 0)
        config.num_threads = static_cast<unsigned>(std::min<size_t>(threads_count, UINT_MAX));
      const weft::Placement placement = weft::plan_placement(weft::Topology::probe(), config);
      // One usable CPU and no explicit count: a one-thread pool, as pthreadpool would
      // make (weft always creates at least one worker).
      const bool single = config.num_threads == 0 && placement.cpu_budget < 1.5;
      if (!single) {
        pool->scheduler = std::make_unique<weft::Scheduler>(placement, config);
        pool->threads = pool->scheduler->num_threads();
      }
    }
    pool->items = std::make_unique<ItemCounter[]>(pool->threads);
    return pool.release();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "weft pthreadpool_create(%zu): %s\n", threads_count, error.what());
  } catch (...) {
    std::fprintf(stderr, "weft pthreadpool_create(%zu): unknown error\n", threads_count);
  }
  return nullptr;
}

size_t pthreadpool_get_threads_count(pthreadpool_t threadpool) {
  return threadpool == nullptr ? 1 : threadpool->threads;
}

void pthreadpool_destroy(pthreadpool_t threadpool) { delete threadpool; }

// ---- 1-D ----------------------------------------------------------------------------

void pthreadpool_parallelize_1d(pthreadpool_t threadpool, pthreadpool_task_1d_t function,
                                void* context, size_t range, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range), flags,
           [=](unsigned, const size_t* s, const size_t*) { function(context, s[0]); });
}

void pthreadpool_parallelize_1d_with_thread(pthreadpool_t threadpool,
                                            pthreadpool_task_1d_with_thread_t function,
                                            void* context, size_t range, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range), flags,
           [=](unsigned thread, const size_t* s, const size_t*) {
             function(context, thread, s[0]);
           });
}

void pthreadpool_parallelize_1d_with_uarch(pthreadpool_t threadpool,
                                           pthreadpool_task_1d_with_id_t function, void* context,
                                           uint32_t default_uarch_index, uint32_t,
                                           size_t range, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range), flags,
           [=](unsigned, const size_t* s, const size_t*) {
             function(context, default_uarch_index, s[0]);
           });
}

void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_1d_tile_1d_t function, void* context,
                                        size_t range, size_t tile, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range, tile), flags,
           [=](unsigned, const size_t* s, const size_t* z) { function(context, s[0], z[0]); });
}

// ---- 2-D ----------------------------------------------------------------------------

void pthreadpool_parallelize_2d(pthreadpool_t threadpool, pthreadpool_task_2d_t function,
                                void* context, size_t range_i, size_t range_j, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j), flags,
           [=](unsigned, const size_t* s, const size_t*) { function(context, s[0], s[1]); });
}

void pthreadpool_parallelize_2d_with_thread(pthreadpool_t threadpool,
                                            pthreadpool_task_2d_with_thread_t function,
                                            void* context, size_t range_i, size_t range_j,
                                            uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j), flags,
           [=](unsigned thread, const size_t* s, const size_t*) {
             function(context, thread, s[0], s[1]);
           });
}

void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_2d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t tile_j,
                                        uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j, tile_j), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], z[1]);
           });
}

void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_2d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t tile_i,
                                        size_t tile_j, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i, tile_i).dim(range_j, tile_j), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], z[0], z[1]);
           });
}

void pthreadpool_parallelize_2d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_2d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t, size_t range_i, size_t range_j, size_t tile_i,
    size_t tile_j, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i, tile_i).dim(range_j, tile_j), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, default_uarch_index, s[0], s[1], z[0], z[1]);
           });
}

// ---- 3-D ----------------------------------------------------------------------------

void pthreadpool_parallelize_3d(pthreadpool_t threadpool, pthreadpool_task_3d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j).dim(range_k), flags,
           [=](unsigned, const size_t* s, const size_t*) {
             function(context, s[0], s[1], s[2]);
           });
}

void pthreadpool_parallelize_3d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_3d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t tile_k, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j).dim(range_k, tile_k), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], z[2]);
           });
}

void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_3d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t tile_j, size_t tile_k, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j, tile_j).dim(range_k, tile_k), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], z[1], z[2]);
           });
}

void pthreadpool_parallelize_3d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_3d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t, size_t range_i, size_t range_j, size_t range_k,
    size_t tile_j, size_t tile_k, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j, tile_j).dim(range_k, tile_k), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, default_uarch_index, s[0], s[1], s[2], z[1], z[2]);
           });
}

// ---- 4-D ----------------------------------------------------------------------------

void pthreadpool_parallelize_4d(pthreadpool_t threadpool, pthreadpool_task_4d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l), flags,
           [=](unsigned, const size_t* s, const size_t*) {
             function(context, s[0], s[1], s[2], s[3]);
           });
}

void pthreadpool_parallelize_4d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_4d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t tile_l, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l, tile_l), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], z[3]);
           });
}

void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_4d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t tile_k, size_t tile_l,
                                        uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k, tile_k).dim(range_l, tile_l), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], z[2], z[3]);
           });
}

void pthreadpool_parallelize_4d_tile_2d_with_uarch(
    pthreadpool_t threadpool, pthreadpool_task_4d_tile_2d_with_id_t function, void* context,
    uint32_t default_uarch_index, uint32_t, size_t range_i, size_t range_j, size_t range_k,
    size_t range_l, size_t tile_k, size_t tile_l, uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k, tile_k).dim(range_l, tile_l), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, default_uarch_index, s[0], s[1], s[2], s[3], z[2], z[3]);
           });
}

// ---- 5-D and 6-D --------------------------------------------------------------------

void pthreadpool_parallelize_5d(pthreadpool_t threadpool, pthreadpool_task_5d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, size_t range_m, uint32_t flags) {
  run_grid(threadpool, Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l).dim(range_m),
           flags, [=](unsigned, const size_t* s, const size_t*) {
             function(context, s[0], s[1], s[2], s[3], s[4]);
           });
}

void pthreadpool_parallelize_5d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_5d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t tile_m,
                                        uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l).dim(range_m, tile_m), flags,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], s[4], z[4]);
           });
}

void pthreadpool_parallelize_5d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_5d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t tile_l,
                                        size_t tile_m, uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l, tile_l).dim(range_m, tile_m),
           flags, [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], s[4], z[3], z[4]);
           });
}

void pthreadpool_parallelize_6d(pthreadpool_t threadpool, pthreadpool_task_6d_t function,
                                void* context, size_t range_i, size_t range_j, size_t range_k,
                                size_t range_l, size_t range_m, size_t range_n, uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l).dim(range_m).dim(range_n),
           flags, [=](unsigned, const size_t* s, const size_t*) {
             function(context, s[0], s[1], s[2], s[3], s[4], s[5]);
           });
}

void pthreadpool_parallelize_6d_tile_1d(pthreadpool_t threadpool,
                                        pthreadpool_task_6d_tile_1d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t range_n,
                                        size_t tile_n, uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l).dim(range_m).dim(range_n,
                                                                                      tile_n),
           flags, [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], s[4], s[5], z[5]);
           });
}

void pthreadpool_parallelize_6d_tile_2d(pthreadpool_t threadpool,
                                        pthreadpool_task_6d_tile_2d_t function, void* context,
                                        size_t range_i, size_t range_j, size_t range_k,
                                        size_t range_l, size_t range_m, size_t range_n,
                                        size_t tile_m, size_t tile_n, uint32_t flags) {
  run_grid(threadpool,
           Grid{}.dim(range_i).dim(range_j).dim(range_k).dim(range_l).dim(range_m, tile_m).dim(
               range_n, tile_n),
           flags, [=](unsigned, const size_t* s, const size_t* z) {
             function(context, s[0], s[1], s[2], s[3], s[4], s[5], z[4], z[5]);
           });
}

// ---- legacy -------------------------------------------------------------------------

void pthreadpool_compute_1d(pthreadpool_t threadpool, pthreadpool_function_1d_t function,
                            void* argument, size_t range) {
  pthreadpool_parallelize_1d(threadpool, function, argument, range, 0);
}

void pthreadpool_compute_1d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_1d_tiled_t function, void* argument,
                                  size_t range, size_t tile) {
  pthreadpool_parallelize_1d_tile_1d(threadpool, function, argument, range, tile, 0);
}

void pthreadpool_compute_2d(pthreadpool_t threadpool, pthreadpool_function_2d_t function,
                            void* argument, size_t range_i, size_t range_j) {
  pthreadpool_parallelize_2d(threadpool, function, argument, range_i, range_j, 0);
}

void pthreadpool_compute_2d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_2d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t tile_i, size_t tile_j) {
  pthreadpool_parallelize_2d_tile_2d(threadpool, function, argument, range_i, range_j, tile_i,
                                     tile_j, 0);
}

void pthreadpool_compute_3d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_3d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t range_k, size_t tile_i,
                                  size_t tile_j, size_t tile_k) {
  run_grid(threadpool, Grid{}.dim(range_i, tile_i).dim(range_j, tile_j).dim(range_k, tile_k), 0,
           [=](unsigned, const size_t* s, const size_t* z) {
             function(argument, s[0], s[1], s[2], z[0], z[1], z[2]);
           });
}

void pthreadpool_compute_4d_tiled(pthreadpool_t threadpool,
                                  pthreadpool_function_4d_tiled_t function, void* argument,
                                  size_t range_i, size_t range_j, size_t range_k, size_t range_l,
                                  size_t tile_i, size_t tile_j, size_t tile_k, size_t tile_l) {
  run_grid(threadpool,
           Grid{}.dim(range_i, tile_i).dim(range_j, tile_j).dim(range_k, tile_k).dim(range_l,
                                                                                      tile_l),
           0, [=](unsigned, const size_t* s, const size_t* z) {
             function(argument, s[0], s[1], s[2], s[3], z[0], z[1], z[2], z[3]);
           });
}

// ---- weft extensions ----------------------------------------------------------------

int weft_pthreadpool_set_priority(pthreadpool_t threadpool, int priority) {
  if (threadpool == nullptr || priority < WEFT_PTHREADPOOL_PRIORITY_LOW ||
      priority > WEFT_PTHREADPOOL_PRIORITY_CRITICAL)
    return -1;
  // Relaxed: see run_grid; a call that starts later on another thread needs its own
  // synchronization with this one to be "later" anyway.
  threadpool->priority.store(static_cast<weft::Priority>(priority), std::memory_order_relaxed);
  return 0;
}

int weft_pthreadpool_get_priority(pthreadpool_t threadpool) {
  if (threadpool == nullptr) return WEFT_PTHREADPOOL_PRIORITY_NORMAL;
  // Relaxed: a setting, see weft_pthreadpool_set_priority.
  return static_cast<int>(threadpool->priority.load(std::memory_order_relaxed));
}

void weft_pthreadpool_get_stats(pthreadpool_t threadpool, struct weft_pthreadpool_stats* stats) {
  if (stats == nullptr) return;
  *stats = weft_pthreadpool_stats{};
  if (threadpool == nullptr) return;
  stats->calls = threadpool->calls.load(std::memory_order_relaxed);
  stats->inline_calls = threadpool->inline_calls.load(std::memory_order_relaxed);
  stats->items_on_caller = threadpool->items[0].items.load(std::memory_order_relaxed);
  for (unsigned k = 1; k < threadpool->threads; ++k)
    stats->items_on_workers += threadpool->items[k].items.load(std::memory_order_relaxed);
}

void weft_pthreadpool_reset_stats(pthreadpool_t threadpool) {
  if (threadpool == nullptr) return;
  threadpool->calls.store(0, std::memory_order_relaxed);
  threadpool->inline_calls.store(0, std::memory_order_relaxed);
  for (unsigned k = 0; k < threadpool->threads; ++k)
    threadpool->items[k].items.store(0, std::memory_order_relaxed);
}

int weft_pthreadpool_is_weft(void) { return 1; }

}  // extern "C"
