// Priorities, affinity hints and reserved workers.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::Priority;
using weft::test::make_placement;
using weft::test::unpinned;

// The ordinary workers' order (with background workers, low tasks run beside the
// others on threads of their own: sched_background_test.cpp).
TEST(SchedPriority, CriticalBeforeLowOnOneWorker) {
  weft::Scheduler s(make_placement(1), weft::test::without_background());
  std::latch started(1), release(1);
  auto blocker = s.submit([&] {
    started.count_down();
    release.wait();
  });
  started.wait();  // the only worker is now busy

  constexpr int per_level = 20;
  std::mutex m;
  std::vector<Priority> order;
  std::latch all_done(4 * per_level);
  auto record = [&](Priority p) {
    return [&, p] {
      {
        std::lock_guard<std::mutex> lock(m);
        order.push_back(p);
      }
      all_done.count_down();
    };
  };
  // Queued lowest first; this thread never helps (it waits on a latch, not a Future).
  for (Priority p : {Priority::low, Priority::normal, Priority::high, Priority::critical}) {
    for (int i = 0; i < per_level; ++i) s.submit(record(p), {p});
  }
  release.count_down();
  all_done.wait();
  blocker.get();
  ASSERT_EQ(order.size(), 4u * per_level);
  for (std::size_t i = 0; i < order.size(); ++i) {
    Priority expected = static_cast<Priority>(3 - i / per_level);
    EXPECT_EQ(order[i], expected) << "position " << i;
  }
}

TEST(SchedPriority, ReservedWorkersRunOnlyUrgentWork) {
  weft::Scheduler s(make_placement(3, 1), unpinned());  // worker 2 is reserved
  std::atomic<int> on_reserved_low{0}, urgent_ran{0};
  weft::TaskGroup g(s);
  for (int i = 0; i < 2000; ++i) {
    Priority p = i % 2 == 0 ? Priority::low : Priority::normal;
    g.run(
        [&] {
          if (s.current_worker() == 2) on_reserved_low.fetch_add(1);
          std::atomic<int> spin{0};
          while (spin.fetch_add(1, std::memory_order_relaxed) < 200) {
          }
        },
        {p});
  }
  for (int i = 0; i < 200; ++i) g.run([&] { urgent_ran.fetch_add(1); }, {Priority::critical});
  g.wait();
  EXPECT_EQ(on_reserved_low.load(), 0);
  EXPECT_EQ(urgent_ran.load(), 200);
  // A strict urgent task for the reserved worker runs there.
  weft::TaskOptions o{Priority::high};
  o.worker = 2;
  o.strict = true;
  EXPECT_EQ(s.submit([&s] { return s.current_worker(); }, o).get(), 2);
  // A strict normal task could never run there.
  o.priority = Priority::normal;
  EXPECT_THROW(s.submit([] {}, o), weft::ConfigError);
}

TEST(SchedPriority, TasksSpawnedByTasksKeepTheirLevels) {
  weft::Scheduler s(make_placement(2), unpinned());
  std::atomic<int> count{0};
  auto f = s.submit([&] {
    weft::TaskGroup g(s);
    for (int i = 0; i < 400; ++i) {
      g.run([&] { count.fetch_add(1); }, {static_cast<Priority>(i % 4)});
    }
    g.wait();
  });
  f.get();
  EXPECT_EQ(count.load(), 400);
}

}  // namespace
