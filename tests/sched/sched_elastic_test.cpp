// Config::adaptive: the width rules (ElasticPolicy) on injected windows, the monitor
// stepped by hand with a fake sampler, and the scheduler's wiring (metrics, errors).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/thread_id.hpp"
#include "observe/thread_stats.hpp"
#include "sched/elastic_monitor.hpp"
#include "sched/elastic_policy.hpp"
#include "sched_test_support.hpp"

namespace {

using weft::detail::ElasticMonitor;
using weft::detail::ElasticPolicy;
using weft::detail::PressureSample;
using weft::detail::WidthDecision;

constexpr double window = 100e6;  // 100 ms

PressureSample quiet(unsigned workers = 3) {
  PressureSample s;
  s.window_ns = window;
  s.workers = workers;
  s.run_delay_ns = 0.01 * window * workers;
  s.throttled_periods = 0;
  return s;
}
PressureSample throttled(std::uint64_t periods = 5) {
  PressureSample s = quiet();
  s.throttled_periods = periods;
  return s;
}
// Each of `workers` waited `fraction` of the window for a CPU.
PressureSample delayed(double fraction, unsigned workers = 3) {
  PressureSample s = quiet(workers);
  s.run_delay_ns = fraction * window * workers;
  return s;
}

TEST(SchedElastic, QuietWindowsNeverChangeTheWidth) {
  ElasticPolicy p(4, 1);
  for (int i = 0; i < 1000; ++i) {
    const WidthDecision d = p.next(quiet());
    ASSERT_EQ(d.width, 4u);
    ASSERT_EQ(d.reason, "");
  }
  // No cgroup cpu.stat at all (nullopt) is quiet too.
  PressureSample unknown = quiet();
  unknown.throttled_periods.reset();
  EXPECT_EQ(p.next(unknown).width, 4u);
}

TEST(SchedElastic, ThrottlingDropsAThreadPerWindowThenCalmBringsThemBack) {
  ElasticPolicy p(4, 1);
  const WidthDecision first = p.next(throttled(7));
  EXPECT_EQ(first.width, 3u);
  EXPECT_EQ(first.reason, "the cgroup CPU quota throttled the process 7 times");
  EXPECT_EQ(p.next(throttled()).width, 2u);
  EXPECT_EQ(p.next(throttled()).width, 1u);
  EXPECT_EQ(p.next(throttled()).width, 1u);  // never below min_threads
  // Back one thread per first_calm_windows quiet windows.
  unsigned width = 1;
  for (unsigned step = 0; step < 3; ++step) {
    for (unsigned i = 1; i < ElasticPolicy::first_calm_windows; ++i)
      ASSERT_EQ(p.next(quiet()).width, width) << "step " << step << " window " << i;
    const WidthDecision grew = p.next(quiet());
    ASSERT_EQ(grew.width, ++width);
    EXPECT_NE(grew.reason.find("no throttling"), std::string::npos) << grew.reason;
  }
  EXPECT_EQ(width, 4u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(p.next(quiet()).width, 4u);  // capped at capacity
}

TEST(SchedElastic, RunQueueDelayAboveTheThresholdDropsAThread) {
  ElasticPolicy p(3, 1);
  // A core shared half with another process is not worth giving up (bench/run_hog.sh).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.next(delayed(0.5)).width, 3u);
  const WidthDecision d = p.next(delayed(0.9));
  EXPECT_EQ(d.width, 2u);
  EXPECT_EQ(d.reason, "workers waited 90% of the time for a CPU (oversubscribed)");
  // Between the thresholds the width holds, and calm windows must be consecutive.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(p.next(quiet()).width, 2u);
    EXPECT_EQ(p.next(delayed(0.4)).width, 2u);
  }
}

TEST(SchedElastic, PressureRightAfterRegrowingDoublesTheCalmNeeded) {
  ElasticPolicy p(2, 1);
  EXPECT_EQ(p.next(throttled()).width, 1u);
  unsigned needed = ElasticPolicy::first_calm_windows;
  for (int cycle = 0; cycle < 6; ++cycle) {
    unsigned windows = 0;
    while (p.next(quiet()).width == 1) ASSERT_LT(++windows, 1000u);
    EXPECT_EQ(windows + 1, needed) << "cycle " << cycle;
    EXPECT_EQ(p.next(throttled()).width, 1u);  // the thread that came back brought pressure
    needed = std::min(needed * 2, ElasticPolicy::max_calm_windows);
  }
}

TEST(SchedElastic, MinThreadsBoundsTheWidth) {
  ElasticPolicy p(8, 3);
  for (int i = 0; i < 20; ++i) p.next(throttled());
  EXPECT_EQ(p.width(), 3u);
}

TEST(SchedElastic, ABudgetChangeIsFollowedAtOnceBothWays) {
  ElasticPolicy p(8, 1);
  PressureSample s = quiet();
  s.budget_threads = 8;  // unchanged
  EXPECT_EQ(p.next(s).reason, "");
  s.budget_threads = 3;  // taskset, or a smaller quota
  const WidthDecision shrunk = p.next(s);
  EXPECT_EQ(shrunk.width, 3u);
  EXPECT_EQ(shrunk.reason, "the CPU budget (affinity mask, cgroup quota) now covers 3 threads");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(p.next(quiet()).width, 3u);  // calm: not above it
  s.budget_threads = 64;  // more than the scheduler has: capped at its threads
  EXPECT_EQ(p.next(s).width, 8u);
}

TEST(SchedElastic, MonitorAppliesEveryDecisionAndRereadsTheBudgetEveryTenthPeriod) {
  std::vector<bool> rereads;
  std::vector<WidthDecision> applied;
  std::vector<PressureSample> script = {throttled(), throttled(), quiet()};
  std::size_t next = 0;
  ElasticMonitor monitor(
      ElasticPolicy(4, 1), std::chrono::milliseconds(0),  // no thread: stepped below
      [&](bool reread) {
        rereads.push_back(reread);
        return next < script.size() ? script[next++] : quiet();
      },
      [&](const WidthDecision& d) { applied.push_back(d); });
  for (int i = 0; i < 20; ++i) monitor.tick();
  ASSERT_EQ(applied.size(), 20u);
  EXPECT_EQ(applied[0].width, 3u);
  EXPECT_EQ(applied[1].width, 2u);
  EXPECT_EQ(applied[2].width, 2u);
  for (std::size_t i = 0; i < rereads.size(); ++i)
    EXPECT_EQ(rereads[i], (i + 1) % ElasticMonitor::budget_every == 0) << i;
}

TEST(SchedElastic, SchedulerReportsTheWidthOnlyWhenAdaptive) {
  {
    weft::Scheduler s(weft::test::make_placement(2), weft::test::unpinned());
    const weft::Metrics m = s.metrics();
    EXPECT_FALSE(m.adaptive_threads.has_value());
    EXPECT_NE(m.to_string().find("adaptive loop width: off"), std::string::npos);
    EXPECT_NE(m.to_json().find("\"adaptive_threads\":null"), std::string::npos);
  }
  weft::Config config = weft::test::unpinned();
  config.adaptive = true;
  config.min_workers = 1;
  weft::Scheduler s(weft::test::make_placement(2), config);
  const weft::Metrics m = s.metrics();
  ASSERT_TRUE(m.adaptive_threads.has_value());
  // Between min_workers + 1 and every thread (a loaded test machine may already have
  // made the monitor narrow it).
  EXPECT_GE(*m.adaptive_threads, 2u);
  EXPECT_LE(*m.adaptive_threads, 3u);
  EXPECT_EQ(s.num_threads(), *m.adaptive_threads);
  std::atomic<int> sum{0};
  s.parallel_for(0, 100, [&](std::size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 4950);
}

TEST(SchedElastic, MinWorkersAboveTheWorkersIsAConfigError) {
  weft::Config config = weft::test::unpinned();
  config.min_workers = 3;
  try {
    weft::Scheduler s(weft::test::make_placement(2), config);
    FAIL() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    EXPECT_STREQ(e.what(), "Config::min_workers: 3 is more than this scheduler's 2 workers");
  }
}

TEST(SchedElastic, RunQueueDelayOfALiveThreadIsReadable) {
  const auto delay = weft::detail::read_run_delay_ns(weft::detail::current_tid());
  if (!delay) GTEST_SKIP() << "this kernel keeps no /proc/<pid>/task/<tid>/schedstat";
  EXPECT_FALSE(weft::detail::read_run_delay_ns(0).has_value());
}

}  // namespace
