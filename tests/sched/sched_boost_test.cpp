// Priority inheritance and TaskGroup boosting (issue 5: no priority inversion).
// No assertion reads a clock: each "before" is made certain by gating (a worker is held
// in a task until the test lets it go, a task waits for another to have started).
// Each test declares its scheduler after the state its tasks use: the scheduler's
// destructor runs the leftover unrelated tasks, which still touch that state.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::Priority;
using weft::TaskOptions;
using weft::test::make_placement;
using weft::test::spin_until;
// Boosting among the ordinary workers: low work stays on them here (with background
// workers it would run beside the waiter instead of after it).
weft::Config unpinned() { return weft::test::without_background(); }

// Queued at worker `w` only, at `p`.
TaskOptions on_worker(int w, Priority p) {
  TaskOptions o;
  o.priority = p;
  o.worker = w;
  o.strict = true;
  return o;
}

TaskOptions at(Priority p) {
  TaskOptions o;
  o.priority = p;
  return o;
}

// Keeps worker `w` busy in a strict critical task until release() (or destruction): the
// tests' way to choose which worker can take what, and when.
class WorkerHold {
 public:
  WorkerHold(weft::Scheduler& s, int w)
      : done_(s.submit([this] {
          held_.store(true);
          while (hold_.load()) std::this_thread::yield();
        }, on_worker(w, Priority::critical))) {
    spin_until(s, "the wait for held", held_);
  }
  ~WorkerHold() {
    release();
    done_.get();
  }
  void release() { hold_.store(false); }

 private:
  std::atomic<bool> hold_{true}, held_{false};
  weft::Future<void> done_;
};

