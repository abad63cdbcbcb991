// Shutdown: ~Scheduler and Scheduler::try_shutdown_for.
//
// Both begin alike: stopping_ is set (workers leave once they find nothing to run;
// submits from threads outside the scheduler raise; submitters blocked for room are
// woken to raise), parked workers are woken, and the caller waits for the workers to
// leave worker_main (worker_exiting records it under exit_mutex_) and joins them. Then
// what is left (a strict task queued for a worker that had already left, a task that a
// task spawned late) runs on the calling thread, the spare threads are stopped, and the
// scheduler is shut down for good (shut_down_).
//
// try_shutdown_for gives up waiting at its deadline and reports the workers that have
// not left; they keep running (their task may return later) and a later call picks up
// where this one stopped. The destructor waits as long as it takes, except after an
// incomplete try_shutdown_for: the user was told a task may never return, so it waits
// only for workers that are not inside a task, and if one is, it detaches the threads
// still running and leaks the core (finish_for_destruction returns false): a stuck
// task that returns later then runs on in memory that is still valid, finds no work,
// and its worker exits.
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "sched/scheduler_core.hpp"
#include "weft/scheduler.hpp"

namespace weft::detail {

void* SchedulerCore::worker_entry(void* worker) {
  Worker& self = *static_cast<Worker*>(worker);
  self.core->worker_main(self);
  return nullptr;
}

void SchedulerCore::worker_exiting(Worker& self) {
  std::lock_guard<std::mutex> lock(exit_mutex_);
  self.exited = true;
  // Under the lock: the joiner (who may free the core) waits for it, then joins us.
  exit_cv_.notify_all();
}

void SchedulerCore::begin_shutdown() {
  // Only shutdown_mutex_ holders store it: a relaxed look suffices to see our own.
  if (stopping_.load(std::memory_order_relaxed)) return;
  stop_elastic();  // its thread reads the workers' tids; nothing waits on it
  stopping_.store(true, std::memory_order_seq_cst);
  // Workers finish what they can see, then leave (worker_main); wake the parked ones.
  for (auto& w : workers_) w->parker.unpark(Parker::work);
  std::lock_guard<std::mutex> lock(room_mutex_);
  room_cv_.notify_all();
}

bool SchedulerCore::wait_for_workers(std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::vector<Worker*> to_join;
  bool all = true;
  {
    std::unique_lock<std::mutex> lock(exit_mutex_);
    auto all_exited = [this] {
      return std::all_of(workers_.begin(), workers_.end(),
                         [](const std::unique_ptr<Worker>& w) { return w->exited; });
    };
    if (deadline) {
      exit_cv_.wait_until(lock, *deadline, all_exited);
    } else {
      exit_cv_.wait(lock, all_exited);
    }
    for (auto& w : workers_) {
      if (!w->exited) all = false;
      else if (!w->joined) to_join.push_back(w.get());
    }
  }
  // A worker that has left worker_main is about to end: these joins are short.
  for (Worker* w : to_join) {
    pthread_join(w->thread, nullptr);
    w->joined = true;
  }
  return all;
}

void SchedulerCore::drain_here() {
  ThreadContext& context = this_thread_context();
  const ThreadContext saved = context;
  context = ThreadContext{this, nullptr, slots_[0].get(), true};
  context.depth = saved.depth;  // the stack's, not the scheduler's
  for (;;) {
    Work work = find_work_external(slots_[0].get());
    if (!work) break;
    execute(work);
  }
  context = saved;
}

void SchedulerCore::finish_shutdown() {
  drain_here();
  stop_spares();
  // Submitters that were blocked for room have raised and left room_mutex_.
  std::unique_lock<std::mutex> lock(room_mutex_);
  // relaxed: written under room_mutex_.
  room_cv_.wait(lock, [this] { return room_waiters_.load(std::memory_order_relaxed) == 0; });
  shut_down_ = true;
}

ShutdownResult SchedulerCore::stuck_report() {
  ShutdownResult result;
  std::lock_guard<std::mutex> lock(exit_mutex_);
  for (const auto& w : workers_) {
    if (w->exited) continue;
    // relaxed: a report (the name is a literal that outlives the scheduler).
    const char* name = w->running_name.load(std::memory_order_relaxed);
    result.stuck.push_back(ShutdownResult::StuckWorker{w->index, name != nullptr ? name : ""});
  }
  return result;
}

ShutdownResult SchedulerCore::try_shutdown_for(std::chrono::milliseconds timeout) {
  if (this_thread_context().core == this) {
    throw SchedulerError(
        "weft::Scheduler::try_shutdown_for: called from inside one of this scheduler's tasks "
        "(or from a thread waiting on it); it would wait for itself");
  }
  std::lock_guard<std::mutex> lock(shutdown_mutex_);
  ShutdownResult result;
  if (!shut_down_) {
    // Clamped to [0, a century]: milliseconds::max() would overflow the time point.
    const auto longest = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::hours{24 * 365 * 100});
    const auto deadline = std::chrono::steady_clock::now() +
                          std::clamp(timeout, std::chrono::milliseconds{0}, longest);
    begin_shutdown();
    if (!wait_for_workers(deadline)) return stuck_report();
    finish_shutdown();
  }
  result.complete = true;
  return result;
}

