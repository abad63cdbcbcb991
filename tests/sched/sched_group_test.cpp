// TaskGroup: fork-join, recursion (a task per fib call), exceptions at every level,
// cancellation, destructor waiting.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <stdexcept>
#include <string>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::make_placement;
using weft::test::unpinned;

long fib(weft::Scheduler& s, int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  weft::TaskGroup g(s);
  g.run([&] { a = fib(s, n - 1); });
  g.run([&] { b = fib(s, n - 2); });
  g.wait();
  return a + b;
}

TEST(SchedGroup, Fib25TaskPerCall) {
  weft::Scheduler s(make_placement(3), unpinned());
  EXPECT_EQ(fib(s, weft::test::sanitized ? 20 : 25), weft::test::sanitized ? 6765 : 75025);
}

TEST(SchedGroup, Fib25FromInsideATask) {
  weft::Scheduler s(make_placement(2), unpinned());
  auto f = s.submit([&s] { return fib(s, 18); });
  EXPECT_EQ(f.get(), 2584);
}

TEST(SchedGroup, ManyTasksAllRun) {
  weft::Scheduler s(make_placement(3), unpinned());
  std::atomic<int> count{0};
  weft::TaskGroup g(s);
  for (int i = 0; i < 10000; ++i) g.run([&] { count.fetch_add(1); });
  g.wait();
  EXPECT_EQ(count.load(), 10000);
}

TEST(SchedGroup, WaitRethrowsFirstException) {
  weft::Scheduler s(make_placement(2), unpinned());
  weft::TaskGroup g(s);
  g.run([] { throw std::runtime_error("first"); });
  EXPECT_THROW(g.wait(), std::runtime_error);
  // Reusable afterwards, not cancelled.
  std::atomic<int> ran{0};
  g.run([&] { ran = 1; });
  g.wait();
  EXPECT_EQ(ran.load(), 1);
}

TEST(SchedGroup, ExceptionCancelsTheRest) {
  weft::Scheduler s(make_placement(1), unpinned());
  std::latch started(1), release(1);
  std::atomic<int> ran{0};
  weft::TaskGroup blocker(s);
  blocker.run([&] {  // occupies the only worker
    started.count_down();
    release.wait();
  });
  started.wait();
  weft::TaskGroup g(s);
  g.run([] { throw std::logic_error("stop"); }, {weft::Priority::critical});
  for (int i = 0; i < 100; ++i) g.run([&] { ran.fetch_add(1); });
  // This thread helps: it runs the critical thrower first, which cancels the others.
  EXPECT_THROW(g.wait(), std::logic_error);
  EXPECT_EQ(ran.load(), 0);
  release.count_down();
  blocker.wait();
}

TEST(SchedGroup, NestedExceptionsPropagate) {
  weft::Scheduler s(make_placement(3), unpinned());
  auto f = s.submit([&s] {
    weft::TaskGroup outer(s);
    outer.run([&s] {
      weft::TaskGroup inner(s);
      inner.run([&s] {
        auto leaf = s.submit([]() -> int { throw std::out_of_range("leaf"); });
        leaf.get();
      });
      inner.wait();
    });
    outer.wait();
    return 0;
  });
  try {
    f.get();
    FAIL() << "expected out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "leaf");
  }
}

TEST(SchedGroup, CancelSkipsNotStarted) {
  weft::Scheduler s(make_placement(1), unpinned());
  std::latch started(1), release(1);
  weft::TaskGroup blocker(s);
  blocker.run([&] {
    started.count_down();
    release.wait();
  });
  started.wait();
  std::atomic<int> ran{0};
  weft::TaskGroup g(s);
  for (int i = 0; i < 50; ++i) g.run([&] { ran.fetch_add(1); });
  g.cancel();
  EXPECT_TRUE(g.is_cancelled());
  g.wait();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_FALSE(g.is_cancelled());
  release.count_down();
  blocker.wait();
}

TEST(SchedGroup, DestructorWaits) {
  weft::Scheduler s(make_placement(2), unpinned());
  std::atomic<int> ran{0};
  {
    weft::TaskGroup g(s);
    for (int i = 0; i < 1000; ++i) g.run([&] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(SchedGroup, DeepNestingOnOneWorker) {
  weft::Scheduler s(make_placement(1), unpinned());
  std::atomic<int> leaves{0};
  struct Rec {
    static void go(weft::Scheduler& s, std::atomic<int>& leaves, int depth) {
      if (depth == 0) {
        leaves.fetch_add(1);
        return;
      }
      weft::TaskGroup g(s);
      g.run([&] { go(s, leaves, depth - 1); });
      g.wait();
    }
  };
  weft::TaskGroup g(s);
  for (int i = 0; i < 8; ++i) g.run([&] { Rec::go(s, leaves, 200); });
  g.wait();
  EXPECT_EQ(leaves.load(), 8);
}

}  // namespace
