// run_loop: offering one LoopJob to several workers.
//
// Publishing is one CAS per invited worker on that worker's mailbox word (its own cache
// line), carrying the LoopControl address, the slot and the priority; no allocation,
// and no syscall unless an invited worker is parked (then it is unparked: only the
// workers the loop can use are woken). A worker takes an invitation like a task of the
// loop's priority (SchedulerCore::take, work_sources.hpp), by exchanging its mailbox back to empty.
//
// The caller runs slot 0, then revokes the invitations nobody took (CAS back to empty)
// and waits only for the slots that were actually taken: LoopControl::active counts
// posted-and-not-revoked invitations, each taker decrements it when its run_slot
// returns. So run_loop never waits for an invitation to be taken, and nothing enters
// run_slot after it returns. The caller spins while it waits (the participants are
// finishing their last chunks), for at most Config::spin; then it sleeps until the
// last one leaves. That matters when a participant was preempted holding a chunk
// (another process took its core): this CPU goes idle, so the kernel moves the
// preempted thread here at once instead of leaving it queued behind the other process
// for the rest of a time slice (bench/run_hog.sh).

#include <algorithm>
#include <chrono>
#include <string>

#include "sched/cpu_relax.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {

bool in_domain(const Worker& w, LoopDomain domain) {
  return (domain.numa_node < 0 || w.numa_node == static_cast<unsigned>(domain.numa_node)) &&
         (domain.l3 < 0 || w.l3 == static_cast<unsigned>(domain.l3));
}

// How long a caller sleeping at the join waits for the last participants before it pulls
// them onto its own CPU: a chunk still running after Config::spin plus this is most
// likely held by a thread the kernel preempted for another process's time slice.
constexpr unsigned pull_after_us = 100;

}  // namespace

void SchedulerCore::join(LoopControl& control) {
  // done() acquires: pairs with each participant's finish_one in execute().
  std::chrono::steady_clock::time_point deadline{};
  for (unsigned round = 1; !control.active.done(); ++round) {
    cpu_relax();
    if (round % 64 != 0) continue;
    const auto now = std::chrono::steady_clock::now();
    if (round == 64) deadline = now + config_.spin;
    if (now < deadline) continue;
    // A worker sleeps here too (it used to yield in a loop): a participant may be
    // waiting for low work on a background worker at the idle class, which a thread at
    // the normal class spinning through sched_yield would starve. Nobody else wakes a
    // worker here (it is not registered as a sleeper), except a waker that claimed its
    // bit before its last park ended: await ignores such a late `work`.
    Parker& parker = this_thread_parker();
    parker.prepare();
    if (control.active.register_waiter(parker)) {
      // The kernel does not always move the participant (step_aside.cpp says why): a
      // while later, the caller moves those still running onto its idle CPU itself.
      if (control.caller_cpu >= 0) {
        parker.park_for(pull_after_us);
        if (!parker.woken(Parker::done)) pull_stragglers(control);
      }
      parker.await(Parker::done);
      control.active.unregister_waiter(parker);
    }
    return;
  }
}

