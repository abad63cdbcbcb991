// Priority serving (issue 5): preemption of low loops at chunk boundaries, the aging
// rule, boosting of awaited tasks, background_nice, reserved workers with loops.
// No assertion here reads a clock: every "before" is made certain by the test's own
// gating (a low chunk cannot finish until the urgent work has started, and so on).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/detail/preempt.hpp"
#include "weft/scheduler.hpp"

namespace {

using weft::Priority;
using weft::test::make_placement;
using weft::test::spin_until;
// These are the ordinary workers' mechanisms: with background workers (the default),
// low work never runs on them (sched_background_test.cpp covers that mode).
weft::Config unpinned() { return weft::test::without_background(); }

// A low loop of `n` one-item chunks with a preemption point before each claim, as the
// loop family runs low loops. Records how often each item ran.
class ChunkedJob final : public weft::detail::LoopJob {
 public:
  template <class Body>
  ChunkedJob(std::size_t n, Body body) : hits_(n), body_(std::move(body)) {}
  void run_slot(unsigned) noexcept override {
    for (;;) {
      weft::detail::preemption_point();
      std::size_t i = next_.fetch_add(1);
      if (i >= hits_.size()) break;
      body_(i);
      hits_[i].fetch_add(1);
    }
  }
  bool each_once() const {
    for (const auto& h : hits_) {
      if (h.load() != 1) return false;
    }
    return true;
  }

 private:
  std::vector<std::atomic<int>> hits_;
  std::function<void(std::size_t)> body_;
  std::atomic<std::size_t> next_{0};
};

// Every worker runs a chunked low loop; a critical task submitted meanwhile starts
// before the loop finishes (the loop's second half cannot run until it has started),
// on a worker (the submitting thread never helps), and the loop's result is complete.
TEST(SchedPriorityServing, CriticalTaskPreemptsLowLoopAtChunkBoundary) {
  weft::Scheduler s(make_placement(2), unpinned());
  constexpr std::size_t n = 512;
  std::atomic<bool> submitted{false}, critical_started{false};
  std::atomic<int> entered_mask{0};
  std::atomic<int> critical_worker{-2};
  ChunkedJob job(n, [&](std::size_t i) {
    int w = s.current_worker();
    if (w >= 0) entered_mask.fetch_or(1 << w);
    spin_until(s, "the wait for submitted", submitted);
    if (i >= n / 2) spin_until(s, "the wait for critical_started", critical_started);
  });
  std::thread background([&] { s.run_loop(job, 0, Priority::low); });
  while (entered_mask.load() != 3) std::this_thread::yield();  // both workers inside
  auto f = s.submit(
      [&] {
        critical_worker.store(s.current_worker());
        critical_started.store(true);
        return 7;
      },
      {Priority::critical});
  submitted.store(true);
  // Not f.get(): this thread must not run it.
  spin_until(s, "the wait for critical_started", critical_started);
  background.join();
  EXPECT_GE(critical_worker.load(), 0);
  EXPECT_EQ(f.get(), 7);
  EXPECT_TRUE(job.each_once());
}

// The same through the loop family: parallel_for at Priority::low has a preemption
// point at every chunk boundary, and a critical parallel_for submitted meanwhile (as
// a task) gets the workers as they come free.
TEST(SchedPriorityServing, CriticalWorkPreemptsLowParallelFor) {
  weft::Scheduler s(make_placement(2), unpinned());
  constexpr std::size_t n = 512;
  std::vector<std::atomic<int>> hits(n);
  std::atomic<bool> submitted{false}, critical_started{false};
  std::atomic<int> entered_mask{0};
  std::atomic<int> critical_worker{-2};
  std::thread background([&] {
    s.parallel_for(
        0, n,
        [&](std::size_t i) {
          int w = s.current_worker();
          if (w >= 0) entered_mask.fetch_or(1 << w);
          spin_until(s, "the wait for submitted", submitted);
          if (i >= n / 2) spin_until(s, "the wait for critical_started", critical_started);
          hits[i].fetch_add(1);
        },
        weft::ForOptions{.priority = Priority::low, .chunk = 1});
  });
  while (entered_mask.load() != 3) std::this_thread::yield();
  std::vector<std::atomic<int>> critical_hits(64);
  auto f = s.submit(
      [&] {
        critical_worker.store(s.current_worker());
        critical_started.store(true);
        s.parallel_for(0, critical_hits.size(), [&](std::size_t i) { critical_hits[i].fetch_add(1); },
                       weft::ForOptions{.priority = Priority::critical, .chunk = 1});
      },
      {Priority::critical});
  submitted.store(true);
  spin_until(s, "the wait for critical_started", critical_started);
  background.join();
  f.get();
  EXPECT_GE(critical_worker.load(), 0);
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  for (auto& h : critical_hits) EXPECT_EQ(h.load(), 1);
}

// Reserved workers (the core-isolation option) never run low loops or low tasks.
TEST(SchedPriorityServing, ReservedWorkerSkipsLowLoopsAndTasks) {
  weft::Config config = unpinned();
  weft::Scheduler s(make_placement(2, 1), config);  // worker 1 is reserved
  std::atomic<int> low_on_reserved{0};
  for (int round = 0; round < 20; ++round) {
    s.parallel_for(0, 256, [&](std::size_t) {
      if (s.current_worker() == 1) low_on_reserved.fetch_add(1);
    }, weft::ForOptions{.priority = Priority::low, .chunk = 1});
    s.submit([&] {
      if (s.current_worker() == 1) low_on_reserved.fetch_add(1);
    }, {Priority::low}).get();
  }
  EXPECT_EQ(low_on_reserved.load(), 0);
  // Critical loops still run correctly with the reserved worker eligible.
  std::vector<std::atomic<int>> hits(256);
  s.parallel_for(0, hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); },
                 weft::ForOptions{.priority = Priority::critical, .chunk = 1});
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

