// Scheduler::run_team, the primitive under libweft_gomp's parallel regions: the team is
// formed before any member runs (every member sees the same size), members run at the
// same time (a barrier among them completes), and teams never wait for threads that
// cannot come: started at once from several threads, from inside a task, from inside
// another team's member, or with more members asked for than there are idle workers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sched/sched_test_support.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::Priority;
using weft::test::make_placement;
using weft::test::unpinned;

// A team job whose members meet at `rounds` spin barriers; records what it saw.
class BarrierJob final : public weft::TeamJob {
 public:
  explicit BarrierJob(unsigned rounds = 3) : rounds_(rounds) {}
  void run_member(unsigned index, unsigned size) noexcept override {
    members_.fetch_add(1);
    if (index >= size) bad_.store(true);
    unsigned expected = 0;
    if (!size_.compare_exchange_strong(expected, size) && expected != size) bad_.store(true);
    seen_mask_.fetch_or(1ull << index);
    for (unsigned r = 1; r <= rounds_; ++r) {
      arrived_.fetch_add(1);
      while (arrived_.load() < r * size) std::this_thread::yield();
    }
  }
  unsigned members() const { return members_.load(); }
  unsigned size() const { return size_.load(); }
  bool all_indices_seen() const {
    return seen_mask_.load() == (size() >= 64 ? ~0ull : (1ull << size()) - 1);
  }
  bool bad() const { return bad_.load(); }

 private:
  unsigned rounds_;
  std::atomic<unsigned> members_{0}, size_{0}, arrived_{0};
  std::atomic<std::uint64_t> seen_mask_{0};
  std::atomic<bool> bad_{false};
};

void expect_complete(const BarrierJob& job, unsigned returned) {
  EXPECT_FALSE(job.bad());
  EXPECT_EQ(job.members(), returned);
  EXPECT_EQ(job.size(), returned);
  EXPECT_TRUE(job.all_indices_seen());
}

TEST(GompTeam, FormsFullTeamWhenWorkersAreIdle) {
  weft::Scheduler s(make_placement(3), unpinned());
  weft::test::HangWatch watch(s);
  for (int rep = 0; rep < 200; ++rep) {
    BarrierJob job;
    const unsigned size = watch.wait("a team of up to 4 at its barriers", rep,
                                     [&] { return s.run_team(job, 4, Priority::normal); });
    expect_complete(job, size);
    EXPECT_GE(size, 1u);
    EXPECT_LE(size, 4u);
  }
  // With nothing else running, the workers are idle: the team is full at least once.
  unsigned best = 0;
  for (int rep = 0; rep < 50 && best < 4; ++rep) {
    BarrierJob job;
    best = std::max(best, watch.wait("a team of up to 4 at its barriers", rep,
                                     [&] { return s.run_team(job, 4, Priority::normal); }));
  }
  EXPECT_EQ(best, 4u);
}

TEST(GompTeam, NeverLargerThanTheScheduler) {
  weft::Scheduler s(make_placement(2), unpinned());
  BarrierJob job;
  const unsigned size = s.run_team(job, 64, Priority::normal);
  expect_complete(job, size);
  EXPECT_LE(size, 3u);
}

