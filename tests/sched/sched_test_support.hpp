// Helpers for the scheduler tests: hand-made placements (no topology needed), a
// sanitizer-aware scale factor, a simple LoopJob, and bounded waits that dump the
// workers' states instead of hanging (HangWatch, wait_or_dump).
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/detail/loop_job.hpp"
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

namespace weft::test {

#ifdef WEFT_TEST_SANITIZED
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// `normal` in a plain build, `normal / divisor` under a sanitizer.
inline std::size_t scaled(std::size_t normal, std::size_t divisor = 20) {
  return sanitized ? normal / divisor : normal;
}

// `workers` unbound workers; the last `reserved` are reserved; workers spread over
// `numa_nodes` nodes round-robin; steal order: the others by index distance.
inline Placement make_placement(unsigned workers, unsigned reserved = 0, unsigned numa_nodes = 1) {
  Placement p;
  for (unsigned i = 0; i < workers; ++i) {
    WorkerPlacement w;
    w.core = i + 1;
    w.numa_node = i % numa_nodes;
    w.l3 = w.numa_node;
    w.reserved = i + reserved >= workers;
    for (unsigned d = 1; d < workers; ++d) w.steal_order.push_back((i + d) % workers);
    p.workers.push_back(w);
  }
  p.cpu_budget = workers + 1;
  return p;
}

inline Config unpinned(std::chrono::microseconds spin = std::chrono::microseconds{50}) {
  Config c;
  c.pinning = Pinning::none;
  c.spin = spin;
  return c;
}

// The ordinary workers alone (Config::background_workers = 0): for tests of how they
// order and preempt low work themselves (preemption points, aging, background_nice).
inline Config without_background(std::chrono::microseconds spin = std::chrono::microseconds{50}) {
  Config c = unpinned(spin);
  c.background_workers = 0;
  return c;
}

// Records which slots ran and on which worker, and sums [0, n) through an atomic cursor.
class SumJob final : public detail::LoopJob {
 public:
  SumJob(Scheduler& s, std::size_t n, unsigned max_slots)
      : sched_(s), n_(n), slots_(max_slots), workers_(max_slots) {
    for (auto& s_ : slots_) s_.store(0);
    for (auto& w : workers_) w.store(-2);
  }
  void run_slot(unsigned slot) noexcept override {
    inside_.fetch_add(1);
    if (slot < slots_.size()) {
      slots_[slot].fetch_add(1);
      workers_[slot].store(sched_.current_worker());
    } else {
      bad_slot_.store(true);
    }
    for (;;) {
      std::size_t i = cursor_.fetch_add(16);
      if (i >= n_) break;
      std::size_t e = i + 16 < n_ ? i + 16 : n_;
      std::size_t local = 0;
      for (std::size_t k = i; k < e; ++k) local += k;
      sum_.fetch_add(local);
    }
    inside_.fetch_sub(1);
  }
  std::size_t sum() const { return sum_.load(); }
  int inside() const { return inside_.load(); }
  bool bad_slot() const { return bad_slot_.load(); }
  unsigned runs(unsigned slot) const { return slots_[slot].load(); }
  int worker_of(unsigned slot) const { return workers_[slot].load(); }

 private:
  Scheduler& sched_;
  std::size_t n_;
  std::atomic<std::size_t> cursor_{0}, sum_{0};
  std::atomic<int> inside_{0};
  std::atomic<bool> bad_slot_{false};
  std::vector<std::atomic<unsigned>> slots_;
  std::vector<std::atomic<int>> workers_;
};

inline std::size_t triangle(std::size_t n) { return n * (n - 1) / 2; }

// How long one wait of a stress or liveness test may take before it counts as a hang.
// Not a timing assertion (tests never assert on wall-clock time): far beyond what any
// single wait needs, even under TSan on a loaded machine, and below ctest's 300 s
// TIMEOUT so that the dump comes out before ctest kills the binary.
inline constexpr std::chrono::seconds hang_limit{sanitized ? 150 : 60};

// Prints what was waited for and every worker's state (Scheduler::metrics()), then
// aborts. Aborting, not failing softly: the scheduler's destructor would wait for the
// stuck work too. alarm(): should the dump itself hang, SIGALRM still ends the binary.
[[noreturn]] inline void dump_and_abort(const Scheduler& s, const char* what, long round,
                                        std::chrono::seconds limit) {
  alarm(30);
  std::fprintf(stderr, "HANG: %s", what);
  if (round >= 0) std::fprintf(stderr, " (round %ld)", round);
  std::fprintf(stderr, " did not finish within %lld s; the scheduler's workers:\n",
               static_cast<long long>(limit.count()));
  std::fflush(stderr);
  const std::string table = s.metrics().to_string();
  std::fprintf(stderr, "%s\n", table.c_str());
  std::fflush(stderr);
  std::abort();
}

// Bounds the waits of a stress or liveness test (a lost wake-up, a deadlock):
//   test::HangWatch watch(s);
//   for (int r = 0; r < rounds; ++r) watch.wait("the round's task", r, [&] { done.wait(); });
// A wait that has not returned within the limit ends in dump_and_abort. Arming and
// disarming are two atomic stores, so it may guard every round of a loop; touch()
// restarts the limit for one long wait that makes progress. One thread at a time per
// HangWatch: give each waiting thread its own. A watcher thread checks every 50 ms.
class HangWatch {
 public:
  explicit HangWatch(const Scheduler& s, std::chrono::seconds limit = hang_limit)
      : sched_(s), limit_(limit), watcher_([this] { watch(); }) {}
  ~HangWatch() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    cv_.notify_one();
    watcher_.join();
  }
  HangWatch(const HangWatch&) = delete;
  HangWatch& operator=(const HangWatch&) = delete;