// Under a critical stream that never lets the queue run dry (each critical task
// queues the next), low tasks still finish: the aging rule gives them a share.
TEST(SchedPriorityServing, AgingLetsLowTasksFinishUnderCriticalStream) {
  weft::Config config = unpinned();
  config.aging_period = 16;
  weft::Scheduler s(make_placement(1), config);
  constexpr int lows = 8;
  std::atomic<int> low_done{0};
  std::atomic<long> criticals{0};
  std::atomic<bool> stream_over{false};
  const long cap = 2'000'000;  // a stream that outlived this means low work starved
  std::function<void()> critical = [&] {
    long c = criticals.fetch_add(1) + 1;
    if (low_done.load() == lows || c >= cap) {
      stream_over.store(true);
      return;
    }
    s.submit(critical, {Priority::critical});
  };
  std::atomic<bool> go{false};
  s.submit([&] { spin_until(s, "the wait for go", go); }, {Priority::critical});  // hold the worker
  s.submit(critical, {Priority::critical});
  for (int i = 0; i < lows; ++i) s.submit([&] { low_done.fetch_add(1); }, {Priority::low});
  go.store(true);
  spin_until(s, "the wait for stream_over", stream_over);
  EXPECT_EQ(low_done.load(), lows);
  EXPECT_LT(criticals.load(), cap);
}

// The same for a low loop: its chunks keep running between bursts of critical work
// that its own preemption points pick up (at most aging_period per chunk boundary).
TEST(SchedPriorityServing, AgingLetsLowLoopFinishUnderCriticalStream) {
  weft::Config config = unpinned();
  config.aging_period = 8;
  weft::Scheduler s(make_placement(1), config);
  constexpr std::size_t n = 64;
  std::atomic<bool> loop_done{false}, stream_over{false};
  std::atomic<long> criticals{0};
  const long cap = 2'000'000;
  std::function<void()> critical = [&] {
    long c = criticals.fetch_add(1) + 1;
    if (loop_done.load() || c >= cap) {
      stream_over.store(true);
      return;
    }
    s.submit(critical, {Priority::critical});
  };
  std::atomic<bool> started{false};
  ChunkedJob job(n, [&](std::size_t i) {
    if (i == 0) {
      // The stream starts from inside the loop, on the worker running it.
      s.submit(critical, {Priority::critical});
      started.store(true);
    }
  });
  // The loop runs as a low task's body on the worker: a single-slot run_loop there.
  s.submit(
      [&] {
        s.run_loop(job, 1, Priority::low);
        loop_done.store(true);
      },
      {Priority::low});
  spin_until(s, "the wait for stream_over", stream_over);
  EXPECT_TRUE(started.load());
  EXPECT_TRUE(loop_done.load());
  EXPECT_LT(criticals.load(), cap);
  EXPECT_TRUE(job.each_once());
}

