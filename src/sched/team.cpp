// run_team: a team whose members all run at once (the formation protocol is stated in
// weft/team.hpp; this file is its implementation).
//
// A team rides on the loop machinery: one LoopControl, invitations posted in worker
// mailboxes with one CAS each (so a worker is claimed by at most one team or loop at a
// time: that CAS is the atomic reservation), taken by workers like a loop part
// (SchedulerCore::take, execute: spans, busy time and loop_chunks in the metrics as for loops).
// What differs is the step between posting and running: the caller resolves every
// invitation, taken or withdrawn, before it publishes the size, and a member that took
// one waits for that size before it runs. A worker is withdrawn from only when it is
// running something else, which it may never finish while we wait (it could be a member
// of the team that is waiting for us); a worker running nothing either takes the
// invitation or starts other work soon, so resolving always ends.
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <string>
#include <vector>

#include "sched/cpu_relax.hpp"
#include "sched/fence.hpp"
#include "sched/learned_spin.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {

// Waits in this file are for a thread a few instructions away from the step we wait
// for; how long each thread spins before it yields is learned (learned_spin.hpp).
thread_local LearnedSpin team_wait_spin;

template <class Done>
void wait_until(Done&& done) {
  team_wait_spin.wait(done, [] { sched_yield(); });
}

// The LoopJob the workers see: slot k > 0 is a worker that took the invitation.
class TeamLoop final : public LoopJob {
 public:
  TeamLoop(SchedulerCore& core, TeamJob& job) : core_(core), job_(job) {
    name = job.name != nullptr ? job.name : "team";
  }

  void run_slot(unsigned /*slot*/) noexcept override {
    // Members are numbered in the order they arrive here, 1..taken (slots are the order
    // of posting, which has gaps where invitations were withdrawn).
    // relaxed: only the count matters; the size below is what orders the members.
    const unsigned index = arrived_.fetch_add(1, std::memory_order_relaxed) + 1;
    unsigned size;
    // acquire: pairs with publish(); the caller resolved every invitation before it.
    wait_until([&] { return (size = size_.load(std::memory_order_acquire)) != 0; });
    if (size == withdrawn) return;  // an all-or-nothing caller asks again later
    job_.run_member(index, size);
    core_.linger_after_team();
  }

  static constexpr unsigned withdrawn = ~0u;  // the size when the team is not formed

  void publish(unsigned size) {
    // release: members read the size and everything the caller wrote before it.
    size_.store(size, std::memory_order_release);
  }

 private:
  SchedulerCore& core_;
  TeamJob& job_;
  std::atomic<unsigned> arrived_{0};
  std::atomic<unsigned> size_{0};  // 0 until the team is formed
};

}  // namespace

// Teams come back to back (an OpenMP program runs region after region, with a few
// instructions in between), and a member that parks between them makes the next team
// pay a wake-up (a futex and a trip through the kernel's run queue: tens of
// microseconds on a loaded machine). The preemption rule (worker_loop.cpp) cuts a
// worker's spin to nothing on a busy machine, which is right for tasks but turns every
// region into a wake-up. So a worker that was a member spins its full Config::spin once
// before parking, as OpenMP runtimes do between regions; OMP_WAIT_POLICY=passive (spin
// 0) still parks at once, and the rule applies again at the next park.
void SchedulerCore::linger_after_team() {
  ThreadContext& context = this_thread_context();
  if (context.core != this || context.worker == nullptr) return;
  // Owner-only bookkeeping (Worker::spin_budget), and this is the owner's thread.
  context.worker->spin_budget.linger();
}

void SchedulerCore::wait_for_team_to_leave(LoopControl& control, Worker* const* members,
                                           unsigned count) {
  // done() acquires: pairs with each member's finish_one in execute().
  wait_until([&] { return control.active.done(); });
  // A member decrements `active` a few instructions before it stops counting as
  // running (execute() resets its level last). A caller that starts its next team at
  // once (OpenMP regions back to back) would find its members still "running" and form
  // a team of one. So wait, briefly and boundedly (a member may go on to other work),
  // until each member looks idle again.
  for (unsigned i = 0; i < count; ++i) {
    for (unsigned round = 0; round < 4096; ++round) {
      // relaxed: a hint, as in the posting loop.
      if (members[i]->running_level.load(std::memory_order_relaxed) == num_levels) break;
      cpu_relax();
    }
  }
}

