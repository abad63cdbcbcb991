// weft::TeamJob: work for a team, a group of threads that all run at the same time.
//
// A parallel loop (Scheduler::run_loop, parallel_for) lets each worker join whenever it
// gets to it: a helper that never comes only costs speed. Code whose members wait for
// each other (an OpenMP barrier, a hand-written rendezvous) needs more: every member
// of the team must be running before any of them can get past a wait, and the number
// of members must be known before the first one starts. Scheduler::run_team gives
// that guarantee:
//
//   struct Job : weft::TeamJob {
//     void run_member(unsigned index, unsigned size) noexcept override { ... }
//   } job;
//   sched.run_team(job, 4);   // the caller is member 0 of up to 4
//
// Formation: the caller asks up to max_members - 1 workers that are running nothing
// (idle, spinning or parked) and waits until each one either has taken the request
// (it is then a member) or has started other work (the request is withdrawn). The
// team is the caller plus the workers that took it, numbered 1.. in the order they
// took it; the size is fixed then, and only then does any member run. A worker running
// something else (a task, a loop part, a member of another team) is never asked, so
// teams never wait on threads that cannot come: two teams started at once, a team
// started from inside a task or inside another team's member, each get the workers
// that are free, down to the caller alone. That is the OpenMP rule too: a team may be
// smaller than asked under a thread limit, and the limit here is the scheduler's
// thread count (Scheduler::num_threads).
//
// All or nothing (run_team's `all_or_nothing`): code whose members wait for each other
// by index (OpenMP with dyn-var false: item k runs on thread k) hangs on a smaller team.
// Such a caller, when it is not one of the scheduler's workers, withdraws a partial
// team (its members leave without running) and asks again, backing off, until it gets
// every member. It holds no worker while it waits, so no team ever waits for it; from a
// worker (a team inside a task or a member) the flag has no effect, since waiting there
// could wait for a member of the very team that waits.
#pragma once

#include "weft/export.hpp"

namespace weft {

class TeamJob {
 public:
  // Runs member `index` (0: the thread that called run_team) of a team of `size`. Every
  // member of one team is called with the same size, all of them at the same time
  // (each on its own thread), once each.
  virtual void run_member(unsigned index, unsigned size) noexcept = 0;

  // Shown in traces as the members' spans (a string literal, or null for "team"). The
  // name and the protected special members follow LoopJob's (loop_job.hpp): a job is
  // made by its caller, on its stack, and never copied.
  const char* name = nullptr;

 protected:
  TeamJob() = default;
  TeamJob(const TeamJob&) = delete;
  TeamJob& operator=(const TeamJob&) = delete;
  ~TeamJob() = default;
};

}  // namespace weft
