// The spin budget rule (src/sched/spin_budget.hpp), driven with made-up durations: a
// steady stream grows a worker's spin to cover its gaps, an idle spell and preemption
// cut it, and Config::spin = 0 never spins. Plus the Config fields on a real scheduler,
// and the learned spin of team waits (src/sched/learned_spin.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sched/learned_spin.hpp"
#include "sched/spin_budget.hpp"
#include "sched_test_support.hpp"
#include "weft/weft.hpp"

namespace {

using weft::detail::SpinBudget;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using ns = std::chrono::nanoseconds;

// base 50 us, ceiling 5 ms: the defaults.
SpinBudget defaults() { return SpinBudget(microseconds(50), milliseconds(5)); }

TEST(SchedSpin, StartsAtBase) {
  EXPECT_EQ(defaults().current(), microseconds(50));
  EXPECT_EQ(defaults().base(), microseconds(50));
}

// Requests every ~2 ms: the budget doubles per wake-up until it covers the gap plus a
// quarter, then stays there (the next spins catch the work, so no more wake-ups).
TEST(SchedSpin, SteadyStreamGrowsToCoverTheGap) {
  SpinBudget b = defaults();
  std::vector<ns> seen;
  for (int i = 0; i < 8; ++i) {
    b.woken(microseconds(2000));
    seen.push_back(b.current());
  }
  const std::vector<ns> expected = {microseconds(100),  microseconds(200),  microseconds(400),
                                    microseconds(800),  microseconds(1600), microseconds(2500),
                                    microseconds(2500), microseconds(2500)};
  EXPECT_EQ(seen, expected);
}

TEST(SchedSpin, GrowthStopsAtTheCeiling) {
  SpinBudget b = defaults();
  for (int i = 0; i < 20; ++i) b.woken(microseconds(4900));  // 4900 + 1225 > 5000
  EXPECT_EQ(b.current(), milliseconds(5));
}

// Work that arrives later than the ceiling: the spin past base would have been wasted.
TEST(SchedSpin, IdleSpellFallsBackToBase) {
  SpinBudget b = defaults();
  for (int i = 0; i < 10; ++i) b.woken(microseconds(2000));
  ASSERT_EQ(b.current(), microseconds(2500));
  b.woken(milliseconds(50));
  EXPECT_EQ(b.current(), microseconds(50));
}

// Gaps that shrink pull the budget down with them, never below base.
TEST(SchedSpin, ShorterGapsShrinkTheBudgetDownToBase) {
  SpinBudget b = defaults();
  for (int i = 0; i < 10; ++i) b.woken(microseconds(2000));
  b.woken(microseconds(400));
  EXPECT_EQ(b.current(), microseconds(500));
  b.woken(microseconds(10));
  EXPECT_EQ(b.current(), microseconds(50));
}

// Preemption halves, to 0 below 1 us; short gaps double it again from 1 us up to base
// (not past it: a gap shorter than base is no reason to spin longer than base).
TEST(SchedSpin, PreemptionHalvesAndShortGapsRestore) {
  SpinBudget b = defaults();
  b.preempted();
  EXPECT_EQ(b.current(), microseconds(25));
  for (int i = 0; i < 5; ++i) b.preempted();  // 12.5, 6.25, 3.125, 1.5625, 0.78 -> 0
  EXPECT_EQ(b.current(), ns(0));
  b.woken(microseconds(10));
  EXPECT_EQ(b.current(), SpinBudget::min_spin);
  for (int i = 0; i < 10; ++i) b.woken(microseconds(10));
  EXPECT_EQ(b.current(), microseconds(50));
}

// An idle spell does not undo a cut: the budget stays below base until short gaps show
// that spinning pays again.
TEST(SchedSpin, IdleSpellKeepsACut) {
  SpinBudget b = defaults();
  b.preempted();
  b.woken(milliseconds(50));
  EXPECT_EQ(b.current(), microseconds(25));
}

TEST(SchedSpin, ZeroBaseNeverSpins) {
  SpinBudget b(ns(0), milliseconds(5));
  for (int i = 0; i < 10; ++i) b.woken(microseconds(100));
  EXPECT_EQ(b.current(), ns(0));
  b.linger();
  EXPECT_EQ(b.current(), ns(0));
}

// A ceiling at or below base: the spin stays at base (spin_max = 0 turns growth off).
TEST(SchedSpin, CeilingBelowBaseMeansNoGrowth) {
  SpinBudget b(microseconds(50), ns(0));
  for (int i = 0; i < 10; ++i) b.woken(microseconds(40));
  EXPECT_EQ(b.current(), microseconds(50));
  b.woken(milliseconds(1));
  EXPECT_EQ(b.current(), microseconds(50));
}

// A team member between OpenMP regions spins at least base once, even after a cut.
TEST(SchedSpin, LingerRestoresBase) {
  SpinBudget b = defaults();
  for (int i = 0; i < 10; ++i) b.preempted();
  b.linger();
  EXPECT_EQ(b.current(), microseconds(50));
  for (int i = 0; i < 10; ++i) b.woken(microseconds(2000));
  b.linger();  // never lowers a grown budget
  EXPECT_EQ(b.current(), microseconds(2500));
}

// A real scheduler with spinning off: the workers never spin, whatever spin_max says,
// and the work still runs.
TEST(SchedSpin, SpinZeroNeverSpinsOnARealScheduler) {
  weft::Config config = weft::test::without_background(microseconds(0));
  config.spin_max = milliseconds(5);
  config.metrics = true;
  weft::Scheduler s(config);
  for (int i = 0; i < 50; ++i) {
    weft::Future<int> f = s.submit([i] { return i * 2; });
    EXPECT_EQ(f.get(), i * 2);
  }
  EXPECT_EQ(s.metrics().totals.spinning_ns, 0u);
}

// Two tasks that can only finish together, submitted while one worker spins and the
// others sleep: a submit wakes nobody while a worker spins (it trusts the spinner to
// take the task), so without the hand-on rule (wake_for_leftover) both would wait for
// the spinner, which blocks in the first. The caller polls without helping.
TEST(SchedSpin, BurstDuringASpinReachesSleepingWorkers) {
  weft::Config config = weft::test::without_background(std::chrono::milliseconds(200));
  config.num_threads = 4;  // 3 workers
  config.spin_max = std::chrono::microseconds(0);
  weft::Scheduler s(config);
  using namespace std::chrono_literals;
  auto poll = [](auto&& done) {
    for (int i = 0; i < 30000 && !done(); ++i) std::this_thread::sleep_for(1ms);
    return done();
  };
  for (int round = 0; round < 3; ++round) {
    // Let the start-up (or the last round's) spins run out, so the workers park.
    std::this_thread::sleep_for(500ms);
    std::atomic<bool> warm{false};
    s.submit([&] { warm.store(true); });
    ASSERT_TRUE(poll([&] { return warm.load(); }));  // its worker spins for 200 ms now
    std::atomic<int> arrived{0};
    std::atomic<int> met{0};
    std::atomic<int> finished{0};
    auto pair_member = [&] {
      arrived.fetch_add(1);
      for (int i = 0; i < 20000 && arrived.load() < 2; ++i) std::this_thread::sleep_for(1ms);
      if (arrived.load() == 2) met.fetch_add(1);
      finished.fetch_add(1);
    };
    s.submit(pair_member);
    s.submit(pair_member);
    ASSERT_TRUE(poll([&] { return finished.load() == 2; }));
    EXPECT_EQ(met.load(), 2) << "round " << round << ": the two tasks did not run at once";
  }
}

// A wait whose awaited thread runs only after a yield (it shares our CPU) halves the
// next wait's spin; a wait that ends while spinning doubles it back, up to the full spin.
TEST(SchedSpin, TeamWaitsLearnToYieldSoonerAndBack) {
  weft::detail::LearnedSpin spin;
  const unsigned full = weft::detail::LearnedSpin::max_rounds;
  ASSERT_EQ(spin.rounds(), full);
  // Done only after the first yield: every round before it was wasted.
  auto wait_needing_a_yield = [&] {
    bool yielded = false;
    unsigned looks = 0;
    spin.wait([&] { ++looks; return yielded; }, [&] { yielded = true; });
    return looks;
  };
  EXPECT_EQ(wait_needing_a_yield(), full + 2);  // the whole spin, the yield, the look after
  EXPECT_EQ(spin.rounds(), full / 2);
  for (int i = 0; i < 20; ++i) wait_needing_a_yield();
  EXPECT_EQ(spin.rounds(), 1u);  // never below one round
  EXPECT_EQ(wait_needing_a_yield(), 3u);
  // Done at once: no yield, the spin doubles back each time, up to the full spin.
  unsigned yields = 0;
  for (int i = 0; i < 20; ++i) spin.wait([] { return true; }, [&] { ++yields; });
  EXPECT_EQ(yields, 0u);
  EXPECT_EQ(spin.rounds(), full);
}

}  // namespace
