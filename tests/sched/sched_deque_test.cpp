// The Chase-Lev deque alone: LIFO for the owner, FIFO for thieves, and under contention
// every pushed item comes out exactly once (popped + stolen == pushed, as a multiset).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sched/work_deque.hpp"
#include "sched_test_support.hpp"

namespace {

using weft::detail::StealStatus;
using weft::detail::Task;
using weft::detail::WorkDeque;

// The deque stores pointers and never dereferences them: use indices as fake tasks.
Task* fake(std::size_t i) { return reinterpret_cast<Task*>((i + 1) * 64); }
std::size_t index_of(Task* t) { return reinterpret_cast<std::size_t>(t) / 64 - 1; }

TEST(SchedDeque, OwnerIsLifoThiefIsFifo) {
  WorkDeque d(4);
  for (std::size_t i = 0; i < 10; ++i) d.push(fake(i));  // grows twice
  EXPECT_EQ(d.steal().task, fake(0));
  EXPECT_EQ(d.pop(), fake(9));
  EXPECT_EQ(d.steal().task, fake(1));
  for (std::size_t i = 8; i >= 2; --i) EXPECT_EQ(d.pop(), fake(i));
  EXPECT_EQ(d.pop(), nullptr);
  EXPECT_EQ(d.steal().status, StealStatus::empty);
}

class SchedDequeContention : public ::testing::TestWithParam<int> {};

TEST_P(SchedDequeContention, EveryItemOnce) {
  const int thieves = GetParam();
  const std::size_t n = weft::test::scaled(200000);
  WorkDeque d(16);
  std::vector<std::atomic<int>> seen(n);
  for (auto& s : seen) s.store(0);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < thieves; ++t) {
    threads.emplace_back([&] {
      while (!done.load()) {
        auto r = d.steal();
        if (r.status == StealStatus::success) seen[index_of(r.task)].fetch_add(1);
      }
    });
  }
  for (std::size_t i = 0; i < n; ++i) {
    d.push(fake(i));
    if (i % 3 == 0) {
      if (Task* t = d.pop()) seen[index_of(t)].fetch_add(1);
    }
  }
  while (Task* t = d.pop()) seen[index_of(t)].fetch_add(1);
  done.store(true);
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

INSTANTIATE_TEST_SUITE_P(Thieves, SchedDequeContention, ::testing::Values(1, 2, 4, 8));

}  // namespace