  // Runs wait() (what it returns is returned) under the limit. `round`: -1 or a number
  // printed with `what`.
  template <class Wait>
  decltype(auto) wait(const char* what, long round, Wait&& fn) {
    // relaxed: the deadline's release store below publishes these to the watcher.
    what_.store(what, std::memory_order_relaxed);
    round_.store(round, std::memory_order_relaxed);
    // release: pairs with the watcher's acquire, so it prints this what_ and round_.
    deadline_.store(limit_from_now(), std::memory_order_release);
    struct Disarm {
      HangWatch& owner;
      ~Disarm() { owner.deadline_.store(0, std::memory_order_relaxed); }
    } disarm{*this};
    return std::forward<Wait>(fn)();
  }
  template <class Wait>
  decltype(auto) wait(const char* what, Wait&& fn) {
    return wait(what, -1, std::forward<Wait>(fn));
  }

  // Progress: the wait in progress (if any) gets the whole limit again from now. Any
  // thread. relaxed: the deadline carries no data.
  void touch() {
    long long deadline = deadline_.load(std::memory_order_relaxed);
    while (deadline != 0 && !deadline_.compare_exchange_weak(deadline, limit_from_now(),
                                                             std::memory_order_relaxed)) {
    }
  }

 private:
  static long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  long long limit_from_now() const {
    return now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(limit_).count();
  }
  void watch() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return quit_; })) {
      const long long deadline = deadline_.load(std::memory_order_acquire);
      if (deadline != 0 && now_ns() > deadline) {
        dump_and_abort(sched_, what_.load(std::memory_order_relaxed),
                       round_.load(std::memory_order_relaxed), limit_);
      }
    }
  }

  const Scheduler& sched_;
  const std::chrono::seconds limit_;
  std::atomic<long long> deadline_{0};  // steady-clock ns; 0: no wait in progress
  std::atomic<const char*> what_{""};
  std::atomic<long> round_{-1};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread watcher_;  // last: starts once everything above is initialized
};

// One bounded wait (a watcher thread per call; a wait inside a loop wants a HangWatch):
//   test::wait_or_dump(s, "the stolen child", [&] { all_done.wait(); });
//   int v = test::wait_or_dump(s, "the future", [&] { return f.get(); });
template <class Wait>
decltype(auto) wait_or_dump(const Scheduler& s, const char* what, Wait&& fn,
                            std::chrono::seconds limit = hang_limit) {
  HangWatch watch(s, limit);
  return watch.wait(what, std::forward<Wait>(fn));
}

// Spins (yielding) until done() holds, for a wait that must not help with the work
// (a future's get() or a group's wait() would run queued tasks on this thread). Still
// false after the limit, it is a hang: dump_and_abort names `what`.
//   test::spin_until(s, "the critical task's start", critical_started);
template <class Done>
  requires std::is_invocable_r_v<bool, Done&>
void spin_until(const Scheduler& s, const char* what, Done&& done,
                std::chrono::seconds limit = hang_limit) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) dump_and_abort(s, what, -1, limit);
    std::this_thread::yield();
  }
}
inline void spin_until(const Scheduler& s, const char* what, const std::atomic<bool>& flag,
                       std::chrono::seconds limit = hang_limit) {
  spin_until(s, what, [&flag] { return flag.load(); }, limit);
}

}  // namespace weft::test
