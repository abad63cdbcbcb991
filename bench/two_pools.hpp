// The weft scheduler and the oneTBB arena of the benchmarks that compare them at a fixed
// thread count (caller included), one of each per process.
#pragma once

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include "weft/scheduler.hpp"

namespace weft::bench {

// Config::from_env() (so WEFT_PINNING, WEFT_ADAPTIVE etc. still apply) at `threads`.
template <unsigned threads>
weft::Scheduler& weft_sched() {
  static weft::Scheduler sched([] {
    weft::Config config = weft::Config::from_env();
    config.num_threads = threads;
    return config;
  }());
  return sched;
}

template <unsigned threads>
tbb::task_arena& tbb_arena() {
  static tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
  static tbb::task_arena arena(static_cast<int>(threads));
  return arena;
}

}  // namespace weft::bench
