// Stress: many tiny tasks (none lost, none twice), many external submitters, and
// park/wake rounds. A lost wake-up shows as a hang: every wait is bounded (HangWatch),
// and one that does not finish dumps the workers' states and aborts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::HangWatch;
using weft::test::make_placement;
using weft::test::scaled;
using weft::test::unpinned;

TEST(SchedStress, MillionsOfTinyTasksEachOnce) {
  weft::Scheduler s(make_placement(3), unpinned());
  const std::size_t n = scaled(2'000'000, 40);
  std::vector<std::atomic<unsigned char>> hits(n);
  for (auto& h : hits) h.store(0, std::memory_order_relaxed);
  HangWatch watch(s);  // each finished block restarts the limit
  // Spawned from inside tasks (worker deques and stealing) in blocks of 1000.
  weft::TaskGroup outer(s);
  for (std::size_t block = 0; block < n; block += 1000) {
    outer.run([&, block] {
      weft::TaskGroup inner(s);
      for (std::size_t i = block; i < block + 1000 && i < n; ++i) {
        inner.run([&hits, i] { hits[i].fetch_add(1, std::memory_order_relaxed); });
      }
      inner.wait();
      watch.touch();
    });
  }
  watch.wait("the blocks of tiny tasks", [&] { outer.wait(); });
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += hits[i].load() != 1;
  EXPECT_EQ(bad, 0u);
}

TEST(SchedStress, EightExternalSubmitters) {
  weft::Scheduler s(make_placement(3), unpinned());
  const std::size_t per_thread = scaled(50'000);
  std::atomic<std::size_t> sum{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      HangWatch watch(s);
      std::vector<weft::Future<std::size_t>> fs;
      fs.reserve(256);
      for (std::size_t i = 0; i < per_thread; ++i) {
        std::size_t v = t * per_thread + i;
        fs.push_back(s.submit([&sum, v] {
          sum.fetch_add(v, std::memory_order_relaxed);
          return v;
        }));
        if (fs.size() == 256 || i + 1 == per_thread) {
          watch.wait("a batch of futures", static_cast<long>(i), [&] {
            for (auto& f : fs) f.get();
          });
          fs.clear();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::size_t total = 8 * per_thread;
  EXPECT_EQ(sum.load(), total * (total - 1) / 2);
}

TEST(SchedStress, ParkWakeRounds) {
  // Zero spin: every idle worker parks at once, so every submit must wake one.
  for (auto spin : {std::chrono::microseconds{0}, std::chrono::microseconds{5}}) {
    weft::Scheduler s(make_placement(3), unpinned(spin));
    HangWatch watch(s);
    const int rounds = static_cast<int>(scaled(3000, 6));
    for (int r = 0; r < rounds; ++r) {
      std::latch done(1);
      // The latch (not a Future) keeps this thread from running the task itself.
      s.submit([&done] { done.count_down(); });
      watch.wait("a park/wake round's task", r, [&] { done.wait(); });
      if (r % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));  // let all park
    }
  }
}

TEST(SchedStress, ParkWakeStrictRounds) {
  weft::Scheduler s(make_placement(3), unpinned(std::chrono::microseconds{0}));
  HangWatch watch(s);
  const int rounds = static_cast<int>(scaled(2000, 5));
  for (int r = 0; r < rounds; ++r) {
    std::latch done(1);
    weft::TaskOptions o;
    o.worker = r % 3;
    o.strict = true;
    s.submit([&done] { done.count_down(); }, o);
    watch.wait("a strict task for worker r % 3", r, [&] { done.wait(); });
  }
}

TEST(SchedStress, FuturesWaitedFromWorkersAndOutside) {
  weft::Scheduler s(make_placement(3), unpinned(std::chrono::microseconds{0}));
  HangWatch watch(s);
  const int rounds = static_cast<int>(scaled(2000, 10));
  for (int r = 0; r < rounds; ++r) {
    auto f = s.submit([&s] {
      auto a = s.submit([] { return 1; });
      auto b = s.submit([] { return 2; });
      return a.get() + b.get();
    });
    ASSERT_EQ(watch.wait("a future that waits on two futures", r, [&] { return f.get(); }), 3);
  }
}

}  // namespace
