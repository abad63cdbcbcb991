// The thread behind Config::adaptive: every period it samples the pressure on the
// scheduler's workers (run-queue delay, cgroup throttling, and every tenth period the
// CPU budget), asks ElasticPolicy for a loop width and applies it. One thread per
// scheduler with adaptive on, asleep between samples; nothing of it is on the path of
// a loop or a task, which only read the width (SchedulerCore::num_threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "sched/elastic_policy.hpp"

namespace weft::detail {

class ElasticMonitor {
 public:
  // `sample(reread_budget)` measures the window since its previous call; `apply` gets
  // every decision (the width, and a reason when it changed). Both run on the
  // monitor's thread only.
  using Sampler = std::function<PressureSample(bool reread_budget)>;
  using Apply = std::function<void(const WidthDecision&)>;

  // Budget re-reads are every `budget_every` periods: the affinity mask and the quota
  // change rarely (a pod resize, taskset), and reading them costs a few file reads.
  static constexpr unsigned budget_every = 10;

  ElasticMonitor(ElasticPolicy policy, std::chrono::milliseconds period, Sampler sample,
                 Apply apply);
  ~ElasticMonitor();  // stops the thread and joins it
  ElasticMonitor(const ElasticMonitor&) = delete;
  ElasticMonitor& operator=(const ElasticMonitor&) = delete;

  // One period's work, as the thread does it; tests call it to step the monitor.
  void tick();

 private:
  void run();

  ElasticPolicy policy_;
  const std::chrono::milliseconds period_;
  Sampler sample_;
  Apply apply_;
  unsigned ticks_ = 0;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

// The sampler of a real scheduler: each worker's run-queue delay (from the tids the
// observer recorded), the process cgroup's cpu.stat, and the budget re-read from the
// affinity mask and the cgroup quota. `tids()` lists the workers' kernel ids (0: not
// started yet, skipped).
ElasticMonitor::Sampler proc_pressure_sampler(std::function<std::vector<int>()> tids);

}  // namespace weft::detail
