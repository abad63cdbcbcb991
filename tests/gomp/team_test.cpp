// Scheduler::run_team, the primitive under libweft_gomp's parallel regions: the team is
// formed before any member runs (every member sees the same size), members run at the
// same time (a barrier among them completes), and teams never wait for threads that
// cannot come: started at once from several threads, from inside a task, from inside
// another team's member, or with more members asked for than there are idle workers.
#include <gtest/gtest.h>

#include <atomic>
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

TEST(GompTeam, RejectsABadPriority) {
  weft::Scheduler s(make_placement(1), unpinned());
  BarrierJob job;
  EXPECT_THROW(s.run_team(job, 2, static_cast<Priority>(9)), weft::ConfigError);
}

}  // namespace