// A critical waiter on a low task is not stuck behind unrelated low work queued before
// it: the waiting thread runs the awaited task at once.
TEST(SchedPriorityServing, CriticalWaiterBoostsAwaitedLowTask) {
  weft::Scheduler s(make_placement(1), unpinned());
  std::atomic<bool> release{false};
  std::atomic<int> unrelated_ran{0};
  std::atomic<int> unrelated_before_target{-1};
  // The worker is busy.
  s.submit([&] { spin_until(s, "the wait for release", release); }, {Priority::critical});
  for (int i = 0; i < 50; ++i) s.submit([&] { unrelated_ran.fetch_add(1); }, {Priority::low});
  auto target = s.submit(
      [&] {
        unrelated_before_target.store(unrelated_ran.load());
        return 42;
      },
      {Priority::low});
  auto request = s.submit([&] { return target.get() + 1; }, {Priority::critical});
  EXPECT_EQ(request.get(), 43);  // this thread runs the request, which runs the target
  EXPECT_EQ(unrelated_before_target.load(), 0);
  release.store(true);
}

// A strict task is never run by a waiter (it must run on its worker).
TEST(SchedPriorityServing, StrictTaskIsNotRunAheadByWaiter) {
  weft::Scheduler s(make_placement(2), unpinned());
  auto f = s.submit([&] { return s.current_worker(); },
                    weft::TaskOptions{Priority::low, 1, -1, true});
  EXPECT_EQ(f.get(), 1);
}

long this_tid() { return syscall(SYS_gettid); }
int my_nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(this_tid())); }

// background_nice: low work runs at the lowered nice value, urgent work at the
// original one, and results are unaffected, with the option on or off.
TEST(SchedPriorityServing, BackgroundNiceOnAndOff) {
  for (int nice : {0, 10}) {
    weft::Config config = unpinned();
    config.background_nice = nice;
    weft::Scheduler s(make_placement(2), config);
    const int base = my_nice();
    const bool active = s.background_nice_active();
    if (nice == 0) {
      EXPECT_FALSE(active);
    }
    for (int round = 0; round < 3; ++round) {
      auto low = s.submit([] { return my_nice(); }, {Priority::low});
      auto crit = s.submit([] { return my_nice(); }, {Priority::critical});
      std::atomic<long> sum{0};
      ChunkedJob job(100, [&](std::size_t i) { sum.fetch_add(static_cast<long>(i)); });
      s.run_loop(job, 0, Priority::low);
      EXPECT_EQ(sum.load(), 4950);
      EXPECT_TRUE(job.each_once());
      const int low_nice = low.get();  // may run here (boost): then it is this thread's
      const int crit_nice = crit.get();
      EXPECT_EQ(crit_nice, base);
      if (!active) {
        EXPECT_EQ(low_nice, base);
      } else {
        EXPECT_TRUE(low_nice == base || low_nice == std::min(19, base + nice));
      }
    }
  }
  // A worker that ran low work and then urgent work is back at the original value.
  weft::Config config = unpinned();
  config.background_nice = 5;
  weft::Scheduler s(make_placement(1), config);
  const int base = my_nice();
  std::atomic<bool> go{false};
  // The low task queues behind it.
  s.submit([&] { spin_until(s, "the wait for go", go); }, {Priority::critical});
  auto low = s.submit([] { return my_nice(); }, {Priority::low});
  go.store(true);
  // Not get(): that could run it here.
  spin_until(s, "the low task's future", [&] { return low.ready(); });
  auto crit = s.submit([] { return my_nice(); }, {Priority::critical});
  spin_until(s, "the critical task's future", [&] { return crit.ready(); });
  if (s.background_nice_active()) {
    EXPECT_EQ(low.get(), std::min(19, base + 5));
  } else {
    EXPECT_EQ(low.get(), base);
  }
  EXPECT_EQ(crit.get(), base);
}

TEST(SchedPriorityServing, BackgroundNiceOutOfRangeIsConfigError) {
  weft::Config config = unpinned();
  config.background_nice = 25;
  EXPECT_THROW(weft::Scheduler(make_placement(1), config), weft::ConfigError);
}

}  // namespace
