// run_loop: distinct slots, nobody inside after return, nesting, many callers, slot
// stability, reserved workers and domains, and the caller's sleep at the join.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"
#include "worker_gate.hpp"

namespace {

using weft::Priority;
using weft::test::make_placement;
using weft::test::SumJob;
using weft::test::triangle;
using weft::test::unpinned;

void check(const SumJob& job, std::size_t n, unsigned max_threads) {
  EXPECT_EQ(job.sum(), triangle(n));
  EXPECT_EQ(job.inside(), 0) << "a thread is still in run_slot after run_loop returned";
  EXPECT_FALSE(job.bad_slot());
  EXPECT_EQ(job.runs(0), 1u);
  for (unsigned k = 1; k < max_threads; ++k) EXPECT_LE(job.runs(k), 1u) << "slot " << k;
}

TEST(SchedLoop, SlotsDistinctAndBounded) {
  weft::Scheduler s(make_placement(3), unpinned());
  for (unsigned max : {0u, 1u, 2u, 3u, 4u, 9u}) {
    unsigned slots = max == 0 || max > 4 ? 4 : max;
    for (int rep = 0; rep < 200; ++rep) {
      SumJob job(s, 10000, slots);
      s.run_loop(job, max, Priority::normal);
      check(job, 10000, slots);
    }
  }
}

TEST(SchedLoop, SameWorkerPerSlotFromExternalCaller) {
  weft::Scheduler s(make_placement(3), unpinned(std::chrono::microseconds{200}));
  for (int rep = 0; rep < 200; ++rep) {
    SumJob job(s, 200000, 4);
    s.run_loop(job, 4, Priority::normal);
    check(job, 200000, 4);
    EXPECT_EQ(job.worker_of(0), -1);
    for (unsigned k = 1; k < 4; ++k) {
      if (job.runs(k) == 1) {
        EXPECT_EQ(job.worker_of(k), static_cast<int>(k - 1)) << "slot " << k;
      }
    }
  }
}

TEST(SchedLoop, ReservedWorkersOnlyInUrgentLoops) {
  weft::Scheduler s(make_placement(3, 1), unpinned());
  for (int rep = 0; rep < 100; ++rep) {
    SumJob job(s, 50000, 4);
    s.run_loop(job, 0, Priority::normal);
    check(job, 50000, 4);
    for (unsigned k = 0; k < 4; ++k) {
      if (job.runs(k) == 1) {
        EXPECT_NE(job.worker_of(k), 2);
      }
    }
  }
  SumJob job(s, 50000, 4);
  s.run_loop(job, 0, Priority::critical);
  check(job, 50000, 4);
}

TEST(SchedLoop, DomainRestrictsWorkers) {
  weft::Scheduler s(make_placement(4, 0, 2), unpinned());  // node 0: workers 0, 2
  for (int rep = 0; rep < 100; ++rep) {
    SumJob job(s, 50000, 5);
    s.run_loop(job, 0, Priority::normal, weft::detail::LoopDomain{0, -1});
    check(job, 50000, 5);
    for (unsigned k = 1; k < 5; ++k) {
      if (job.runs(k) == 1) {
        int w = job.worker_of(k);
        EXPECT_TRUE(w == 0 || w == 2) << w;
      }
    }
  }
}

// Runs an inner loop from every slot of an outer loop.
class NestedJob final : public weft::detail::LoopJob {
 public:
  NestedJob(weft::Scheduler& s, unsigned slots) : s_(s), slots_(slots) {}
  void run_slot(unsigned slot) noexcept override {
    if (slot >= slots_) bad_.store(true);
    SumJob inner(s_, 5000, s_.num_threads());
    s_.run_loop(inner, 0, Priority::normal);
    if (inner.sum() != triangle(5000) || inner.inside() != 0 || inner.bad_slot()) bad_.store(true);
    done_.fetch_add(1);
  }
  bool bad() const { return bad_.load(); }
  int done() const { return done_.load(); }

