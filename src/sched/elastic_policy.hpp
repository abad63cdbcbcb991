// Elastic loop width: how many threads loops invite, from what the machine does to the
// scheduler's threads (Config::adaptive). Pure: a window's measurements in, a width
// and its reason out, so that the rules are tested without a loaded machine
// (tests/sched/sched_elastic_test.cpp). elastic_monitor.cpp feeds it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace weft::detail {

// What one window (Config's elastic period, ~100 ms) showed.
struct PressureSample {
  double window_ns = 0;
  // Summed over the workers sampled: time runnable but waiting for a CPU
  // (/proc/self/task/<tid>/schedstat, second field), and how many were sampled.
  double run_delay_ns = 0;
  unsigned workers = 0;
  // Periods in which the cgroup's CPU quota stopped the process (cpu.stat
  // nr_throttled), during the window; nullopt without a cgroup cpu.stat.
  std::optional<std::uint64_t> throttled_periods;
  // Threads the CPU budget covers now (affinity mask, ceil of the cgroup quota), caller
  // included; nullopt when it was not re-read in this window.
  std::optional<unsigned> budget_threads;
};

// The width decided after a window, and why it changed ("" when it did not).
struct WidthDecision {
  unsigned width = 0;
  std::string reason;
};

class ElasticPolicy {
 public:
  // Thresholds, as fractions of the window each sampled worker spent waiting for a CPU.
  // Above `oversubscribed`, a worker gets less than a third of a core: a thread fewer
  // loses little and spares the core. Below `calm`, a thread more would get its core.
  static constexpr double oversubscribed = 0.67;
  static constexpr double calm = 0.2;
  // Calm windows in a row before a thread comes back; doubled each time pressure
  // returns right after a thread came back (up to `max_calm_windows`), so that a width
  // that keeps bringing the pressure back settles instead of oscillating.
  static constexpr unsigned first_calm_windows = 3;
  static constexpr unsigned max_calm_windows = 48;

  // `capacity`: the threads loops may use (the caller and every worker); `min_threads`:
  // the fewest they keep (Config::min_workers + 1), at most `capacity`.
  ElasticPolicy(unsigned capacity, unsigned min_threads);

  WidthDecision next(const PressureSample& sample);
  unsigned width() const { return width_; }

 private:
  unsigned capacity_;
  unsigned min_threads_;
  unsigned ceiling_;  // the budget's threads, at most capacity_
  unsigned width_;
  unsigned calm_needed_ = first_calm_windows;
  unsigned calm_seen_ = 0;
  bool just_grew_ = false;
};

}  // namespace weft::detail
