// Background workers: low-priority work on threads at the OS's idle class
// (Config::background_workers, docs/priorities.md).
//
// The problem they solve: when weft's workers fill every core with low work, an urgent
// thread that wakes up (a request thread weft did not create, a worker invited to an
// urgent loop) waits for the kernel to give it a CPU; preemption points inside weft
// cannot help a thread that is not running. background_nice lowers a worker's nice
// value for a low stretch, but raising it again needs CAP_SYS_NICE or RLIMIT_NICE, which
// a container's ordinary user lacks.
//
// The design: a second set of workers, created once, which move themselves to
// SCHED_IDLE as their first act (nice 19 where SCHED_IDLE is refused) and never come
// back up, so nothing needs a privilege. They take only low work; the other workers
// take only normal work and above (and a strict low task hinted to them), so they park
// while only low work exists. The kernel preempts an idle-class thread the moment any
// other thread on its CPU becomes runnable, in the middle of a chunk, and lets it run
// whenever nothing else wants the CPU, so background throughput stays full on an
// otherwise idle machine.
//
// Low loops: a low loop started by a thread weft did not create (a batch thread, a
// request thread) runs entirely on the background workers (run_loop_handoff): its
// caller is at the normal class, and running a share itself would compete with urgent
// threads. The caller posts every slot, slot 0 included, to the background workers'
// mailboxes, wakes those that are parked, and sleeps on the loop's count
// (LoopControl::active, a WaitState) until the last participant completes it.
// Invitations nobody took are revoked only at shutdown (a background worker that has
// already left takes none): then slot 0, if it was still ours, runs here, and since
// every slot steals the others' shares, the loop completes either way.
//
// A low loop started on a worker is an ordinary loop (run_loop): the background
// workers are invited, the caller runs slot 0 and steals what nobody runs. On an
// ordinary worker the loop is nested in normal or urgent work that waits for it, so
// running it at the caller's class is the priority inheritance a waiter gives what it
// waits for. It used to be handed over too, with the worker running other work while
// it waited; that nested unrelated tasks inside a loop's slot, and the soak found the
// cycle it allows: worker A waits at its loop's join for worker B, B runs (while it
// waits for its hand-off) a task that waits for work only A may run. An ordinary loop's
// caller never depends on an invitee.
//
// Locks: none on these paths. Background workers take the same lock-free queues as the
// others; the only mutexes they can hold are the ones every worker can (shutdown's
// exit_mutex_ while leaving, spares_.mutex when a deep wait starts a spare thread,
// room_mutex_ with QueuePolicy::block), none of which an urgent loop or submit takes.
// A user's lock held by low work on an idle-class thread still blocks an urgent thread
// that needs it until the kernel runs the holder: the idle class has no priority
// inheritance (docs/priorities.md).
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/thread_id.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {

// A caller whose invitations all found busy mailboxes (another low loop's, not yet
// taken) retries after this long: background work, so a short sleep costs little.
constexpr long busy_mailbox_retry_ns = 50'000;
// A sleeping caller looks at stopping_ this often (shutdown wakes only workers).
constexpr unsigned shutdown_poll_us = 10'000;

bool in_domain(const Worker& w, LoopDomain domain) {
  return (domain.numa_node < 0 || w.numa_node == static_cast<unsigned>(domain.numa_node)) &&
         (domain.l3 < 0 || w.l3 == static_cast<unsigned>(domain.l3));
}

}  // namespace

Placement SchedulerCore::with_background_workers(const Placement& placement,
                                                 const Config& config) {
  // effective_config resolved auto and checked the count.
  const unsigned count = config.background_workers.value_or(0);
  Placement all = placement;
  const auto n = static_cast<unsigned>(placement.workers.size());
  if (n == 0) return all;  // SchedulerCore reports the empty placement
  for (unsigned k = 0; k < count; ++k) {
    // Background worker k shares the core of loop thread k (0: the caller's core, then
    // the workers'), so a low loop's shares land where a normal loop's would.
    const unsigned thread = k % (n + 1);
    const WorkerPlacement& like = placement.workers[thread == 0 ? 0 : thread - 1];
    WorkerPlacement w = like;
    if (thread == 0) w.cpus = placement.caller_cpus;
    w.reserved = false;
    w.background = true;
    // Steal from the other background workers first (their own low work), then from
    // the placement's workers (low tasks that normal work queued).
    w.steal_order.clear();
    for (unsigned j = 1; j < count; ++j) w.steal_order.push_back(n + (k + j) % count);
    for (unsigned i = 0; i < n; ++i) w.steal_order.push_back(i);
    all.workers.push_back(std::move(w));
  }
  return all;
}