 private:
  weft::Scheduler& s_;
  unsigned slots_;
  std::atomic<bool> bad_{false};
  std::atomic<int> done_{0};
};

TEST(SchedLoop, NestedFromInsideRunSlot) {
  weft::Scheduler s(make_placement(3), unpinned());
  for (int rep = 0; rep < 200; ++rep) {
    NestedJob job(s, 4);
    s.run_loop(job, 0, Priority::normal);
    EXPECT_FALSE(job.bad());
    EXPECT_GE(job.done(), 1);
  }
}

TEST(SchedLoop, FromTasks) {
  weft::Scheduler s(make_placement(3), unpinned());
  std::atomic<int> bad{0};
  weft::TaskGroup g(s);
  for (int t = 0; t < 64; ++t) {
    g.run([&, t] {
      SumJob job(s, 20000, 4);
      s.run_loop(job, 0, static_cast<Priority>(t % 4));
      if (job.sum() != triangle(20000) || job.inside() != 0 || job.bad_slot()) bad.fetch_add(1);
    });
  }
  g.wait();
  EXPECT_EQ(bad.load(), 0);
}

TEST(SchedLoop, ManyExternalCallersAtOnce) {
  weft::Scheduler s(make_placement(3), unpinned());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  const int reps = static_cast<int>(weft::test::scaled(300, 6));
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int rep = 0; rep < reps; ++rep) {
        SumJob job(s, 10000, 4);
        s.run_loop(job, 0, Priority::normal);
        if (job.sum() != triangle(10000) || job.inside() != 0 || job.bad_slot() || job.runs(0) != 1)
          bad.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// Slot 0 waits until another slot has joined: passes only if invitations reach (and
// wake) parked workers. A lost wake-up shows as a hang: the HangWatch dumps the
// workers' states and aborts.
class WaitForHelperJob final : public weft::detail::LoopJob {
 public:
  void run_slot(unsigned slot) noexcept override {
    if (slot == 0) {
      while (helpers_.load() == 0) std::this_thread::yield();
    } else {
      helpers_.fetch_add(1);
    }
  }

 private:
  std::atomic<int> helpers_{0};
};

TEST(SchedLoop, ParkedWorkersAreWokenByInvitations) {
  // With no spinning every worker parks between loops.
  weft::Scheduler s(make_placement(3), unpinned(std::chrono::microseconds{0}));
  weft::test::HangWatch watch(s);
  for (int rep = 0; rep < 300; ++rep) {
    WaitForHelperJob job;
    watch.wait("a loop whose slot 0 waits for a helper", rep, [&] {
      s.run_loop(job, 2, rep % 2 == 0 ? Priority::high : Priority::low);
    });
    if (rep % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));  // all park
  }
}

// The scheduling state of thread `tid` of this process ('R' running, 'S' sleeping, ...).
char thread_state(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

// Once its own share is done, an external caller spins for Config::spin, then sleeps
// until the last participant leaves (so that the kernel may move a preempted participant
// onto its CPU): here the worker's chunk only ends once it has seen the caller asleep.
TEST(SchedLoop, ExternalCallerSleepsAtTheJoinUntilTheLastParticipantLeaves) {
  weft::Scheduler s(make_placement(1), unpinned());
  const long caller = syscall(SYS_gettid);
  // The caller's unit waits until the worker has taken the other one, so that the
  // worker's chunk is the last one running.
  weft::test::WorkerGate gate(0);
  std::atomic<bool> saw_sleep{false};
  s.parallel_for(0, 2, [&](std::size_t) {
    const bool on_worker = s.current_worker() >= 0;
    gate.arrive(on_worker, "the two-unit loop's units");
    if (!on_worker) return;
    // Bounded: a caller that never sleeps fails the test instead of hanging it.
    for (int i = 0; i < 100000; ++i) {
      if (thread_state(caller) == 'S') {
        saw_sleep.store(true);
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }, {.chunk = 1});
  EXPECT_TRUE(gate.opened());
  EXPECT_TRUE(saw_sleep.load()) << "the caller did not sleep while the worker held its chunk";
}

}  // namespace
