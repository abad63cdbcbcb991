// weft::Future<T>: the result of Scheduler::submit.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "weft/detail/task.hpp"
#include "weft/detail/wait.hpp"
#include "weft/export.hpp"

namespace weft {

namespace detail {
class SchedulerCore;
// Blocks until `state` is done; the calling thread runs other tasks of `core`
// meanwhile (so tasks may wait on tasks without deadlock). Defined in src/sched.
WEFT_EXPORT void wait_on(SchedulerCore* core, WaitState& state);
// wait_on for a Future's task, boosted: if the task is still queued the waiting thread
// runs it at once, ahead of everything else queued (no priority inversion behind
// unrelated work). Defined in src/sched/priority.cpp.
WEFT_EXPORT void wait_on_task(SchedulerCore* core, Task* task);
}  // namespace detail

// The eventual result of a submitted task. Move-only, like std::future. Dropping a
// Future without waiting is fine: the task still runs, its result is discarded.
template <class T>
class Future {
 public:
  Future() = default;
  Future(Future&& other) noexcept
      : core_(other.core_), task_(std::exchange(other.task_, nullptr)) {}
  Future& operator=(Future&& other) noexcept {
    if (this != &other) {
      reset();
      core_ = other.core_;
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  ~Future() { reset(); }

  // False for a default-constructed or moved-from Future, and after get().
  bool valid() const noexcept { return task_ != nullptr; }
  // True once the task has finished (returned or thrown). Never blocks.
  bool ready() const noexcept { return task_->completion.done(); }
  // Blocks until the task finished; the calling thread runs other tasks meanwhile.
  void wait() const {
    if (!task_->completion.done()) detail::wait_on_task(core_, task_);
  }
  // Waits, then returns the result or rethrows the task's exception. Call once: the
  // Future is empty (valid() == false) afterwards.
  T get() {
    wait();
    Release release{std::exchange(task_, nullptr)};
    // Taken out of the task block: the block may be freed by its last holder (a worker)
    // while the caller still handles the exception, which then owns it alone.
    if (release.task->error) std::rethrow_exception(std::exchange(release.task->error, nullptr));
    if constexpr (!std::is_void_v<T>) return std::move(release.task->template get<T>());
  }

 private:
  friend class Scheduler;
  Future(detail::SchedulerCore* core, detail::Task* task) noexcept : core_(core), task_(task) {}

  struct Release {
    detail::Task* task;
    ~Release() { detail::release_task(task); }
  };
  void reset() noexcept {
    if (task_ != nullptr) detail::release_task(std::exchange(task_, nullptr));
  }

  detail::SchedulerCore* core_ = nullptr;
  detail::Task* task_ = nullptr;
};

namespace detail {

// The task function behind submit(): runs Fn, stores its result R (or exception) in
// the same block, then completes the Future's WaitState.
template <class Fn, class R>
void future_task_fn(Task* task, TaskOp op) noexcept {
  switch (op) {
    case TaskOp::run: {
      bool fn_alive = true;
      try {
        if constexpr (std::is_void_v<R>) {
          task->get<Fn>()();
        } else {
          R result = task->get<Fn>()();
          task->destroy<Fn>();
          fn_alive = false;
          task->emplace<R>(std::move(result));
          task->has_result = 1;
        }
      } catch (...) {
        task->error = std::current_exception();
      }
      if (fn_alive) task->destroy<Fn>();
      task->completion.finish_one();
      break;
    }
    case TaskOp::destroy:
      if constexpr (!std::is_void_v<R>) {
        if (task->has_result != 0) task->destroy<R>();
      }
      break;
    case TaskOp::discard:
      task->destroy<Fn>();
      break;
  }
}

}  // namespace detail
}  // namespace weft
