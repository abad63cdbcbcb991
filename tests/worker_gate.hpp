// "A worker took part", made certain rather than likely: the calling thread's part of
// the work waits at a gate that only a part run on a worker opens. Retrying a loop
// until some of it happened to land on a worker fails on a loaded machine (the caller
// can steal everything while the worker's core is busy elsewhere); a gate cannot.
//
//   test::WorkerGate gate;
//   ... in each part of the work: gate.arrive(is_worker, "the 1d loop's items");
//   EXPECT_TRUE(gate.opened());
//
// How many of the caller's parts pass before it waits (the constructor's argument):
//  - 1 (the default), for a loop of automatic grain: one of unknown cost is first
//    timed on the caller alone, before any worker is invited, and waiting there would
//    wait for nobody. From its second part on the caller waits; by then the loop has
//    its team.
//  - 0, for work that invites its team from the start (ForOptions::chunk, run_loop):
//    the caller's first part waits, which leaves the rest to the workers.
//
// The wait is bounded (far beyond any real wait, not a timing assertion): past it the
// test fails with a message naming the work, and the caller goes on, so the loop ends.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace weft::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr std::chrono::seconds worker_gate_limit{150};
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr std::chrono::seconds worker_gate_limit{150};
#else
inline constexpr std::chrono::seconds worker_gate_limit{60};
#endif
#else
inline constexpr std::chrono::seconds worker_gate_limit{60};
#endif

class WorkerGate {
 public:
  WorkerGate() = default;
  explicit WorkerGate(unsigned caller_parts_before_waiting)
      : caller_passes_(caller_parts_before_waiting) {}

  // From every part of the work, on whichever thread runs it. `on_worker`: the part
  // runs on a worker (not on the thread that started the work).
  void arrive(bool on_worker, const char* what) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (on_worker) {
      open_ = true;
      cv_.notify_all();
      return;
    }
    if (open_ || gave_up_) return;
    if (caller_passes_ > 0) {
      --caller_passes_;
      return;
    }
    if (!cv_.wait_for(lock, worker_gate_limit, [this] { return open_; })) {
      // Once: the caller's remaining parts run on, so the loop ends and the test fails
      // instead of hanging.
      gave_up_ = true;
      ADD_FAILURE() << "no worker ran any of " << what << " within "
                    << worker_gate_limit.count() << " s while the caller waited for one";
    }
  }

  bool opened() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
  unsigned caller_passes_ = 1;
  bool gave_up_ = false;
};

}  // namespace weft::test
