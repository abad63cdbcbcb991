// Blocking internals shared by Future, TaskGroup and the scheduler: a per-thread Parker
// (one futex word) and WaitState (a pending count plus "a thread sleeps on me" bit).
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/export.hpp"

namespace weft::detail {

// One per thread (workers own theirs; other threads get a thread_local one). A thread
// sleeps on its own word, so a waker can target exactly the thread it means to wake.
// The word holds reasons to wake up: `work` (a submit or a loop invitation chose this
// thread) and `done` (what the thread waits for completed). Wakers OR their bit in, so
// a waiter can tell whether the completer has finished touching it (see WaitState).
class WEFT_EXPORT Parker {
 public:
  static constexpr std::uint32_t work = 1;
  static constexpr std::uint32_t done = 2;

  // Forget earlier wake-ups; call before registering anywhere a waker can find us.
  // relaxed: only this thread clears the word, and registrations that follow are
  // seq_cst / acq_rel RMWs that order it before any waker's fetch_or.
  void prepare() noexcept { word_.store(0, std::memory_order_relaxed); }
  // Sleeps until some waker has set a bit since prepare(). Spurious returns are fine:
  // every caller re-checks its condition in a loop.
  void park() noexcept;
  // The same, returning after about `timeout_us` microseconds at the latest (for a
  // sleeper that must look at something nobody wakes it for, such as shutdown).
  void park_for(unsigned timeout_us) noexcept;
  // Sets `reason` and wakes the thread if it sleeps. The Parker may belong to a thread
  // that leaves right after the bit lands: nothing here touches *this after the store
  // except the futex syscall, which tolerates a stale address.
  void unpark(std::uint32_t reason) noexcept;
  // Sleeps until `reason` itself has been set since prepare() (other reasons landing
  // meanwhile do not end the wait).
  void await(std::uint32_t reason) noexcept;
  bool woken(std::uint32_t reason) const noexcept {
    // acquire: pairs with unpark's release, so the waker's writes are visible.
    return (word_.load(std::memory_order_acquire) & reason) != 0;
  }

 private:
  std::atomic<std::uint32_t> word_{0};
};

// The calling thread's Parker (a worker's own, or a thread_local one).
WEFT_EXPORT Parker& this_thread_parker() noexcept;

// A count of unfinished things (tasks of a group, the one task behind a Future) that a
// thread may sleep on. state_ = pending << 1 | waiting bit.
//
// Protocol (why no wake-up is lost and no completer touches a dead WaitState):
// the waiter publishes its Parker in waiter_, then sets the waiting bit (release). The
// completer that takes the count to zero sees the bit in the value its fetch_sub read
// (acq_rel), so it reads waiter_ and unparks with Parker::done. A waiter that saw the
// bit consumed (count reached zero while its bit was set) waits until `done` lands
// before it returns, so the WaitState (and its owner) outlives the completer's last use.
class WaitState {
 public:
  // relaxed: the increment is ordered before the task becomes visible to anyone by the
  // release that publishes the task, and before its completion by that completion's
  // acq_rel decrement on this same variable.
  void add(std::uint64_t n = 1) noexcept { state_.fetch_add(n << 1, std::memory_order_relaxed); }

  // acquire: pairs with the completer's acq_rel decrement, so the results are visible.
  bool done() const noexcept { return (state_.load(std::memory_order_acquire) >> 1) == 0; }

  // Called by whoever finishes one unit. After it returns the WaitState may be gone.
  void finish_one() noexcept {
    // acq_rel: release publishes the unit's results to the waiter; acquire makes the
    // waiter's waiter_ store visible when we see its bit.
    std::uint64_t old = state_.fetch_sub(2, std::memory_order_acq_rel);
    if (old == 3) {  // count 1 -> 0 with a waiter registered
      Parker* p = waiter_;
      p->unpark(Parker::done);
    }
  }

  // Waiter side. Returns false when everything had already finished (nothing to wait for).
  bool register_waiter(Parker& p) noexcept {
    waiter_ = &p;
    // acq_rel: release publishes waiter_ to the completer; acquire pairs with completed
    // decrements so a false return leaves their results visible.
    std::uint64_t old = state_.fetch_or(1, std::memory_order_acq_rel);
    if ((old >> 1) == 0) {
      state_.fetch_and(~std::uint64_t{1}, std::memory_order_relaxed);  // nobody decrements now
      return false;
    }
    return true;
  }
  // Leaves the registration; if the final completer already saw it, waits (briefly)
  // for that completer's unpark so it is done with this object.
  void unregister_waiter(Parker& p) noexcept {
    std::uint64_t old = state_.fetch_and(~std::uint64_t{1}, std::memory_order_acq_rel);
    if ((old >> 1) == 0) {
      // The completer is between its fetch_sub and its unpark: a few instructions,
      // unless it was preempted there. Sleep rather than yield: the completer may be a
      // background worker at the idle class, which a yielding thread at the normal
      // class would keep off the CPU.
      p.await(Parker::done);
    }
  }

 private:
  std::atomic<std::uint64_t> state_{0};
  Parker* waiter_ = nullptr;
};

}  // namespace weft::detail
