// weft::Metrics — what the scheduler's workers did during a window of time.
//
//   weft::Metrics m = sched.metrics();   // since construction or the last reset_metrics()
//   std::puts(m.to_string().c_str());    // a table: one row per worker plus totals
//   save(m.to_json());                   // the same numbers for scripts
//
// Every number counts what happened inside the window. Times are nanoseconds of the
// monotonic clock (CLOCK_MONOTONIC). A field the machine cannot provide (no perf
// events in a container, no cgroup cpu.stat, the thread already gone) is std::nullopt,
// never a guess and never zero standing in for "unknown".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/export.hpp"

namespace weft {

struct WorkerMetrics {
  // Where the worker is: its index in Placement::workers, the logical core and NUMA
  // node the placement gave it (Pinning::none leaves it free to run elsewhere), and the
  // OS CPU id it was last seen running on (sched_getcpu at its last state change).
  // -1: the totals row, or unknown.
  int worker = -1;
  int core = -1;
  int numa_node = -1;
  int last_cpu = -1;
  // A background worker (Config::background_workers): runs only low work, at the OS's
  // idle class. Its rows follow the placement's workers.
  bool background = false;

  // Work done, per Priority (index: low, normal, high, critical).
  std::array<std::uint64_t, num_priorities> tasks_run{};
  std::uint64_t loop_chunks = 0;  // parts of parallel loops this worker ran

  // Work stealing: victims scanned, and steals that returned a task, split by how far
  // the victim was (sharing this worker's L3, on its NUMA node, on another node).
  std::uint64_t steals_attempted = 0;
  std::uint64_t steals_succeeded = 0;
  std::uint64_t steals_same_l3 = 0;
  std::uint64_t steals_same_numa = 0;
  std::uint64_t steals_remote = 0;

  // Where the time went; busy + spinning + parked == the window (up to the skew of
  // one clock read on a live scheduler).
  // Running tasks or loop parts, or searching right after being woken; a worker that
  // has run nothing since it started reads 0.
  std::uint64_t busy_ns = 0;
  std::uint64_t spinning_ns = 0;  // idle, polling for work before sleeping
  std::uint64_t parked_ns = 0;    // asleep until woken
  std::uint64_t parks = 0;        // times it went to sleep
  std::uint64_t wakeups = 0;      // times it woke up

  // The OS's view of the worker thread. Involuntary switches mean another runnable
  // thread took its CPU (oversubscription); migrations mean it changed CPU.
  std::optional<std::uint64_t> voluntary_switches;
  std::optional<std::uint64_t> involuntary_switches;
  std::uint64_t migrations = 0;

  // Tasks waiting in the worker's own queues when the snapshot was taken, per Priority.
  std::array<std::uint64_t, num_priorities> queue_depth{};

  // Hardware counters of the worker thread, user space only (Config::hardware_counters).
  std::optional<std::uint64_t> cache_references;
  std::optional<std::uint64_t> cache_misses;
  std::optional<std::uint64_t> instructions;

  std::uint64_t tasks_total() const {
    std::uint64_t n = 0;
    for (std::uint64_t t : tasks_run) n += t;
    return n;
  }
};

struct WEFT_EXPORT Metrics {
  std::vector<WorkerMetrics> workers;
  std::uint64_t window_ns = 0;  // length of the window these numbers cover

  // Scheduler-wide health.
  double cpu_budget = 0;  // CPUs this process may use (Placement::cpu_budget)
  // The cgroup CPU controller throttled the process's cgroup this many times, for this
  // long, during the window (cpu.stat nr_throttled and throttled_usec / throttled_time).
  // nullopt: no cgroup cpu.stat with throttling statistics.
  std::optional<std::uint64_t> throttled_periods;
  std::optional<std::uint64_t> throttled_ns;
  // Spinning workers skipped because they were being preempted (oversubscription):
  // summed over parks, Config::spin minus the spin budget actually used.
  std::uint64_t spin_cut_ns = 0;
  // Spinning past Config::spin (part of spinning_ns): workers woken soon after they
  // parked, again and again, spin up to Config::spin_max to catch the next work awake.
  std::uint64_t spin_extended_ns = 0;
  // Unbound workers that found themselves on the CPU of the thread that invited them
  // into a loop or team, and moved to another CPU (docs/scheduler.md, "Off the
  // caller's CPU"). Always 0 with bound workers (Config::pinning).
  std::uint64_t steps_aside = 0;
  // Unbound workers still running a loop part when its caller, having waited
  // Config::spin plus 100 us at the join, moved them onto its own CPU before sleeping
  // (docs/elastic.md, "The join"). Always 0 with bound workers.
  std::uint64_t stragglers_pulled = 0;
  // The most tasks queued and not yet started at one time during the window (the
  // high-water mark of what Config::max_queued limits); it starts each window at the
  // count queued then. nullopt with QueuePolicy::unbounded, which counts nothing.
  std::optional<std::uint64_t> queued_high_water;
  // Config::adaptive: the threads loops invite now (nullopt: adaptive is off), how many
  // times that width changed since the scheduler started, and why it last changed ("":
  // never). Not reset with the window: the width is state, not a count.
  std::optional<unsigned> adaptive_threads;
  std::uint64_t adaptive_changes = 0;
  std::string adaptive_reason;

  // Sums over the workers (worker/core/numa_node/last_cpu are -1). An optional field is
  // set only when every worker has it.
  WorkerMetrics totals;
  // Busiest worker's busy time over the mean busy time; 1.0 = perfectly even (also when
  // no worker was busy).
  double imbalance = 1.0;

  // One JSON object: {"window_ns":..., "cpu_budget":..., ..., "totals":{...},
  // "workers":[{...}, ...]}; unavailable values are null.
  std::string to_json() const;
  // A readable table: a header, one row per worker, a totals row, then the health lines.
  std::string to_string() const;
};

}  // namespace weft