void SchedulerCore::run_loop(LoopJob& job, unsigned max_threads, Priority priority,
                             LoopDomain domain) {
  const unsigned threads = max_threads == 0 ? num_threads() : std::min(max_threads, num_threads());
  const unsigned level = level_of(priority);
  if (level >= num_levels) {
    throw ConfigError("ForOptions::priority: " + std::to_string(level) + " is not a Priority");
  }
  ThreadContext& context = this_thread_context();
  Worker* self = context.core == this ? context.worker : nullptr;
  // The caller runs slot 0 at the loop's level: what the body spawns inherits it, and
  // its preemption points compare against it.
  const ContextLevelScope scope(context, level);
  // With background workers, a low loop started anywhere but on one of them runs on
  // them alone (background.cpp).
  // relaxed: a hint, as below; the hand-off handles a shutdown that begins later.
  if (hands_off(level, self) && !stopping_.load(std::memory_order_relaxed)) {
    run_loop_handoff(job, threads, domain);
    return;
  }
  // Trace: a worker's slot 0 lies inside the span of the task that called the loop; a
  // thread weft did not create has no such span, so its share goes to its caller lane
  // (null callers, tracing off: nothing recorded, no clock read).
  CallerTraces* const callers = self == nullptr ? observer_.caller_traces() : nullptr;
  // relaxed: during destruction only the scheduler's own tasks call in; a stale false
  // just posts invitations that the exiting workers may leave, which we revoke.
  if (threads <= 1 || stopping_.load(std::memory_order_relaxed)) {
    ObservedSpan span(nullptr, callers, SpanKind::loop, priority, job.name);
    job.run_slot(0);
    return;
  }
  const bool urgent = level >= level_of(Priority::high);

  LoopControl control;
  control.job = &job;
  control.caller_cpu = caller_cpu_for_invitations();
  mark_level(level);
  // From an external thread, slot k is the k-th eligible worker in placement order (the
  // same worker on every call, so it finds its share of the data in its cache); a busy
  // mailbox just leaves that slot unrun. From a worker, only idle workers are asked,
  // with consecutive slots: a busy one would join late and gain nothing.
  unsigned next_slot = 1;
  unsigned posted = 0;
  // A team of a higher level waiting for workers gets them first (team.cpp): the loop
  // then runs on this thread alone. Low loops on background workers need none of them.
  const bool on_background = background_count_ > 0 && level == 0;
  const unsigned slots = !on_background && team_waiting_above(level) ? 1 : threads;
  for (auto& wp : workers_) {
    if (next_slot >= slots) break;
    Worker& w = *wp;
    if (&w == self || (w.reserved && !urgent) || !in_domain(w, domain)) continue;
    // Background workers join only low loops (and only those, when there are any).
    if (w.background != on_background) continue;
    // ...except that an urgent loop also asks busy workers running less urgent work:
    // they take the invitation at their next preemption point (a chunk boundary).
    if (self != nullptr && w.state.load(std::memory_order_relaxed) == WorkerState::busy &&
        !(urgent && w.running_level.load(std::memory_order_relaxed) < level)) {
      continue;
    }
    const unsigned slot = next_slot++;
    // The mailbox CAS (release) below publishes the count with the invitation.
    control.active.add(1);
    std::uintptr_t expected = mailbox::empty;
    // release: the taker's acquire sees `control` initialized.
    if (w.mailbox.compare_exchange_strong(expected, mailbox::encode(&control, slot, level),
                                          std::memory_order_release, std::memory_order_relaxed)) {
      ++posted;
    } else {
      control.active.finish_one();  // nobody waits yet: only the count drops
    }
  }

  if (posted > 0) {
    note_urgent(level);  // busy invitees running low work notice at their next chunk
    // Wake the invited workers that are parked (protocol steps b-c, targeted).
    seq_cst_fence();
    for (auto& wp : workers_) {
      // relaxed: after the fence; a worker that took the invitation already is awake.
      if (mailbox::control(wp->mailbox.load(std::memory_order_relaxed)) == &control) {
        try_wake(wp->index);
      }
    }
  }

  // Slot 0 runs in this thread's existing context (a worker stays a worker).
  {
    ObservedSpan span(nullptr, callers, SpanKind::loop, priority, job.name);
    job.run_slot(0);
  }

  if (posted > 0) {
    for (auto& wp : workers_) {
      // relaxed: revoking publishes nothing, and a taker's own acquire CAS already
      // synchronized with our posting.
      std::uintptr_t v = wp->mailbox.load(std::memory_order_relaxed);
      if (mailbox::control(v) == &control &&
          wp->mailbox.compare_exchange_strong(v, mailbox::empty, std::memory_order_relaxed)) {
        control.active.finish_one();  // nobody waits yet: only the count drops
      }
    }
    join(control);
  }
}

void report_loop_chunks(std::uint64_t chunks) noexcept {
  // Read back by execute() on this same thread once run_slot returns.
  this_thread_context().loop_chunks = chunks;
}

}  // namespace weft::detail