TEST(GompTeam, ConcurrentTeamsFromManyThreads) {
  weft::Scheduler s(make_placement(3), unpinned());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      weft::test::HangWatch watch(s);  // one per waiting thread
      for (int rep = 0; rep < 100; ++rep) {
        BarrierJob job;
        const unsigned size = watch.wait("one of 4 concurrent teams at its barriers", rep,
                                         [&] { return s.run_team(job, 4, Priority::normal); });
        if (job.bad() || job.members() != size || !job.all_indices_seen()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(GompTeam, TeamFromInsideTasksAndTeams) {
  weft::Scheduler s(make_placement(3), unpinned());
  std::atomic<int> failures{0};
  weft::TaskGroup group(s);
  for (int i = 0; i < 8; ++i) {
    group.run([&] {
      // A team started from inside a task: only idle workers join.
      BarrierJob job;
      const unsigned size = s.run_team(job, 4, Priority::normal);
      if (job.bad() || job.members() != size) failures.fetch_add(1);
    });
  }
  weft::test::wait_or_dump(s, "8 tasks that each start a team", [&] { group.wait(); });
  EXPECT_EQ(failures.load(), 0);

  // A team inside every member of another team: the inner teams cannot take the outer
  // members (they are busy), and all of them still finish.
  struct Outer final : weft::TeamJob {
    weft::Scheduler* s;
    std::atomic<int>* failures;
    void run_member(unsigned, unsigned) noexcept override {
      BarrierJob inner(2);
      const unsigned size = s->run_team(inner, 4, Priority::high);
      if (inner.bad() || inner.members() != size) failures->fetch_add(1);
    }
  } outer;
  outer.s = &s;
  outer.failures = &failures;
  weft::test::HangWatch watch(s);
  for (int rep = 0; rep < 50; ++rep) {
    watch.wait("a team whose members each start a team", rep,
               [&] { s.run_team(outer, 4, Priority::normal); });
  }
  EXPECT_EQ(failures.load(), 0);
}

TEST(GompTeam, MembersCountInMetrics) {
  weft::Scheduler s(make_placement(2), unpinned());
  s.reset_metrics();
  unsigned joined = 0;
  for (int rep = 0; rep < 100; ++rep) {
    BarrierJob job;
    joined += s.run_team(job, 3, Priority::normal) - 1;
  }
  const weft::Metrics m = s.metrics();
  std::uint64_t parts = 0;
  for (const auto& w : m.workers) parts += w.loop_chunks;
  // Each worker that joined a team ran one part of it, counted like a loop part.
  EXPECT_EQ(parts, joined);
}

// Busy for `d` on the calling thread (a member holding its worker).
void busy_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// Long enough that a waiting caller backs off to sleeping between attempts (team.cpp),
// and so would almost never catch the worker in the microseconds between two parts.
constexpr std::chrono::microseconds low_part{2000};

// A lower-priority region stream started back to back (B's inference in two models in
// one process) takes the one worker the moment it is free. An urgent all-or-nothing team
// (A's request) that waits for that worker must get it next, not when the stream ends:
// while it waits, lower teams and loops invite nobody (SchedulerCore::waiting_teams_).
// `run_low_once` runs one lower region or loop and counts what the worker ran of it.
template <class RunLowOnce>
void expect_urgent_team_jumps_the_stream(weft::Scheduler& s, std::atomic<unsigned>& worker_parts,
                                         RunLowOnce run_low_once) {
  weft::test::HangWatch watch(s);
  // Bounded, so that without the rule the urgent team still forms (late) and the test
  // fails on the count below instead of hanging.
  constexpr unsigned stream_length = 1000;
  std::atomic<bool> stop{false};
  std::thread low([&] {
    for (unsigned i = 0; i < stream_length && !stop.load(); ++i) run_low_once();
  });
  // The stream is running: the worker has taken part in it.
  weft::test::spin_until(s, "the worker joining the low stream",
                         [&] { return worker_parts.load() >= 3; });
  class UrgentJob final : public weft::TeamJob {
   public:
    explicit UrgentJob(std::atomic<unsigned>& parts) : parts_(parts) {}
    void run_member(unsigned index, unsigned) noexcept override {
      if (index == 0) parts_at_start = parts_.load();
      members.fetch_add(1);
    }
    std::atomic<unsigned>& parts_;
    unsigned parts_at_start = 0;
    std::atomic<unsigned> members{0};
  };
  // Several requests: each one alone would often win a gap in the stream by luck.
  for (int request = 0; request < 8; ++request) {
    UrgentJob urgent(worker_parts);
    const unsigned parts_before = worker_parts.load();
    const unsigned size = s.run_team(urgent, 2, Priority::critical, /*all_or_nothing=*/true);
    EXPECT_EQ(size, 2u);
    EXPECT_EQ(urgent.members.load(), 2u);
    // The part the worker was running when we asked, and one posted before our waiting
    // showed; never the rest of the stream.
    EXPECT_LE(urgent.parts_at_start - parts_before, 3u)
        << "request " << request << ": the worker ran " << urgent.parts_at_start - parts_before
        << " parts of the low stream while the critical team waited";
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  stop.store(true);
  low.join();
}

TEST(GompTeam, UrgentTeamGetsTheWorkerBeforeALowTeamStream) {
  weft::Scheduler s(make_placement(1), weft::test::without_background());
  std::atomic<unsigned> worker_parts{0};
  class LowJob final : public weft::TeamJob {
   public:
    explicit LowJob(std::atomic<unsigned>& parts) : parts_(parts) {}
    void run_member(unsigned index, unsigned) noexcept override {
      if (index != 0) parts_.fetch_add(1);
      busy_for(low_part);
    }

   private:
    std::atomic<unsigned>& parts_;
  };
  expect_urgent_team_jumps_the_stream(s, worker_parts, [&] {
    LowJob job(worker_parts);
    s.run_team(job, 2, Priority::low, /*all_or_nothing=*/true);
  });
}

TEST(GompTeam, UrgentTeamGetsTheWorkerBeforeALowLoopStream) {
  weft::Scheduler s(make_placement(1), weft::test::without_background());
  std::atomic<unsigned> worker_parts{0};
  expect_urgent_team_jumps_the_stream(s, worker_parts, [&] {
    weft::ForOptions options;
    options.priority = Priority::low;
    options.chunk = 1;  // the whole team is invited, one iteration at a time
    s.parallel_for(0, 2, [&](std::size_t) {
      if (s.current_worker() >= 0) worker_parts.fetch_add(1);
      busy_for(low_part);
    }, options);
  });
}

TEST(GompTeam, RejectsABadPriority) {
  weft::Scheduler s(make_placement(1), unpinned());
  BarrierJob job;
  EXPECT_THROW(s.run_team(job, 2, static_cast<Priority>(9)), weft::ConfigError);
}

}  // namespace
