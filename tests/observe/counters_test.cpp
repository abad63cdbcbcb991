// WorkerCounters: single-writer counts and time accounting by state transitions, with
// injected timestamps (no wall-clock assertions).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "observe/metrics_builder.hpp"
#include "observe/worker_counters.hpp"

namespace weft::detail {
namespace {

using State = WorkerCounters::State;

std::uint64_t sum(const CounterSnapshot& s) { return s.time_ns[0] + s.time_ns[1] + s.time_ns[2]; }

TEST(ObserveCounters, NotStartedReadsZeroTime) {
  WorkerCounters c;
  const CounterSnapshot s = c.snapshot(12345);
  EXPECT_EQ(sum(s), 0u);
  EXPECT_EQ(s.last_cpu, -1);
}

TEST(ObserveCounters, TimeAddsUpToTheWindowExactly) {
  WorkerCounters c;
  c.start(State::busy, 1000);
  c.enter(State::spinning, 1500);
  c.enter(State::parked, 1700);
  c.enter(State::busy, 2700);
  const CounterSnapshot s = c.snapshot(3000);
  EXPECT_EQ(s.time_ns[0], 500u + 300u);
  EXPECT_EQ(s.time_ns[1], 200u);
  EXPECT_EQ(s.time_ns[2], 1000u);
  EXPECT_EQ(sum(s), 3000u - 1000u);
  EXPECT_EQ(s.parks, 1u);
  EXPECT_EQ(s.wakeups, 1u);
}

TEST(ObserveCounters, CurrentStateCountsUpToNow) {
  WorkerCounters c;
  c.start(State::busy, 0);
  c.enter(State::parked, 100);
  EXPECT_EQ(c.snapshot(250).time_ns[2], 150u);
  EXPECT_EQ(c.snapshot(400).time_ns[2], 300u);
  // A reader whose clock read came before the last transition adds nothing.
  EXPECT_EQ(c.snapshot(50).time_ns[2], 0u);
  EXPECT_EQ(c.snapshot(50).time_ns[0], 100u);
}

TEST(ObserveCounters, ReenteringTheSameStateIsNotAPark) {
  WorkerCounters c;
  c.start(State::busy, 0);
  c.enter(State::busy, 10);
  c.enter(State::parked, 20);
  c.enter(State::parked, 30);
  c.enter(State::spinning, 40);
  const CounterSnapshot s = c.snapshot(40);
  EXPECT_EQ(s.parks, 1u);
  EXPECT_EQ(s.wakeups, 1u);
  EXPECT_EQ(s.time_ns[0], 20u);
  EXPECT_EQ(s.time_ns[2], 20u);
}

TEST(ObserveCounters, WindowFromTwoSnapshotsAddsUp) {
  WorkerCounters c;
  c.start(State::busy, 1000);
  c.enter(State::spinning, 1500);
  MetricsSample baseline{2000, {WorkerSample{c.snapshot(2000), {}, {}}}, {}};
  c.enter(State::parked, 2100);
  c.enter(State::busy, 2700);
  MetricsSample current{3000, {WorkerSample{c.snapshot(3000), {}, {}}}, {}};
  const Metrics m = build_metrics(baseline, current, {{0, 0}}, 1.0);
  ASSERT_EQ(m.workers.size(), 1u);
  const WorkerMetrics& w = m.workers[0];
  EXPECT_EQ(m.window_ns, 1000u);
  EXPECT_EQ(w.spinning_ns, 100u);  // 2000..2100
  EXPECT_EQ(w.parked_ns, 600u);
  EXPECT_EQ(w.busy_ns, 300u);
  EXPECT_EQ(w.busy_ns + w.spinning_ns + w.parked_ns, m.window_ns);
  EXPECT_EQ(w.parks, 1u);
  EXPECT_EQ(w.wakeups, 1u);
}

TEST(ObserveCounters, CountsTasksStealsAndSpinCuts) {
  WorkerCounters c;
  c.task_run(Priority::critical);
  c.task_run(Priority::critical);
  c.task_run(Priority::low);
  c.loop_chunks(5);
  c.steal_attempted(4);
  c.steal_succeeded(StealDistance::same_l3);
  c.steal_succeeded(StealDistance::remote);
  c.steal_succeeded(StealDistance::remote);
  c.spin_cut(700);
  c.spin_extended(900);
  c.stepped_aside();
  c.stepped_aside();
  c.pulled();
  const CounterSnapshot s = c.snapshot(0);
  EXPECT_EQ(s.tasks_run[0], 1u);
  EXPECT_EQ(s.tasks_run[1], 0u);
  EXPECT_EQ(s.tasks_run[3], 2u);
  EXPECT_EQ(s.loop_chunks, 5u);
  EXPECT_EQ(s.steals_attempted, 4u);
  EXPECT_EQ(s.steals_succeeded, 3u);
  EXPECT_EQ(s.steals_by_distance[0], 1u);
  EXPECT_EQ(s.steals_by_distance[1], 0u);
  EXPECT_EQ(s.steals_by_distance[2], 2u);
  EXPECT_EQ(s.spin_cut_ns, 700u);
  EXPECT_EQ(s.spin_extended_ns, 900u);
  EXPECT_EQ(s.steps_aside, 2u);
  EXPECT_EQ(s.pulls, 1u);
}

TEST(ObserveCounters, MigrationsCountCpuChangesBetweenSamples) {
  WorkerCounters c;
  c.start(State::busy, 0, 3);
  c.enter(State::spinning, 1, 3);
  c.enter(State::busy, 2, -1);  // unknown: neither a migration nor a new last CPU
  c.enter(State::parked, 3, 5);
  c.enter(State::busy, 4, 5);
  c.enter(State::spinning, 5, 3);
  const CounterSnapshot s = c.snapshot(5);
  EXPECT_EQ(s.migrations, 2u);
  EXPECT_EQ(s.last_cpu, 3);
}

// A worker's time before it has run anything: idle (counted as parked), not busy.
TEST(ObserveCounters, StartIdleCountsAsParkedNotBusy) {
  WorkerCounters c;
  c.start_idle(1000);
  EXPECT_FALSE(c.busy());
  CounterSnapshot s = c.snapshot(1500);
  EXPECT_EQ(s.time_ns[0], 0u);
  EXPECT_EQ(s.time_ns[2], 500u);
  c.note_cpu(1550, 3);  // the thread started: its CPU, still idle
  c.enter(State::spinning, 1600);
  c.enter(State::parked, 1700);
  s = c.snapshot(2000);
  EXPECT_EQ(s.time_ns[0], 0u);
  EXPECT_EQ(s.time_ns[1], 100u);
  EXPECT_EQ(s.time_ns[2], 600u + 300u);
  EXPECT_EQ(s.last_cpu, 3);
  // Started and went to sleep: one park, and starting was not a wake-up.
  EXPECT_EQ(s.parks, 1u);
  EXPECT_EQ(s.wakeups, 0u);
}

TEST(ObserveCounters, StartIdleThenParkWithoutSpinningIsAPark) {
  WorkerCounters c;
  c.start_idle(0);
  c.enter(State::parked, 10);
  c.enter(State::busy, 30);
  EXPECT_TRUE(c.busy());
  const CounterSnapshot s = c.snapshot(40);
  EXPECT_EQ(s.parks, 1u);
  EXPECT_EQ(s.wakeups, 1u);
  EXPECT_EQ(s.time_ns[2], 30u);
  EXPECT_EQ(s.time_ns[0], 10u);
}

// A reader snapshotting while the owner changes state must always see a consistent
// (state, since, totals) triple: with a reading time later than every transition, the
// three times then sum to exactly now - start.
TEST(ObserveCounters, ConcurrentSnapshotsAreConsistent) {
  WorkerCounters c;
  c.start(State::busy, 0);
  constexpr std::uint64_t transitions = 20000;
  constexpr std::uint64_t far_future = 1ull << 40;
  std::atomic<bool> done{false};
  std::thread owner([&] {
    for (std::uint64_t t = 1; t <= transitions; ++t) c.enter(static_cast<State>(t % 3), t * 7, static_cast<int>(t % 2));
    done.store(true, std::memory_order_release);  // release/acquire: only a stop flag; join() orders the rest
  });
  std::uint64_t snapshots = 0;
  std::uint64_t last_parks = 0;
  while (!done.load(std::memory_order_acquire) || snapshots == 0) {
    const CounterSnapshot s = c.snapshot(far_future);
    ASSERT_EQ(sum(s), far_future);
    ASSERT_GE(s.parks, last_parks);
    ASSERT_LE(s.parks - s.wakeups, 1u);
    last_parks = s.parks;
    ++snapshots;
  }
  owner.join();
  const CounterSnapshot s = c.snapshot(transitions * 7);
  EXPECT_EQ(sum(s), transitions * 7);
  EXPECT_EQ(s.migrations, transitions - 1);
}

}  // namespace
}  // namespace weft::detail
