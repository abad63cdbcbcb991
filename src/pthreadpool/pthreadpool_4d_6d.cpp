// The 4-D to 6-D parallelize variants of the pthreadpool ABI and the legacy compute_*
// calls: each is a grid of tiles (grid.hpp), as the 1-D to 3-D ones in pthreadpool.cpp.
// They differ only in which dimensions are tiled and in the task's signature, so their
// shape repeats by the ABI's design.
#include "grid.hpp"

// Drift check, as in pthreadpool.cpp: the upstream prototypes of these functions.
#if __has_include(<pthreadpool.h>)
#include <pthreadpool.h>
#endif

using namespace weft::pthreadpool_impl;  // NOLINT: this file is its implementation

extern "C" {

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

}  // extern "C"
