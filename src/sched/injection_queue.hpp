// A multi-producer multi-consumer FIFO of tasks for work that arrives from outside a
// worker's own deque: submits from external threads, affinity hints, strict tasks.
//
// The fast path is D. Vyukov's bounded MPMC ring (a sequence number per cell; one CAS
// per push or pop, no lock, no allocation). When the ring is full, tasks go to an
// intrusive overflow list under a mutex (no allocation either: Task::next links it);
// that only happens when producers outrun consumers by `capacity` tasks.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

#include "weft/detail/task.hpp"

namespace weft::detail {

class InjectionQueue {
 public:
  explicit InjectionQueue(std::size_t capacity = 256)  // a power of two
      : mask_(capacity - 1), cells_(new Cell[capacity]) {
    // relaxed: no other thread sees the queue before its owner is published.
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  void push(Task* task) {
    if (!try_push_ring(task)) push_overflow(task);
  }

  // nullptr when empty.
  Task* pop() {
    if (Task* task = try_pop_ring()) return task;
    // relaxed: a hint; a task pushed concurrently is found by the caller's next scan,
    // which the parking protocol guarantees happens before anyone sleeps.
    if (overflow_size_.load(std::memory_order_relaxed) == 0) return nullptr;
    return pop_overflow();
  }

  // Approximate length for metrics (relaxed: a snapshot, possibly stale).
  std::size_t size_hint() const {
    std::size_t in = enqueue_pos_.load(std::memory_order_relaxed);
    std::size_t out = dequeue_pos_.load(std::memory_order_relaxed);
    return (in > out ? in - out : 0) + overflow_size_.load(std::memory_order_relaxed);
  }

  // A cheap, possibly stale hint (relaxed loads; the caller re-checks by popping).
  bool maybe_nonempty() const {
    return enqueue_pos_.load(std::memory_order_relaxed) !=
               dequeue_pos_.load(std::memory_order_relaxed) ||
           overflow_size_.load(std::memory_order_relaxed) != 0;
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq;
    Task* task = nullptr;  // guarded by seq: written before its release, read after acquire
  };

  bool try_push_ring(Task* task) {
    std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      // acquire: pairs with the consumer's release that freed this cell.
      std::size_t seq = cell.seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        // relaxed: the cell's seq (acquire/release) carries the data; this CAS only
        // hands out positions.
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.task = task;
          // release: publishes cell.task (and the task's contents) to the consumer.
          cell.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  Task* try_pop_ring() {
    std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      // acquire: pairs with the producer's release, making cell.task visible.
      std::size_t seq = cell.seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        // relaxed: as in push, positions only.
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          Task* task = cell.task;
          // release: the producer that reuses this cell writes after our read.
          cell.seq.store(pos + mask_ + 1, std::memory_order_release);
          return task;
        }
      } else if (diff < 0) {
        return nullptr;  // empty
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  void push_overflow(Task* task) {
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    task->next = nullptr;
    if (overflow_tail_ != nullptr) {
      overflow_tail_->next = task;
    } else {
      overflow_head_ = task;
    }
    overflow_tail_ = task;
    // relaxed: a hint for pop(); the mutex orders the list itself.
    overflow_size_.fetch_add(1, std::memory_order_relaxed);
  }

  Task* pop_overflow() {
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    Task* task = overflow_head_;
    if (task == nullptr) return nullptr;
    overflow_head_ = task->next;
    if (overflow_head_ == nullptr) overflow_tail_ = nullptr;
    overflow_size_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: hint, as above
    return task;
  }

  alignas(64) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::size_t> dequeue_pos_{0};
  alignas(64) std::atomic<std::size_t> overflow_size_{0};
  std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  std::mutex overflow_mutex_;
  Task* overflow_head_ = nullptr;
  Task* overflow_tail_ = nullptr;
};

}  // namespace weft::detail