// The order tasks started in: 'G' for the group's, 'U' for unrelated work.
class StartLog {
 public:
  void add(char kind, int worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back({kind, worker});
  }
  struct Entry {
    char kind;
    int worker;
  };
  std::vector<Entry> entries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

TEST(SchedBoost, UnsetPriorityInheritsTheSubmittersLevel) {
  weft::Scheduler s(make_placement(2), unpinned());
  EXPECT_EQ(weft::current_priority(), Priority::normal);  // no weft work on this thread
  EXPECT_EQ(s.submit([] { return weft::current_priority(); }).get(), Priority::normal);
  for (Priority p : {Priority::low, Priority::normal, Priority::high, Priority::critical}) {
    auto f = s.submit(
        [&s] {
          // Observed without waiting on the child: a waiter would run it boosted.
          std::atomic<int> seen{-1};
          auto child = s.submit([&] { seen.store(static_cast<int>(weft::current_priority())); });
          while (seen.load() < 0) std::this_thread::yield();
          const auto inherited = static_cast<Priority>(seen.exchange(-1));
          auto low = s.submit([&] { seen.store(static_cast<int>(weft::current_priority())); },
                              at(Priority::low));
          while (seen.load() < 0) std::this_thread::yield();
          const auto explicit_low = static_cast<Priority>(seen.load());
          child.get();
          low.get();
          return std::vector<Priority>{weft::current_priority(), inherited, explicit_low};
        },
        at(p));
    EXPECT_EQ(f.get(), (std::vector<Priority>{p, p, Priority::low})) << weft::to_string(p);
  }
}

TEST(SchedBoost, LoopBodiesAndTheirTasksInheritTheLoopsLevel) {
  std::atomic<int> wrong{0};
  weft::Scheduler s(make_placement(2), unpinned());
  weft::ForOptions critical;
  critical.priority = Priority::critical;
  s.parallel_for(0, 64, [&](std::size_t) {
    if (weft::current_priority() != Priority::critical) wrong.fetch_add(1);
    // A nested loop and a task with options left unset: critical as well.
    s.parallel_for(0, 4, [&](std::size_t) {
      if (weft::current_priority() != Priority::critical) wrong.fetch_add(1);
    });
    weft::TaskGroup g(s);
    g.run([&] {
      if (weft::current_priority() != Priority::critical) wrong.fetch_add(1);
    });
    g.wait();
  }, critical);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(weft::current_priority(), Priority::normal);  // restored after the loop
}

// A thread weft did not create (a request handler) sets its own priority for a scope:
// its loops and tasks inherit it, nested scopes restore the outer one, a bad value is
// a ConfigError naming the value.
TEST(SchedBoost, PriorityScopeSetsTheCallingThreadsPriority) {
  std::atomic<int> wrong{0};
  weft::Scheduler s(make_placement(2), unpinned());
  {
    weft::PriorityScope live(Priority::critical);
    EXPECT_EQ(weft::current_priority(), Priority::critical);
    s.parallel_for(0, 64, [&](std::size_t) {
      if (weft::current_priority() != Priority::critical) wrong.fetch_add(1);
    });
    EXPECT_EQ(s.submit([] { return weft::current_priority(); }).get(), Priority::critical);
    {
      weft::PriorityScope batch(Priority::low);
      EXPECT_EQ(s.submit([] { return weft::current_priority(); }).get(), Priority::low);
      weft::TaskGroup g(s);
      std::atomic<int> seen{-1};
      g.run([&] { seen.store(static_cast<int>(weft::current_priority())); });
      while (seen.load() < 0) std::this_thread::yield();  // a worker runs it, at low
      EXPECT_EQ(seen.load(), static_cast<int>(Priority::low));
      g.wait();
    }
    EXPECT_EQ(weft::current_priority(), Priority::critical);
  }
  EXPECT_EQ(weft::current_priority(), Priority::normal);
  EXPECT_EQ(wrong.load(), 0);
  try {
    weft::PriorityScope bad(static_cast<Priority>(9));
    ADD_FAILURE() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    EXPECT_STREQ(e.what(), "PriorityScope: 9 is not a Priority");
  }
  EXPECT_EQ(weft::current_priority(), Priority::normal);
}

// A critical task waits on a group of low tasks while unrelated normal and low tasks
// are queued: the waiting worker runs all of its group's tasks first (before, it took
// the unrelated normal work first, being more urgent than the group's low tasks).
// Those tasks run boosted to critical, and so does what they spawn.
TEST(SchedBoost, CriticalWaiterRunsItsGroupBeforeUnrelatedWork) {
  std::atomic<bool> flooded{false}, done{false};
  StartLog log;
  std::atomic<int> not_boosted{0};
  weft::Scheduler s(make_placement(2), unpinned());
  WorkerHold worker1(s, 1);
  auto request = s.submit([&] {
    spin_until(s, "the wait for flooded", flooded);
    weft::TaskGroup g(s);
    for (int i = 0; i < 10; ++i) {
      g.run([&] {
        log.add('G', s.current_worker());
        if (weft::current_priority() != Priority::critical) not_boosted.fetch_add(1);
        // Spawned by a boosted task, options unset: critical too.
        weft::TaskGroup child(s);
        child.run([&] {
          if (weft::current_priority() != Priority::critical) not_boosted.fetch_add(1);
        });
        child.wait();
      }, at(Priority::low));
    }
    g.wait();
    done.store(true);
  }, on_worker(0, Priority::critical));
  for (int i = 0; i < 100; ++i) {
    s.submit([&] { log.add('U', s.current_worker()); }, at(i % 2 == 0 ? Priority::normal : Priority::low));
  }
  flooded.store(true);
  // Not request.get(): this thread would help with the unrelated work.
  spin_until(s, "the wait for done", done);
  std::vector<StartLog::Entry> entries = log.entries();
  ASSERT_GE(entries.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(entries[i].kind, 'G') << "start #" << i;
  EXPECT_EQ(not_boosted.load(), 0);
  worker1.release();
  request.get();
}

// An idle worker takes the boosted group's tasks before unrelated normal work: worker 1
// is released by the group's first task (so the waiter's boost is published by then),
// and its first task afterwards is one of the group's, stolen from the waiter's deque.
TEST(SchedBoost, IdleWorkerTakesBoostedGroupTasksBeforeUnrelatedWork) {
  std::atomic<bool> flooded{false}, done{false};
  std::atomic<bool> group_task_on_worker1{false};
  std::atomic<int> group_started{0};
  StartLog log;
  weft::Scheduler s(make_placement(2), unpinned());
  WorkerHold worker1(s, 1);
  auto request = s.submit([&] {
    spin_until(s, "the wait for flooded", flooded);
    weft::TaskGroup g(s);
    for (int i = 0; i < 10; ++i) {
      g.run([&] {
        const int w = s.current_worker();
        log.add('G', w);
        if (w == 1) group_task_on_worker1.store(true);
        if (group_started.fetch_add(1) == 0) {
          worker1.release();  // inside the boosted wait: let worker 1 go
        } else if (w == 0) {
          // Leave work for worker 1 to take.
          spin_until(s, "the wait for group_task_on_worker1", group_task_on_worker1);
        }
      }, at(Priority::low));
    }
    g.wait();
    done.store(true);
  }, on_worker(0, Priority::critical));
  for (int i = 0; i < 100; ++i) s.submit([&] { log.add('U', s.current_worker()); });
  flooded.store(true);
  spin_until(s, "the wait for done", done);
  bool seen_group_task = false;
  for (const StartLog::Entry& e : log.entries()) {
    if (e.worker != 1) continue;
    if (e.kind == 'G') seen_group_task = true;
    if (e.kind == 'U') {
      EXPECT_TRUE(seen_group_task) << "worker 1 ran unrelated work before the boosted group's";
      break;
    }
  }
  EXPECT_TRUE(seen_group_task);
  request.get();
}

// While the group's last task runs on the other worker, the critical waiter does not
// start unrelated low or normal work (which could hold it long after its group is done).
TEST(SchedBoost, CriticalWaiterDoesNotStartUnrelatedWorkWhileItsGroupRunsElsewhere) {
  std::atomic<bool> flooded{false}, group_done{false}, done{false}, on_worker1{false};
  std::atomic<int> taken_by_waiter_too_early{0};
  weft::Scheduler s(make_placement(2), unpinned());
  auto request = s.submit([&] {
    spin_until(s, "the wait for flooded", flooded);
    weft::TaskGroup g(s);
    for (int i = 0; i < 2; ++i) {
      g.run([&] {
        if (s.current_worker() == 1) {
          on_worker1.store(true);
          for (int k = 0; k < 2000; ++k) std::this_thread::yield();  // the long one
        } else {
          spin_until(s, "the wait for on_worker1", on_worker1);
        }
      }, at(Priority::low));
    }
    g.wait();
    group_done.store(true);
    done.store(true);
  }, on_worker(0, Priority::critical));
  for (int i = 0; i < 200; ++i) {
    s.submit([&] {
      if (s.current_worker() == 0 && !group_done.load()) taken_by_waiter_too_early.fetch_add(1);
    }, at(i % 2 == 0 ? Priority::normal : Priority::low));
  }
  flooded.store(true);
  spin_until(s, "the wait for done", done);
  request.get();
  EXPECT_EQ(taken_by_waiter_too_early.load(), 0);
}

// Tasks queued into a group while a critical thread waits on it take the waiter's
// level, even when another thread queues them at low: worker 1 queues them once the
// group's first task, run by the waiting worker 0, shows the wait has begun.
TEST(SchedBoost, TasksQueuedIntoABoostedGroupTakeTheWaitersLevel) {
  std::atomic<bool> waiting{false}, queued{false};
  std::atomic<weft::TaskGroup*> group{nullptr};
  std::atomic<int> wrong{0}, ran{0};
  weft::Scheduler s(make_placement(2), unpinned());
  auto queuer = s.submit([&] {
    spin_until(s, "the wait for waiting", waiting);
    for (int i = 0; i < 8; ++i) {
      group.load()->run([&] {
        if (weft::current_priority() != Priority::critical) wrong.fetch_add(1);
        ran.fetch_add(1);
      }, at(Priority::low));
    }
    queued.store(true);
  }, on_worker(1, Priority::high));
  s.submit([&] {
    weft::TaskGroup g(s);
    group.store(&g);
    g.run([&] {
      waiting.store(true);  // run by this waiting worker: the wait has begun
      spin_until(s, "the wait for queued", queued);   // keeps the group open while worker 1 queues
    }, at(Priority::low));
    g.wait();
  }, on_worker(0, Priority::critical)).get();
  queuer.get();
  EXPECT_EQ(ran.load(), 8);
  EXPECT_EQ(wrong.load(), 0);
}

// Many boosted waits at random levels, nested groups, hints and background work from
// several threads: every task runs exactly once and nothing hangs.
TEST(SchedBoost, RandomBoostedWaitsStress) {
  const int rounds = static_cast<int>(weft::test::scaled(300, 10));
  std::atomic<long> ran{0};
  std::atomic<long> queued{0};
  weft::Scheduler s(make_placement(3), unpinned());
  auto client = [&](unsigned seed) {
    std::mt19937 rng(seed);
    weft::test::HangWatch watch(s);
    for (int r = 0; r < rounds; ++r) {
      const auto level = static_cast<Priority>(rng() % 4);
      const int fan = 1 + static_cast<int>(rng() % 6);
      const int hint = static_cast<int>(rng() % 5) - 2;  // -2..2: -1/-2 none
      queued.fetch_add(1);
      auto round = s.submit([&, fan, hint, seed = rng()] {
        std::mt19937 inner(seed);
        weft::TaskGroup g(s);
        for (int i = 0; i < fan; ++i) {
          TaskOptions o = at(static_cast<Priority>(inner() % 4));
          if (i == 0 && hint >= 0) o.worker = hint;
          queued.fetch_add(1);
          g.run([&, nested = inner() % 3 == 0] {
            if (nested) {
              weft::TaskGroup h(s);
              queued.fetch_add(2);
              h.run([&] { ran.fetch_add(1); }, at(Priority::low));
              h.run([&] { ran.fetch_add(1); });
              h.wait();
            }
            ran.fetch_add(1);
          }, o);
        }
        g.wait();
        ran.fetch_add(1);
      }, at(level));
      watch.wait("a boosted round", r, [&] { round.get(); });
    }
  };
  std::thread a(client, 1), b(client, 2);
  client(3);
  a.join();
  b.join();
  EXPECT_EQ(ran.load(), queued.load());
}

}  // namespace
