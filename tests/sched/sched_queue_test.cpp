// Backpressure: Config::max_queued with QueuePolicy reject and block, tasks' own
// spawns always accepted, the high-water mark in the metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::make_placement;
using weft::test::unpinned;

weft::Config limited(weft::QueuePolicy policy, std::size_t max_queued) {
  weft::Config c = unpinned();
  c.queue_policy = policy;
  c.max_queued = max_queued;
  return c;
}

// Occupies every worker with a task that waits for release(); started before it returns
// (so the holding tasks no longer count as queued).
class Hold {
 public:
  Hold(weft::Scheduler& s, unsigned workers) : started_(workers) {
    for (unsigned w = 0; w < workers; ++w) {
      weft::TaskOptions o;
      o.worker = static_cast<int>(w);
      o.strict = true;
      s.submit([this] {
        started_.count_down();
        release_.wait();
      }, o);
    }
    weft::test::wait_or_dump(s, "the holding tasks' start", [this] { started_.wait(); });
  }
  void release() { release_.count_down(); }

 private:
  std::latch started_;
  std::latch release_{1};
};

TEST(SchedQueue, RejectRaisesNamingTheLimitAndNeverRunsTheTask) {
  weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::reject, 4));
  Hold hold(s, 1);
  std::atomic<int> ran{0};
  std::atomic<bool> refused_ran{false};
  std::vector<weft::Future<void>> accepted;
  for (int i = 0; i < 4; ++i) accepted.push_back(s.submit([&] { ran.fetch_add(1); }));
  bool raised = false;
  try {
    s.submit([&] { refused_ran = true; });
  } catch (const weft::QueueFullError& e) {
    raised = true;
    const std::string what = e.what();
    EXPECT_NE(what.find("Config::max_queued is 4"), std::string::npos) << what;
    EXPECT_NE(what.find("reject"), std::string::npos) << what;
  }
  EXPECT_TRUE(raised);
  // A TaskGroup's run is refused the same way, and the group stays usable.
  weft::TaskGroup g(s);
  EXPECT_THROW(g.run([&] { refused_ran = true; }), weft::SchedulerError);
  hold.release();
  for (auto& f : accepted) f.get();
  g.run([&] { ran.fetch_add(1); });  // room again
  g.wait();
  EXPECT_TRUE(s.try_shutdown_for(std::chrono::minutes(4)).complete);
  EXPECT_EQ(ran.load(), 5);
  EXPECT_FALSE(refused_ran.load());
}

TEST(SchedQueue, BlockHoldsAnExternalSubmitterUntilAWorkerStartsATask) {
  weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::block, 2));
  Hold hold(s, 1);
  std::atomic<bool> submitting{false}, submitted{false}, late_ran{false};
  std::vector<weft::Future<void>> queued;
  for (int i = 0; i < 2; ++i) queued.push_back(s.submit([] {}));
  weft::Future<void> late;
  std::thread submitter([&] {
    submitting = true;
    late = s.submit([&] { late_ran = true; });
    submitted = true;
  });
  weft::test::spin_until(s, "the submitter to start", submitting);
  // The queue is full and the worker held: the submit cannot have returned, however
  // long we look (these looks only give a wrong implementation time to show).
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(submitted.load());
    std::this_thread::yield();
  }
  hold.release();
  weft::test::spin_until(s, "the blocked submit to return", submitted);
  submitter.join();
  late.get();
  for (auto& f : queued) f.get();
  EXPECT_TRUE(late_ran.load());
  const weft::Metrics m = s.metrics();
  ASSERT_TRUE(m.queued_high_water.has_value());
  EXPECT_EQ(*m.queued_high_water, 2u);  // never above max_queued from outside
}

