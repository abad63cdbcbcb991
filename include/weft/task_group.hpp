// weft::TaskGroup: structured fork-join on a Scheduler.
//
//   weft::TaskGroup g(sched);
//   g.run([&] { left = fib(n - 1); });
//   g.run([&] { right = fib(n - 2); });
//   g.wait();     // runs tasks while it waits; rethrows the first exception
//
// wait() may be called from any thread (one thread at a time per group), at any
// nesting depth (tasks running groups that wait): the waiting thread executes queued
// tasks meanwhile, so nesting never deadlocks. run() may be called from any thread,
// including from the group's own tasks. The first exception a task throws cancels the group's remaining tasks and
// is rethrown by wait(). cancel() skips every task that has not started yet. After
// wait() returns (or throws) the group is empty and not cancelled, ready for reuse.
//
// The destructor waits for unfinished tasks; an exception nobody collected with wait()
// is then discarded (a destructor cannot throw). Call wait() to see it.
#pragma once

#include <atomic>
#include <exception>
#include <type_traits>
#include <utility>

#include "weft/detail/task.hpp"
#include "weft/detail/wait.hpp"
#include "weft/future.hpp"
#include "weft/options.hpp"
#include "weft/scheduler.hpp"

namespace weft {

namespace detail {

struct GroupState {
  WaitState pending;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // written once by the task that set `failed`
};

template <class Fn>
void group_task_fn(Task* task, TaskOp op) noexcept {
  if (op == TaskOp::destroy) return;  // the callable is gone after run
  if (op == TaskOp::discard) {
    task->destroy<Fn>();
    return;
  }
  auto* group = static_cast<GroupState*>(task->owner);
  // relaxed: cancellation is advisory; a task that misses a concurrent cancel just runs.
  if (!group->cancelled.load(std::memory_order_relaxed)) {
    try {
      task->get<Fn>()();
    } catch (...) {
      // acq_rel: exactly one thread wins and writes `error`; its release (with the
      // finish_one below) publishes `error` to the waiter.
      if (!group->failed.exchange(true, std::memory_order_acq_rel)) {
        group->error = std::current_exception();
      }
      group->cancelled.store(true, std::memory_order_relaxed);
    }
  }
  task->destroy<Fn>();
  group->pending.finish_one();  // the group may be gone after this
}

}  // namespace detail

class TaskGroup {
 public:
  explicit TaskGroup(Scheduler& scheduler) noexcept : core_(scheduler.core_) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() {
    if (!state_.pending.done()) detail::wait_on(core_, state_.pending);
  }

  // Queues f() as part of this group. Raises like Scheduler::submit (bad hint,
  // scheduler being destroyed); then f is not queued.
  template <class F>
  void run(F&& f, const TaskOptions& options = {}) {
    using Fn = std::decay_t<F>;
    detail::Task* task = detail::make_task<Fn>(std::forward<F>(f));
    task->fn = &detail::group_task_fn<Fn>;
    task->owner = &state_;
    state_.pending.add(1);
    try {
      detail::enqueue(core_, task, options);
    } catch (...) {
      task->fn(task, detail::TaskOp::discard);
      task->~Task();
      detail::free_task(task);
      state_.pending.finish_one();
      throw;
    }
  }

  // Waits for every task of the group (running queued tasks meanwhile), then rethrows
  // the first exception one of them threw.
  void wait() {
    if (!state_.pending.done()) detail::wait_on(core_, state_.pending);
    // relaxed: every task of the group has finished; only this thread touches the flags.
    state_.cancelled.store(false, std::memory_order_relaxed);
    // acquire: pairs with the failing task's exchange (also ordered by finish_one).
    if (state_.failed.load(std::memory_order_acquire)) {
      std::exception_ptr error = std::move(state_.error);
      state_.error = nullptr;
      state_.failed.store(false, std::memory_order_relaxed);
      std::rethrow_exception(error);
    }
  }

  // Tasks of this group that have not started yet will be skipped.
  // relaxed: advisory (see group_task_fn); the push of any later task orders it anyway.
  void cancel() noexcept { state_.cancelled.store(true, std::memory_order_relaxed); }
  bool is_cancelled() const noexcept {
    return state_.cancelled.load(std::memory_order_relaxed);
  }

 private:
  detail::SchedulerCore* core_;
  detail::GroupState state_;
};

}  // namespace weft
