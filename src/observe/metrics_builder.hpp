// Builds a weft::Metrics window from two samples of cumulative values: the baseline
// taken when the window began and the current one. Pure: tests feed it made-up
// samples; the Observer takes the samples from the live counters.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "observe/cgroup_stats.hpp"
#include "observe/perf_counters.hpp"
#include "observe/thread_stats.hpp"
#include "observe/worker_counters.hpp"
#include "weft/metrics.hpp"

namespace weft::detail {

// One worker's cumulative numbers at one instant.
struct WorkerSample {
  CounterSnapshot counters;
  std::optional<ContextSwitches> switches;  // nullopt: thread not started, gone, no /proc
  std::optional<HardwareCounts> hardware;   // nullopt: perf events unavailable
};

struct MetricsSample {
  std::uint64_t now_ns = 0;
  std::vector<WorkerSample> workers;
  std::optional<CpuStat> cpu_stat;
};

// What does not change over time: where each worker is, the CPU budget.
struct WorkerPlace {
  int core = -1;
  int numa_node = -1;
  bool background = false;  // WorkerPlacement::background
};

// current - baseline per field (saturating at 0). A value available now but not at
// the baseline counts from zero: the thread (or its perf group) started inside the
// window. That does not apply to the cgroup's cpu.stat, which exists for the process's
// whole life: unavailable at either end means unavailable. `queue_depths` may be empty
// (all zero) or hold one entry per worker.
Metrics build_metrics(const MetricsSample& baseline, const MetricsSample& current,
                      const std::vector<WorkerPlace>& places, double cpu_budget,
                      const std::vector<std::array<std::uint64_t, num_priorities>>& queue_depths = {});

}  // namespace weft::detail
