// A Chase-Lev work-stealing deque of Task pointers.
//
// D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005; the memory
// orders follow N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli, "Correct and
// Efficient Work-Stealing for Weak Memory Models", PPoPP 2013 (their Fig. 1), except
// that the release fence before publishing `bottom` is folded into a release store
// (same guarantee, and ThreadSanitizer understands it).
//
// The owner pushes and pops at the bottom (LIFO, hot in cache); thieves take from the
// top (FIFO, the oldest and usually largest piece of work).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sched/fence.hpp"
#include "weft/detail/task.hpp"

namespace weft::detail {

enum class StealStatus {
  success,
  empty,      // nothing to take
  lost_race,  // another thief (or the owner's last pop) took the item; retrying may work
};

struct StealResult {
  Task* task = nullptr;
  StealStatus status = StealStatus::empty;
  std::int64_t index = 0;  // on success: the position the task held (see bottom_index)
};

class WorkDeque {
 public:
  explicit WorkDeque(std::int64_t capacity = 256) {
    rings_.push_back(std::make_unique<Ring>(capacity));
    ring_.store(rings_.back().get(), std::memory_order_relaxed);  // relaxed: not shared yet
  }

  // Owner only.
  void push(Task* task) {
    std::int64_t b = bottom_.load(std::memory_order_relaxed);  // only the owner writes it
    // acquire: pairs with thieves' CAS on top_, so slots they emptied may be reused.
    std::int64_t t = top_.load(std::memory_order_acquire);
    Ring* ring = ring_.load(std::memory_order_relaxed);  // only the owner replaces it
    if (b - t > ring->capacity - 1) ring = grow(ring, t, b);
    ring->put(b, task);
    // release: a thief that reads the new bottom also sees the slot and the task.
    bottom_.store(b + 1, std::memory_order_release);
  }

  // Owner only. nullptr when empty.
  Task* pop() {
    // Cheap exit without the fence: top_ only grows, so even a stale top_ that reaches
    // bottom_ proves the deque empty (relaxed: bottom_ is ours, top_ is only a bound).
    if (bottom_.load(std::memory_order_relaxed) <= top_.load(std::memory_order_relaxed)) {
      return nullptr;
    }
    // relaxed (bottom_, ring_): only the owner writes them; the fence below orders the
    // reservation of the bottom slot against thieves.
    std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Ring* ring = ring_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_relaxed);
    // seq_cst fence: the store to bottom_ must be visible to thieves before we read
    // top_, or a thief and the owner could both take the last item.
    seq_cst_fence();
    std::int64_t t = top_.load(std::memory_order_relaxed);  // relaxed: after the fence
    if (t > b) {  // was empty; relaxed restores below: thieves see bottom_ <= top_ anyway
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    Task* task = ring->get(b);
    if (t == b) {  // the last item: race the thieves for it through top_
      // seq_cst: the single total order decides between us and a thief's CAS.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        task = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return task;
  }

  // Any thread.
  StealResult steal() {
    // Cheap exit without the fence when the deque looks empty. relaxed: an item pushed
    // concurrently may be missed; thieves scan again, and parking re-checks after a
    // fence (scheduler_core.cpp), so it is never missed for good.
    if (!maybe_nonempty()) return {nullptr, StealStatus::empty};
    // acquire: a later top value means earlier slots were already taken.
    std::int64_t t = top_.load(std::memory_order_acquire);
    // seq_cst fence: orders the top_ read before the bottom_ read against the owner's
    // pop (its fence), the classic Dekker pairing of the paper.
    seq_cst_fence();
    // acquire: pairs with push's release store, making the slot's task visible.
    std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return {nullptr, StealStatus::empty};
    // acquire: a grown ring is fully copied before it is published.
    Ring* ring = ring_.load(std::memory_order_acquire);
    Task* task = ring->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return {nullptr, StealStatus::lost_race};
    }
    return {task, StealStatus::success, t};
  }

  // Approximate length for metrics (relaxed: a snapshot, possibly stale).
  std::size_t size_hint() const {
    std::int64_t n = bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_relaxed);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

  // The position the next push takes. Positions only grow except where pop() takes the
  // newest back, so "pushed at or after position p" stays meaningful (priority boosting
  // marks where a group's tasks begin). Exact for the owner; a hint for other threads.
  std::int64_t bottom_index() const { return bottom_.load(std::memory_order_relaxed); }
  // How many items sit at `position` or above (not yet popped or stolen). Exact for the
  // owner as far as its own pops go; thieves may have taken some since (relaxed hints).
  std::int64_t count_from(std::int64_t position) const {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    const std::int64_t first = position > t ? position : t;
    return b > first ? b - first : 0;
  }

  // A cheap, possibly stale hint (relaxed: callers re-check by popping or stealing).
  bool maybe_nonempty() const {
    return bottom_.load(std::memory_order_relaxed) > top_.load(std::memory_order_relaxed);
  }

 private:
  struct Ring {
    explicit Ring(std::int64_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<Task*>[static_cast<std::size_t>(cap)]) {}
    // Slots are atomics so that a thief's read racing with the owner's overwrite of a
    // recycled slot is defined; relaxed, because top_/bottom_ carry the ordering.
    Task* get(std::int64_t i) const { return slots[i & mask].load(std::memory_order_relaxed); }
    void put(std::int64_t i, Task* t) { slots[i & mask].store(t, std::memory_order_relaxed); }
    std::int64_t capacity, mask;
    std::unique_ptr<std::atomic<Task*>[]> slots;
  };

  // Doubles the ring. Old rings stay alive until the deque dies: a thief may still be
  // reading one (no reclamation scheme needed; the total is under twice the largest).
  Ring* grow(Ring* old, std::int64_t t, std::int64_t b) {
    rings_.push_back(std::make_unique<Ring>(old->capacity * 2));
    Ring* ring = rings_.back().get();
    for (std::int64_t i = t; i < b; ++i) ring->put(i, old->get(i));
    // release: thieves that load the new ring see its copied slots.
    ring_.store(ring, std::memory_order_release);
    return ring;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<Ring*> ring_{nullptr};
  std::vector<std::unique_ptr<Ring>> rings_;  // owner only
};

}  // namespace weft::detail
