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
// Priority: a task's options left unset inherit the calling thread's current priority.
// A group made by high or critical work on a worker is boosted when that work waits on
// it: the group's queued lower tasks run first, at the waiter's level, by the waiter
// and by idle workers (docs/priorities.md, "No priority inversion").
//
// The destructor waits for unfinished tasks; an exception nobody collected with wait()
// is then discarded (a destructor cannot throw). Call wait() to see it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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

// Bytes GroupState keeps for priority boosting's record (src/sched/group_boosting.hpp
// checks that it fits). Opaque here, so that the record's layout is not part of the ABI.
inline constexpr std::size_t group_boosting_bytes = 64;

struct GroupState {
  WaitState pending;
  std::atomic<bool> cancelled{false};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // written once by the task that set `failed`
  // Made by high or critical work on a worker (set_group_home): only such a group's
  // wait may be boosted, so TaskGroup picks the wait inline.
  bool urgent_home = false;
  alignas(8) unsigned char boosting[group_boosting_bytes];  // set_group_home fills it
};

// Records the calling thread's worker (if it is one of `core`'s) as the group's home
// and sets group.urgent_home to whether that worker runs urgent work now.
WEFT_EXPORT void set_group_home(SchedulerCore* core, GroupState& group) noexcept;
// After a wait of an urgent_home group, before reuse: forgets where its tasks were
// queued.
WEFT_EXPORT void forget_group_placement(GroupState& group) noexcept;
// wait_on for a group, boosted: a waiter running work of a higher priority than the
// group's queued tasks runs them first and lets idle workers find them first, and tasks
// queued into the group meanwhile take the waiter's priority. Defined in priority.cpp.
WEFT_EXPORT void wait_on_group(SchedulerCore* core, GroupState& group);

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
  explicit TaskGroup(Scheduler& scheduler) noexcept : core_(scheduler.core_.get()) {
    detail::set_group_home(core_, state_);
  }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() {
    if (!state_.pending.done()) wait_for_tasks();
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
      detail::discard_task(task);
      state_.pending.finish_one();
      throw;
    }
  }

  // Waits for every task of the group (running queued tasks meanwhile), then rethrows
  // the first exception one of them threw.
  void wait() {
    if (!state_.pending.done()) wait_for_tasks();
    // relaxed: every task of the group has finished; only this thread touches the flags.
    state_.cancelled.store(false, std::memory_order_relaxed);
    if (state_.urgent_home) detail::forget_group_placement(state_);
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
  // Only a group made by urgent work on a worker may be boosted: other waits skip the
  // boosting checks altogether.
  void wait_for_tasks() {
    if (state_.urgent_home) {
      detail::wait_on_group(core_, state_);
    } else {
      detail::wait_on(core_, state_.pending);
    }
  }

  detail::SchedulerCore* core_;
  detail::GroupState state_;
};

}  // namespace weft
