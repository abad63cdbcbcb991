// Unbound workers and their callers' CPUs (step_aside.cpp): a worker that starts a loop
// part on its caller's CPU moves off it (it would only take turns with the caller), and
// a caller about to sleep at the join pulls a worker still in its loop onto its own
// CPU. The tests put the worker where they need it (affinity), so the kernel's own
// choice of CPU plays no part.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sched/sched_test_support.hpp"
#include "weft/scheduler.hpp"

namespace {

using weft::test::make_placement;

bool set_affinity(const cpu_set_t& set) { return sched_setaffinity(0, sizeof(set), &set) == 0; }

cpu_set_t only(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return set;
}

// The calling thread's affinity mask, restored at the end of the test, and its first two
// CPUs (`second` is -1 with only one: the tests then skip).
struct AffinityRestore {
  cpu_set_t saved;
  int first = -1, second = -1;
  AffinityRestore() {
    sched_getaffinity(0, sizeof(saved), &saved);
    for (int cpu = 0; cpu < CPU_SETSIZE && second < 0; ++cpu) {
      if (!CPU_ISSET(cpu, &saved)) continue;
      (first < 0 ? first : second) = cpu;
    }
  }
  ~AffinityRestore() { set_affinity(saved); }
};

TEST(SchedStepAside, WorkerOnItsCallersCpuRunsItsPartElsewhere) {
  const AffinityRestore restore;
  if (restore.second < 0) GTEST_SKIP() << "needs two usable CPUs";
  const cpu_set_t allowed = restore.saved;
  const int cpu = restore.first;

  weft::Scheduler s(make_placement(1), weft::test::without_background());
  ASSERT_TRUE(set_affinity(only(cpu)));  // the caller stays on `cpu` from here on
  weft::test::HangWatch watch(s);
  std::atomic<bool> worker_on_cpu{false}, loop_posted{false}, part_started{false};
  std::atomic<int> part_cpu{-1};
  // Holds the worker on `cpu` until the loop below has posted its invitation, then lets
  // the kernel place it anywhere again: it is still on `cpu` when it takes the part.
  auto held = s.submit([&] {
    set_affinity(only(cpu));
    worker_on_cpu.store(true);
    while (!loop_posted.load()) std::this_thread::yield();
    set_affinity(allowed);
  });
  weft::test::spin_until(s, "the worker moving onto the caller's CPU", worker_on_cpu);
  s.reset_metrics();

  weft::ForOptions options;
  options.chunk = 1;  // the worker is invited (busy: it takes it when the task ends)
  s.parallel_for(0, 2, [&](std::size_t i) {
    if (s.current_worker() >= 0) {
      part_cpu.store(sched_getcpu());
      part_started.store(true);
      return;
    }
    if (i != 0) return;  // the worker never came: the caller ran both; checked below
    loop_posted.store(true);
    // Keep part 1 for the worker (the caller would take it next); bounded.
    const auto give_up = std::chrono::steady_clock::now() + weft::test::hang_limit;
    while (!part_started.load() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  }, options);
  held.get();

  ASSERT_TRUE(part_started.load()) << "the worker never ran its part";
  EXPECT_NE(part_cpu.load(), cpu) << "the worker ran its part on the caller's CPU";
  EXPECT_EQ(s.metrics().steps_aside, 1u);
}

// The join (run_loop.cpp): a caller that has waited Config::spin plus 100 us for a part
// still running moves that worker onto its own CPU before it sleeps, since the kernel
// may leave a preempted worker queued behind another process. Here the worker runs on
// another CPU and waits to see itself moved; without the pull it would time out.
TEST(SchedStepAside, CallerPullsAStragglerOntoItsCpuBeforeSleeping) {
  const AffinityRestore restore;
  if (restore.second < 0) GTEST_SKIP() << "needs two usable CPUs";
  const cpu_set_t allowed = restore.saved;
  const int cpu = restore.first, other = restore.second;

  weft::Scheduler s(make_placement(1), weft::test::without_background());
  ASSERT_TRUE(set_affinity(only(cpu)));
  weft::test::HangWatch watch(s);
  s.reset_metrics();
  std::atomic<bool> worker_elsewhere{false};
  std::atomic<int> seen_cpu{-1};
  weft::ForOptions options;
  options.chunk = 1;
  s.parallel_for(0, 2, [&](std::size_t) {
    if (s.current_worker() < 0) {
      // The caller: leave the other part to the worker, then go to the join.
      weft::test::spin_until(s, "the worker on the other CPU", worker_elsewhere);
      return;
    }
    set_affinity(only(other));  // now on `other`
    set_affinity(allowed);      // ...and free to be moved again
    worker_elsewhere.store(true);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    int now = sched_getcpu();
    while (now != cpu && std::chrono::steady_clock::now() < give_up) now = sched_getcpu();
    seen_cpu.store(now);
  }, options);
  EXPECT_EQ(seen_cpu.load(), cpu) << "the worker was never moved to the waiting caller's CPU";
  EXPECT_EQ(s.metrics().stragglers_pulled, 1u);
}

TEST(SchedStepAside, BoundWorkersStayWhereTheyAre) {
  weft::Config config = weft::test::without_background();
  config.pinning = weft::Pinning::core;
  weft::Scheduler s(make_placement(1), config);
  for (int rep = 0; rep < 20; ++rep) {
    s.parallel_for(0, 64, [](std::size_t) {}, weft::ForOptions{.grain = 1});
  }
  EXPECT_EQ(s.metrics().steps_aside, 0u);
  EXPECT_EQ(s.metrics().stragglers_pulled, 0u);
}

}  // namespace
