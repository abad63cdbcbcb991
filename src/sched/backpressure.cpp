// Backpressure: Config::max_queued with QueuePolicy block or reject.
//
// What is counted: tasks queued and not yet started (queued_): +1 in enqueue before the
// task becomes visible, -1 when a thread starts it (execute; run_ahead for a Future's
// waiter that runs it first). Only with block or reject (counting_): the counter is one
// shared cache line that every queued and every started task writes, two atomic RMWs
// per task that QueuePolicy::unbounded does not pay. Loops (parallel_for) queue no
// tasks and never touch it.
//
// Who is held back: a submit from a thread that runs none of this scheduler's tasks.
// A task's own spawns (on a worker, on a thread helping in a wait, on a spare thread)
// are counted but always accepted: holding the thread that submits from inside a task
// until the queue drains could deadlock, since it may be the one that would drain it
// (every worker waiting for room, nobody starting anything).
//
// Blocking (a Dekker pair, so no wake-up is lost): a blocked submitter increments
// room_waiters_ and then reads queued_; a starter decrements queued_ and then reads
// room_waiters_ (all seq_cst). Either the submitter sees the room, or the starter sees
// the waiter and notifies under room_mutex_, which the submitter holds from before its
// increment until the condition variable's wait releases it.
#include <string>

#include "sched/scheduler_core.hpp"
#include "weft/scheduler.hpp"

namespace weft::detail {

void SchedulerCore::admit(bool inside) {
  if (inside) {
    // relaxed: a count; the queue's push publishes the task itself.
    note_queued(queued_.fetch_add(1, std::memory_order_relaxed) + 1);
    return;
  }
  const std::uint64_t max = config_.max_queued;
  std::uint64_t queued = queued_.load(std::memory_order_relaxed);
  for (;;) {
    if (queued < max) {
      // relaxed: as above; the CAS keeps outside submits within max_queued.
      if (queued_.compare_exchange_weak(queued, queued + 1, std::memory_order_relaxed)) {
        note_queued(queued + 1);
        return;
      }
      continue;
    }
    if (config_.queue_policy == QueuePolicy::reject) {
      throw QueueFullError("weft::Scheduler::submit: " + std::to_string(queued) +
                           " tasks are queued and not started, Config::max_queued is " +
                           std::to_string(max) +
                           " (QueuePolicy::reject); the task was not taken");
    }
    std::unique_lock<std::mutex> lock(room_mutex_);
    wait_for_room(lock);
    queued = queued_.load(std::memory_order_relaxed);
  }
}

void SchedulerCore::wait_for_room(std::unique_lock<std::mutex>& lock) {
  // seq_cst: the submitter's half of the Dekker pair (see the top of this file).
  room_waiters_.fetch_add(1, std::memory_order_seq_cst);
  for (;;) {
    // Shutdown began (begin_shutdown notifies under room_mutex_ after setting it): a
    // blocked submitter raises like any submit from outside would now, even if the
    // shutdown's draining just made room (its task would come too late to be run).
    if (stopping_.load(std::memory_order_seq_cst)) {
      room_waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: under the mutex
      room_cv_.notify_all();  // the shutting-down thread waits for us to leave
      throw SchedulerError(
          "weft::Scheduler::submit: the scheduler is being destroyed or was shut down "
          "(try_shutdown_for) while this submit waited for room (QueuePolicy::block)");
    }
    if (queued_.load(std::memory_order_seq_cst) < config_.max_queued) break;
    room_cv_.wait(lock);
  }
  room_waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: under the mutex
}

void SchedulerCore::task_started() {
  // seq_cst: the starter's half of the Dekker pair.
  queued_.fetch_sub(1, std::memory_order_seq_cst);
  if (room_waiters_.load(std::memory_order_seq_cst) != 0) {
    // One slot freed, one submitter let in; the lock only while someone is blocked.
    std::lock_guard<std::mutex> lock(room_mutex_);
    room_cv_.notify_one();
  }
}

void SchedulerCore::note_queued(std::uint64_t queued) {
  // relaxed: a statistic; the CAS only keeps the maximum.
  std::uint64_t high = queued_high_water_.load(std::memory_order_relaxed);
  while (queued > high &&
         !queued_high_water_.compare_exchange_weak(high, queued, std::memory_order_relaxed)) {
  }
}

void SchedulerCore::reset_queued_high_water() {
  // relaxed: a new window starts at what is queued now (a snapshot, like the metrics).
  queued_high_water_.store(queued_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

}  // namespace weft::detail