bool SchedulerCore::finish_for_destruction() {
  if (this_thread_context().core == this) {
    // A worker cannot join itself, and a waiting thread would return into freed state.
    std::fputs("weft: a Scheduler was destroyed from inside one of its own tasks (on one "
               "of its workers, or on a thread waiting on it); it cannot join itself. "
               "Terminating.\n",
               stderr);
    std::terminate();
  }
  std::lock_guard<std::mutex> lock(shutdown_mutex_);
  if (shut_down_) return true;
  // relaxed: only shutdown_mutex_ holders store it.
  if (!stopping_.load(std::memory_order_relaxed)) {
    begin_shutdown();
    wait_for_workers(std::nullopt);  // as long as the tasks run
  } else {
    // An incomplete try_shutdown_for came first: wait for the workers that are between
    // tasks (they leave at once), not for one inside a task (it may never return).
    for (;;) {
      if (wait_for_workers(std::chrono::steady_clock::now() + std::chrono::milliseconds{1}))
        break;
      bool any_idle = false;
      {
        std::lock_guard<std::mutex> exit_lock(exit_mutex_);
        for (const auto& w : workers_) {
          // relaxed: a hint (see Worker::running_level); a worker seen idle is waited for.
          if (!w->exited && w->running_level.load(std::memory_order_relaxed) >= num_levels)
            any_idle = true;
        }
      }
      if (!any_idle) {
        leak_stuck();
        return false;
      }
    }
  }
  finish_shutdown();
  return true;
}

void SchedulerCore::leak_stuck() {
  const ShutdownResult report = stuck_report();
  std::string which;
  for (const auto& stuck : report.stuck) {
    if (!which.empty()) which += ", ";
    which += std::to_string(stuck.worker);
    if (!stuck.task.empty()) which += " (task '" + stuck.task + "')";
  }
  std::fprintf(stderr,
               "weft: ~Scheduler after an incomplete try_shutdown_for: worker %s still runs a "
               "task; detaching its thread and leaking the scheduler's state, so that the task "
               "never touches freed memory if it returns\n",
               which.c_str());
  for (auto& w : workers_) {
    if (w->started && !w->joined) {
      pthread_detach(w->thread);
      w->joined = true;
    }
  }
  // Spares may be helping a stuck worker's deep wait: they stay too.
  std::lock_guard<std::mutex> lock(spares_.mutex);
  for (pthread_t thread : spares_.running) pthread_detach(thread);
  for (pthread_t thread : spares_.exited) pthread_detach(thread);
  spares_.running.clear();
  spares_.exited.clear();
}

}  // namespace weft::detail
