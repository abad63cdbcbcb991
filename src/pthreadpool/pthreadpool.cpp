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

#include <dlfcn.h>
#include <sched.h>

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

#include "grid.hpp"

using namespace weft::pthreadpool_impl;  // NOLINT: this file is its implementation

namespace {

struct MakeScheduler {
  const weft::Placement* placement;
  const weft::Config* config;
  std::unique_ptr<weft::Scheduler> made;
  std::exception_ptr error;
};

void make_scheduler(void* job) {
  auto& make = *static_cast<MakeScheduler*>(job);
  try {
    make.made = std::make_unique<weft::Scheduler>(*make.placement, *make.config);
  } catch (...) {
    make.error = std::current_exception();
  }
}

// A pool's workers inherit the class of the thread that creates them. A thread that
// libweft_gomp's weft_set_thread_priority(0) moved to the idle class cannot start
// normal-class threads, and PyTorch recreates its one pthreadpool from whichever thread
// runs its first parallel operator, a low one included: such a pool would serve urgent
// callers with idle-class workers. libweft_gomp then keeps a normal-class thread that
// makes them instead (src/gomp/thread_class.cpp); without it loaded, or from any other
// thread, the caller makes them as before.
std::unique_ptr<weft::Scheduler> make_pool_scheduler(const weft::Placement& placement,
                                                     const weft::Config& config) {
  MakeScheduler make{&placement, &config, nullptr, nullptr};
  using RunAtNormalClass = int (*)(void (*)(void*), void*);
  const auto run_at_normal_class =
      sched_getscheduler(0) == SCHED_IDLE
          ? reinterpret_cast<RunAtNormalClass>(dlsym(RTLD_DEFAULT, "weft_run_at_normal_class"))
          : nullptr;
  if (run_at_normal_class == nullptr || run_at_normal_class(make_scheduler, &make) == 0) {
    make_scheduler(&make);
  }
  if (make.error) std::rethrow_exception(make.error);
  return std::move(make.made);
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
        pool->scheduler = make_pool_scheduler(placement, config);
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