void SchedulerCore::become_background(Worker&) {
  // Lowering is always allowed; the thread never asks to come back (it would need a
  // privilege), so nothing here depends on CAP_SYS_NICE or RLIMIT_NICE.
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_IDLE, &param) == 0) return;
  // Refused (a seccomp filter, an old kernel): the lowest nice value instead.
  setpriority(PRIO_PROCESS, static_cast<id_t>(current_tid()), 19);
}

unsigned SchedulerCore::post_handoff(LoopControl& control, unsigned threads, LoopDomain domain) {
  WaitState& done = control.active;
  unsigned posted = 0;
  for (std::size_t i = placement_.workers.size(); i < workers_.size() && posted < threads; ++i) {
    Worker& w = *workers_[i];
    if (!in_domain(w, domain)) continue;
    // Counted before it can be taken: the taker's finish_one may come at once.
    done.add(1);
    std::uintptr_t expected = mailbox::empty;
    // release: the taker's acquire sees `control` (and `done`) initialized.
    if (w.mailbox.compare_exchange_strong(expected, mailbox::encode(&control, posted, 0),
                                          std::memory_order_release, std::memory_order_relaxed)) {
      ++posted;
    } else {
      done.finish_one();  // nobody waits yet: only the count goes back
    }
  }
  return posted;
}

void SchedulerCore::run_loop_handoff(LoopJob& job, unsigned threads, LoopDomain domain) {
  LoopControl control;
  control.job = &job;
  mark_level(0);
  // Slots 0..threads-1 go to background workers in placement order (the same ones on
  // every call, as for an external caller's normal loop).
  unsigned posted = 0;
  for (;;) {
    posted = post_handoff(control, std::max(threads, 1u), domain);
    // relaxed: a hint, as in run_loop; a shutdown that begins later is handled below.
    if (posted > 0 || stopping_.load(std::memory_order_relaxed)) break;
    // Every eligible mailbox holds another loop's invitation (or none is in the domain
    // and never will be: then run here below).
    bool any = false;
    for (std::size_t i = placement_.workers.size(); i < workers_.size(); ++i)
      any |= in_domain(*workers_[i], domain);
    if (!any) break;
    timespec pause{0, busy_mailbox_retry_ns};
    nanosleep(&pause, nullptr);
  }
  if (posted == 0) {
    job.run_slot(0);  // shutting down, or no background worker in the domain
    return;
  }
  // Wake the invited workers that are parked (protocol steps b-c, targeted).
  seq_cst_fence();
  for (std::size_t i = placement_.workers.size(); i < workers_.size(); ++i) {
    // relaxed: after the fence; a worker that took the invitation already is awake.
    if (mailbox::control(workers_[i]->mailbox.load(std::memory_order_relaxed)) == &control)
      try_wake(static_cast<unsigned>(i));
  }
  wait_handoff(control);
}

bool SchedulerCore::revoke_handoff(LoopControl& control) {
  WaitState& done = control.active;
  bool slot0 = false;
  for (std::size_t i = placement_.workers.size(); i < workers_.size(); ++i) {
    // relaxed: as run_loop's revocation.
    std::uintptr_t v = workers_[i]->mailbox.load(std::memory_order_relaxed);
    if (mailbox::control(v) == &control &&
        workers_[i]->mailbox.compare_exchange_strong(v, mailbox::empty, std::memory_order_relaxed)) {
      slot0 |= mailbox::slot(v) == 0;
      done.finish_one();  // not registered as a waiter now: only the count goes back
    }
  }
  return slot0;
}

void SchedulerCore::wait_handoff(LoopControl& control) {
  WaitState& done = control.active;  // the caller sleeps on the loop's own count
  bool revoked = false;
  while (!done.done()) {
    // relaxed: shutdown began; workers that left take no invitation (see the file
    // comment). Revoked outside the waiter registration below.
    if (!revoked && stopping_.load(std::memory_order_relaxed)) {
      revoked = true;
      // Slot 0 was still ours (its count already went back): it steals every share
      // nobody runs.
      if (revoke_handoff(control)) control.job->run_slot(0);
      continue;
    }
    // No spinning: the participants run a whole loop, and a spinning caller at the
    // normal class would take a core from them.
    Parker& parker = this_thread_parker();
    parker.prepare();
    if (!done.register_waiter(parker)) break;  // completed meanwhile
    seq_cst_fence();
    const bool again = done.done() || (!revoked && stopping_.load(std::memory_order_seq_cst));
    if (!again) parker.park_for(shutdown_poll_us);
    done.unregister_waiter(parker);
  }
}

}  // namespace weft::detail