namespace {
// Between attempts at an all-or-nothing team: spin a little longer each time, then
// yield, then sleep (the workers we need are busy with something that may take long).
void back_off(unsigned attempt) {
  if (attempt < 8) {
    for (unsigned i = 0; i < (256u << attempt); ++i) cpu_relax();
  } else if (attempt < 64) {
    sched_yield();
  } else {
    timespec pause{0, 50'000};  // 50 us
    nanosleep(&pause, nullptr);
  }
}
}  // namespace

bool SchedulerCore::resolve_invitation(Worker& w, LoopControl& control) {
  bool taken = false;
  wait_until([&] {
    // relaxed: whether it is still ours is decided by the CAS below; a taker's own
    // acquire CAS synchronized with our posting.
    std::uintptr_t v = w.mailbox.load(std::memory_order_relaxed);
    if (mailbox::control(v) != &control) return taken = true;  // taken: it is a member
    // relaxed: a hint. Running something (its level is set from before it starts until
    // after it ends) means it may not come back to its mailbox while we wait; stopping,
    // that it may exit without looking. Otherwise the invitee needs a CPU to wake up
    // and take it, which the yields give it.
    const bool elsewhere = w.running_level.load(std::memory_order_relaxed) != num_levels ||
                           stopping_.load(std::memory_order_relaxed);
    if (!elsewhere) return false;
    // Whoever wins this CAS decides: we withdraw it, or it took it just before.
    if (w.mailbox.compare_exchange_strong(v, mailbox::empty, std::memory_order_relaxed)) {
      control.active.finish_one();  // nobody waits on it yet: only the count drops
      return true;
    }
    return taken = true;
  });
  return taken;
}

unsigned SchedulerCore::run_team(TeamJob& job, unsigned max_members, Priority priority,
                                 bool all_or_nothing) {
  const unsigned level = level_of(priority);
  if (level >= num_levels) {
    throw ConfigError("run_team priority: " + std::to_string(level) + " is not a Priority");
  }
  unsigned wanted = max_members == 0 ? num_threads() : std::min(max_members, num_threads());
  // A low team draws on the background workers only (below): never more than they are.
  if (level == 0 && background_count_ > 0) wanted = std::min(wanted, background_count_ + 1);
  ThreadContext& context = this_thread_context();
  Worker* self = context.core == this ? context.worker : nullptr;
  const ContextLevelScope scope(context, level);
  CallerTraces* const callers = self == nullptr ? observer_.caller_traces() : nullptr;
  const char* const name = job.name != nullptr ? job.name : "team";
  // relaxed: as in run_loop, during destruction the caller runs alone.
  if (wanted <= 1 || stopping_.load(std::memory_order_relaxed)) {
    ObservedSpan span(nullptr, callers, SpanKind::loop, priority, name);
    job.run_member(0, 1);
    return 1;
  }
  const bool urgent = level >= level_of(Priority::high);
  const bool low_team = level == 0 && background_count_ > 0;
  // Counted in waiting_teams_ from the first withdrawn attempt until this call returns.
  struct WaitingMark {
    std::atomic<unsigned>* count = nullptr;
    ~WaitingMark() {
      if (count != nullptr) count->fetch_sub(1, std::memory_order_relaxed);
    }
  } waiting;

  for (unsigned attempt = 0;; ++attempt) {
    TeamLoop team(*this, job);
    LoopControl control;
    control.job = &team;
    control.caller_cpu = caller_cpu_for_invitations();
    mark_level(level);
    // Posting, as run_loop does from an external thread (the same workers in placement
    // order every time, for their caches), but only to workers running nothing now.
    // Who was invited: on the stack for teams up to 32 workers (no allocation per team).
    Worker* local[32];
    std::vector<Worker*> heap;
    if (wanted - 1 > std::size(local)) heap.resize(wanted - 1);
    Worker** const invited = heap.empty() ? local : heap.data();
    unsigned invited_count = 0;
    unsigned next_slot = 1;
    // A low team on background workers needs none of the workers a higher team waits for.
    const unsigned slots = !low_team && team_waiting_above(level) ? 1 : wanted;
    for (auto& wp : workers_) {
      if (next_slot >= slots) break;
      Worker& w = *wp;
      if (&w == self || (w.reserved && !urgent)) continue;
      // A low team's members are background workers (at the idle class, so that any
      // other thread takes their CPU), every other team's are the placement's workers.
      if (w.background != low_team) continue;
      // relaxed: a hint; resolve_invitation re-checks it until the invitation is settled.
      if (w.running_level.load(std::memory_order_relaxed) != num_levels) continue;
      // The mailbox CAS (release) below publishes the count with the invitation.
      control.active.add(1);
      std::uintptr_t expected = mailbox::empty;
      // release: the taker's acquire sees `control` initialized.
      if (w.mailbox.compare_exchange_strong(expected, mailbox::encode(&control, next_slot, level),
                                            std::memory_order_release, std::memory_order_relaxed)) {
        ++next_slot;
        invited[invited_count++] = &w;
      } else {
        control.active.finish_one();  // nobody waits on it yet: only the count drops
      }
    }
    unsigned size = 1;
    if (invited_count > 0) {
      seq_cst_fence();  // wake parked invitees (protocol steps b-c, as run_loop)
      for (unsigned i = 0; i < invited_count; ++i) {
        // relaxed: after the fence; a worker that took the invitation already is awake.
        if (mailbox::control(invited[i]->mailbox.load(std::memory_order_relaxed)) == &control) {
          try_wake(invited[i]->index);
        }
      }
      for (unsigned i = 0; i < invited_count; ++i) {
        if (resolve_invitation(*invited[i], control)) ++size;
      }
    }
    // All or nothing (weft/team.hpp): withdraw a partial team, wait, and ask again. Only
    // for callers that are not workers: they hold no worker while they wait, so they
    // never make another team wait for them.
    // relaxed: as above.
    const bool retry = all_or_nothing && self == nullptr && size < wanted &&
                       !stopping_.load(std::memory_order_relaxed);
    team.publish(retry ? TeamLoop::withdrawn : size);
    if (retry) {
      if (waiting.count == nullptr) {
        waiting.count = &waiting_teams_[level];
        waiting.count->fetch_add(1, std::memory_order_relaxed);
      }
      wait_for_team_to_leave(control, invited, invited_count);
      back_off(attempt);
      continue;
    }
    {
      ObservedSpan span(nullptr, callers, SpanKind::loop, priority, name);
      job.run_member(0, size);
    }
    wait_for_team_to_leave(control, invited, invited_count);
    return size;
  }
}

}  // namespace weft::detail
