// Shutdown: pending tasks all run; submits during destruction raise.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <optional>
#include <chrono>
#include <thread>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::make_placement;
using weft::test::unpinned;

TEST(SchedShutdown, DestructorRunsEveryPendingTask) {
  std::atomic<int> ran{0};
  {
    weft::Scheduler s(make_placement(2), unpinned());
    std::latch release(1);
    for (int w = 0; w < 2; ++w) {
      weft::TaskOptions o;
      o.worker = w;
      o.strict = true;
      s.submit([&] { release.wait(); }, o);  // hold both workers
    }
    for (int i = 0; i < 5000; ++i) s.submit([&] { ran.fetch_add(1); }, {static_cast<weft::Priority>(i % 4)});
    for (int i = 0; i < 100; ++i) {
      weft::TaskOptions o;
      o.worker = i % 2;
      o.strict = i % 3 == 0;
      s.submit([&] { ran.fetch_add(1); }, o);
    }
    release.count_down();
  }
  EXPECT_EQ(ran.load(), 5100);
}

TEST(SchedShutdown, TasksSpawnedDuringShutdownRun) {
  std::atomic<int> ran{0};
  {
    weft::Scheduler s(make_placement(2), unpinned());
    for (int i = 0; i < 50; ++i) {
      s.submit([&s, &ran] {
        weft::TaskGroup g(s);
        for (int k = 0; k < 20; ++k) g.run([&ran] { ran.fetch_add(1); });
        g.wait();
      });
    }
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(SchedShutdown, SubmitDuringDestructionRaises) {
  auto s = std::make_unique<weft::Scheduler>(make_placement(1), unpinned());
  std::latch started(1), release(1);
  std::atomic<bool> destroying{false};
  s->submit([&] {
    started.count_down();
    release.wait();
  });
  started.wait();
  weft::Scheduler* raw = s.get();
  // The destructor waits for the running task, which waits for `release`.
  std::thread destroyer([&] {
    destroying = true;
    s.reset();
  });
  while (!destroying.load()) std::this_thread::yield();
  bool raised = false;
  for (int i = 0; i < 100000 && !raised; ++i) {
    try {
      raw->submit([] {});
    } catch (const weft::SchedulerError& e) {
      raised = true;
      EXPECT_NE(std::string(e.what()).find("destroyed"), std::string::npos);
    }
    if (!raised) std::this_thread::yield();
  }
  release.count_down();
  destroyer.join();
  EXPECT_TRUE(raised);
}

TEST(SchedShutdown, DestroyFromOwnWorkerTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* s = new weft::Scheduler(make_placement(1), unpinned());
        weft::TaskOptions o;
        o.worker = 0;
        o.strict = true;
        s->submit([s] { delete s; }, o);
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      },
      "destroyed from inside one of its own tasks");
}

}  // namespace
