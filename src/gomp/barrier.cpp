// The team barrier, and how a waiting member waits.
//
// A barrier round ends when every member has arrived and the team has no task queued
// or running (OpenMP: a barrier completes the tasks of its region). Members that have
// arrived run queued tasks while they wait. Whoever first sees both conditions claims
// the round by resetting `arrived` (a CAS, so one thread does) and then starts the next
// round; the others leave when they see the round change. `arrived` is reset before the
// round changes, so a member that leaves and arrives at the next barrier at once counts
// toward that one.
//
// Waiting spins for the wait policy's budget (OMP_WAIT_POLICY, else weft's spin), then
// sleeps on Team::wake, which every event a waiter may wait for bumps (Team::notify).
#include "gomp/runtime.hpp"
#include "sched/cpu_relax.hpp"

namespace weft::gomp {

void sleep_until_notified(Team& team, std::uint32_t seen, unsigned& rounds) {
  // A pause is some tens of nanoseconds: the budget in rounds is approximate, which is
  // all a spin budget needs to be.
  static const unsigned spin_rounds = static_cast<unsigned>(settings().spin_ns / 40);
  if (rounds < spin_rounds) {
    ++rounds;
    // No sched_yield here: on a machine busy with other processes it hands the CPU to
    // any of them for a whole time slice (milliseconds), where the member we wait for
    // needs microseconds; past the budget we sleep on the futex instead.
    weft::detail::cpu_relax();
    return;
  }
  team.wake.wait(seen, std::memory_order_acquire);
}

void team_barrier(ThreadState& ts) {
  Team* const team = ts.team;
  if (team == nullptr) return;
  if (ts.size == 1) {
    // acquire: pairs with the release decrement of a finished task.
    wait_until(ts, [&] { return team->pending_tasks.load(std::memory_order_acquire) == 0; });
    return;
  }
  // acquire: the round we are in; a change means every member has arrived.
  const unsigned round = team->round.load(std::memory_order_acquire);
  // acq_rel: our writes before the barrier are released to whoever ends the round, and
  // through its release of `round`, to every member.
  if (team->arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == ts.size) team->notify();
  wait_until(ts, [&] {
    if (team->round.load(std::memory_order_acquire) != round) return true;
    unsigned all = ts.size;
    if (team->arrived.load(std::memory_order_acquire) == all &&
        team->pending_tasks.load(std::memory_order_acquire) == 0 &&
        team->arrived.compare_exchange_strong(all, 0, std::memory_order_acq_rel)) {
      // release: members leaving see everything released to us by the arrivals.
      team->round.fetch_add(1, std::memory_order_release);
      team->notify();
      return true;
    }
    return false;
  });
}

// The end of a region: the master must wait for every member and every task (it
// returns to code that reads what they wrote, and the Team dies with its frame). A member
// that is not the master need not wait for the others: once it has arrived it touches
// nothing more, so it leaves at once, unless tasks were queued in the region, in which
// case it stays to help run them (the full barrier). Leaving early saves each member a
// wait for the last arrival, which on a busy machine is a wait for a thread that is not
// running.
void region_end_barrier(ThreadState& ts) {
  Team* const team = ts.team;
  // relaxed: see Team::tasks_queued; a task queued after this load is run by the
  // master (or a member still waiting) before the master's barrier ends.
  if (ts.size > 1 && ts.num != 0 && !team->tasks_queued.load(std::memory_order_relaxed)) {
    // acq_rel: our writes in the region are released to the master, which acquires
    // them when it sees every arrival.
    if (team->arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == ts.size) team->notify();
    return;
  }
  team_barrier(ts);
}

}  // namespace weft::gomp

extern "C" {

void GOMP_barrier(void) { weft::gomp::team_barrier(weft::gomp::current()); }

// Cancellation is never activated (omp_get_cancellation() is false): nothing to report.
bool GOMP_barrier_cancel(void) {
  GOMP_barrier();
  return false;
}

}  // extern "C"
