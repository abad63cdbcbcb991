// weft::EigenThreadPool: Eigen's ThreadPoolInterface run by a weft::Scheduler, so that
// Eigen Tensor expressions (contractions, convolutions, reductions) evaluated on an
// Eigen::ThreadPoolDevice share weft's pinned workers with the rest of the program.
// Header-only; needs Eigen 3.3 or later (libeigen3-dev).
//
//   #define EIGEN_USE_THREADS
//   #include <unsupported/Eigen/CXX11/Tensor>
//   #include <weft/eigen.hpp>
//
//   weft::Scheduler sched(cfg);
//   weft::EigenThreadPool pool(sched, weft::Priority::critical);
//   Eigen::ThreadPoolDevice device(&pool, pool.NumThreads());
//   c.device(device) = a.contract(b, dims);
//
// Threads. Eigen's pools count only their own threads: Eigen::ThreadPool(n) runs
// closures on n threads while the thread that called into Eigen blocks on a Barrier.
// The adapter does the same: NumThreads() is the scheduler's worker count
// (Scheduler::num_threads() - 1, which counts the caller) and CurrentThreadId() is the
// worker index, in [0, NumThreads()) on this scheduler's workers and -1 on any other
// thread, so per-thread scratch sized by NumThreads() and indexed by CurrentThreadId()
// is safe. A thread that is not a worker (-1) may still run a closure of this pool while
// it waits inside weft (Future::wait, TaskGroup::wait, this adapter's destructor help
// with queued work), as it may run any weft task; give -1 its own scratch slot.
//
// Closures run as weft tasks at the adapter's priority; left unset (the default), each
// closure inherits the priority of the thread that schedules it, so a contraction
// evaluated inside a critical request runs at critical (weft::current_priority()). ScheduleWithHint(fn, start, end)
// queues the closure at one worker of [start, end) (TaskOptions::worker, not strict: an
// idle worker elsewhere may still steal it). A closure that throws terminates the
// program, as it would on an Eigen::ThreadPool thread.
//
// Lifetime: the destructor waits until every closure scheduled so far has finished (or
// been skipped after Cancel()), helping to run them meanwhile; no closure runs after it
// returns. Destroy the adapter before its scheduler.
//
// Blocking: Eigen's ThreadPoolDevice blocks the calling thread on a Barrier while the
// closures run, like with Eigen's own pool; don't evaluate a blocking Eigen expression
// on this pool from inside one of its own closures if every worker might be doing the
// same (all would wait, none would run the closures; Eigen's pool has the same rule).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <utility>

#include <unsupported/Eigen/CXX11/ThreadPool>

#include "weft/config.hpp"
#include "weft/detail/options_check.hpp"
#include "weft/options.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace weft {

class EigenThreadPool final : public Eigen::ThreadPoolInterface {
 public:
  // Raises ConfigError for a priority that is not a Priority (as submit would), here
  // rather than from inside Eigen's first Schedule, where Eigen could not handle it.
  explicit EigenThreadPool(Scheduler& scheduler, std::optional<Priority> priority = std::nullopt)
      : scheduler_(scheduler), group_(scheduler), priority_(checked(scheduler, priority)) {}

  // group_'s destructor waits for (and helps run) every closure scheduled so far.
  ~EigenThreadPool() override = default;

  EigenThreadPool(const EigenThreadPool&) = delete;
  EigenThreadPool& operator=(const EigenThreadPool&) = delete;

  void Schedule(std::function<void()> fn) override {
    TaskOptions options;
    options.priority = priority_;
    options.name = "eigen";
    run(std::move(fn), options);
  }

  void ScheduleWithHint(std::function<void()> fn, int start, int end) override {
    TaskOptions options;
    options.priority = priority_;
    options.name = "eigen";
    const int workers = NumThreads();
    if (start >= 0 && start < end && end <= workers) {
      const int self = CurrentThreadId();
      if (self >= start && self < end) {
        options.worker = self;  // already in range: keep the closure local
      } else {
        // Spread closures over the range. Relaxed: any interleaving is a fine spread.
        const unsigned n = next_hint_.fetch_add(1, std::memory_order_relaxed);
        options.worker = start + static_cast<int>(n % static_cast<unsigned>(end - start));
      }
    }
    run(std::move(fn), options);
  }

  // Closures that have not started yet are skipped, and so is every closure scheduled
  // from now on; running closures finish.
  void Cancel() override { group_.cancel(); }

  int NumThreads() const override {
    return static_cast<int>(scheduler_.placement().workers.size());
  }

  // A background worker (which runs low-priority closures) reads as a thread outside the
  // pool (-1), as Eigen allows: ids stay below NumThreads(), which Eigen sizes
  // per-thread state with.
  int CurrentThreadId() const override {
    const int worker = scheduler_.current_worker();
    return worker < NumThreads() ? worker : -1;
  }

  std::optional<Priority> priority() const noexcept { return priority_; }
  Scheduler& scheduler() const noexcept { return scheduler_; }

 private:
  static std::optional<Priority> checked(const Scheduler& scheduler,
                                        std::optional<Priority> priority) {
    TaskOptions options;
    options.priority = priority;
    if (detail::may_be_invalid(options)) detail::check_options(options, scheduler.placement());
    return priority;
  }

  void run(std::function<void()> fn, const TaskOptions& options) {
    // noexcept: an exception escaping a closure terminates, as on Eigen's own threads.
    // (A TaskGroup would otherwise cancel every later closure, and Eigen's Barriers
    // would then wait forever.)
    group_.run([fn = std::move(fn)]() noexcept { fn(); }, options);
  }

  Scheduler& scheduler_;
  TaskGroup group_;
  const std::optional<Priority> priority_;
  std::atomic<unsigned> next_hint_{0};
};

}  // namespace weft