// A task's spawns are accepted beyond the limit under both policies: holding or refusing
// them could deadlock (the one worker is the spawner and the only one who could drain).
TEST(SchedQueue, TasksOwnSpawnsAreNeverHeldOrRefused) {
  for (weft::QueuePolicy policy : {weft::QueuePolicy::block, weft::QueuePolicy::reject}) {
    weft::Scheduler s(make_placement(1), limited(policy, 2));
    std::atomic<int> ran{0};
    std::latch finished(1);
    weft::Future<int> outer = s.submit([&] {
      weft::TaskGroup g(s);
      int n = 0;
      for (; n < 100; ++n) g.run([&] { ran.fetch_add(1); });
      // Futures too, waited for after all were queued.
      std::vector<weft::Future<void>> futures;
      for (int i = 0; i < 50; ++i, ++n) futures.push_back(s.submit([&] { ran.fetch_add(1); }));
      g.wait();
      for (auto& f : futures) f.get();
      finished.count_down();
      return n;
    });
    // Not outer.get() yet: a waiting test thread would help, starting the spawns early.
    finished.wait();
    EXPECT_EQ(outer.get(), 150);
    EXPECT_EQ(ran.load(), 150);
    const weft::Metrics m = s.metrics();
    ASSERT_TRUE(m.queued_high_water.has_value());
    // All 150 were queued before the one worker (busy spawning them) started any.
    EXPECT_EQ(*m.queued_high_water, 150u) << weft::to_string(policy);
  }
}

TEST(SchedQueue, HighWaterMarkInMetrics) {
  {
    weft::Scheduler s(make_placement(1), unpinned());
    s.submit([] {}).get();
    const weft::Metrics m = s.metrics();
    EXPECT_FALSE(m.queued_high_water.has_value());  // unbounded counts nothing
    EXPECT_NE(m.to_json().find("\"queued_high_water\":null"), std::string::npos);
    EXPECT_NE(m.to_string().find("not counted"), std::string::npos);
  }
  weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::block, 8));
  Hold hold(s, 1);
  std::vector<weft::Future<void>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(s.submit([] {}));
  weft::Metrics m = s.metrics();
  ASSERT_TRUE(m.queued_high_water.has_value());
  EXPECT_EQ(*m.queued_high_water, 3u);
  EXPECT_NE(m.to_json().find("\"queued_high_water\":3"), std::string::npos) << m.to_json();
  EXPECT_NE(m.to_string().find("high-water mark: 3"), std::string::npos) << m.to_string();
  s.reset_metrics();  // a new window starts at what is queued now
  EXPECT_EQ(s.metrics().queued_high_water, 3u);
  hold.release();
  for (auto& f : queued) f.get();
  s.reset_metrics();
  EXPECT_EQ(s.metrics().queued_high_water, 0u);
}

TEST(SchedQueue, BadLimitsNameTheField) {
  try {
    weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::unbounded, 5));
    ADD_FAILURE() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("Config::max_queued: 5 has no effect"), std::string::npos)
        << e.what();
  }
  try {
    weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::block, 0));
    ADD_FAILURE() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("Config::max_queued: 0 with QueuePolicy::block"),
              std::string::npos)
        << e.what();
  }
}

// A submitter blocked for room when shutdown begins raises instead of waiting forever.
TEST(SchedQueue, BlockedSubmitterRaisesWhenShutdownBegins) {
  weft::Scheduler s(make_placement(1), limited(weft::QueuePolicy::block, 1));
  Hold hold(s, 1);
  weft::Future<void> queued = s.submit([] {});
  std::atomic<bool> submitting{false}, raised{false}, done{false};
  std::thread submitter([&] {
    submitting = true;
    try {
      s.submit([] {});
    } catch (const weft::SchedulerError& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("shut down"), std::string::npos) << e.what();
    }
    done = true;
  });
  weft::test::spin_until(s, "the submitter to start", submitting);
  // The worker is held: this shutdown cannot complete, but it wakes the submitter.
  EXPECT_FALSE(s.try_shutdown_for(std::chrono::milliseconds(1)).complete);
  weft::test::spin_until(s, "the blocked submitter to raise", done);
  submitter.join();
  EXPECT_TRUE(raised.load());
  hold.release();
  queued.get();
  EXPECT_TRUE(s.try_shutdown_for(std::chrono::minutes(4)).complete);
}

}  // namespace
