// The worker loop, readable top to bottom:
//
//   worker_main:  find_work -> execute, else spin -> execute, else park
//   find_work:    most urgent level first; per level, the sources of work_sources.hpp
//                 in order (loop invitation, own deque and inboxes, NUMA node, global,
//                 other workers in steal_order, other nodes, external threads' deques)
//   spin:         find_work in a loop for the spin budget (wall time)
//   park:         the protocol written down in scheduler_core.cpp
//   hand-on:      a task found by the last spinner, or right after a wake-up, wakes a
//                 sleeper if more work waits (wake_for_leftover: bursts fan out)
//
// Spin budget (the rule is spin_budget.hpp): each worker starts with Config::spin.
// Before it parks it asks the kernel whether it was preempted involuntarily since its
// previous park (getrusage RUSAGE_THREAD ru_nivcsw grew: another runnable thread wanted
// its CPU, so the process or the machine has more runnable threads than CPUs); after a
// wake-up it reports how long it was out of work, from the start of its spin to the
// wake-up. Past Config::spin, a spin also ends as soon as a background worker is busy:
// those run at the idle class, so a spinning worker at the normal class would keep them
// off the CPU without ever being preempted by them.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "common/thread_id.hpp"
#include "sched/cpu_relax.hpp"
#include "sched/fence.hpp"
#include "sched/scheduler_core.hpp"
#include "sched/work_sources.hpp"

namespace weft::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A time point as observe's now_ns() reads it (the same clock, in nanoseconds).
std::uint64_t to_ns(Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

void bind_thread(const std::vector<unsigned>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned cpu : cpus) {
    if (cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
  }
  // A failure (a cpu outside our mask) leaves the thread unbound: the placement came
  // from the allowed set, so this only happens if the mask changed since planning.
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

long involuntary_switches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nivcsw;
}

}  // namespace

void SchedulerCore::worker_main(Worker& self) {
  if (self.bound) bind_thread(self.cpus);
  if (self.background) become_background(self);
  // Background workers are "weft-b<k>", k counted from 0 (as top and ps show them).
  std::string name = self.background
                         ? "weft-b" + std::to_string(self.index - placement_.workers.size())
                         : "weft-w" + std::to_string(self.index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  self.tid.store(static_cast<int>(current_tid()), std::memory_order_relaxed);
  if (self.obs != nullptr) self.obs->thread_started();
  ThreadContext& context = this_thread_context();
  context = ThreadContext{this, &self, nullptr, false};
  self.involuntary_switches = involuntary_switches();

  bool just_woke = false;
  for (;;) {
    Work work = find_work(self);
    Clock::time_point out_of_work{};
    if (!work) {
      work = spin(self, out_of_work);
    } else if (just_woke && work.task != nullptr) {
      wake_for_leftover(self);
    }
    just_woke = false;
    if (work) {
      execute(work);
      continue;
    }
    // acquire: pairs with the destructor's store; everything queued before it is
    // visible to the scan above or to the next one.
    if (stopping_.load(std::memory_order_acquire)) {
      work = find_work(self);
      if (!work) break;
      execute(work);
      continue;
    }
    park(self, out_of_work);
    just_woke = true;
  }
  if (self.obs != nullptr) self.obs->thread_exiting();
  context = ThreadContext{};
  worker_exiting(self);
}

Work SchedulerCore::find_work(Worker& self, unsigned min_level) {
  // relaxed: a hint to skip levels never used; parking re-checks every level.
  const unsigned seen = levels_seen_.load(std::memory_order_relaxed);
  if (min_level == 0 && !self.background && aging_due(self, 0)) {
    // Aging rule (a minimum share): after Config::aging_period urgent picks in a row,
    // one scan lowest level first, so background work progresses under any urgent load.
    for (unsigned l = lowest_level(self); l < num_levels; ++l) {
      if (Work work = take_at(self, l, seen)) return work;
    }
  }
  for (int level = static_cast<int>(highest_level(self)); level >= static_cast<int>(min_level);
       --level) {
    if (Work work = take_at(self, static_cast<unsigned>(level), seen)) return work;
  }
  return {};
}

Work SchedulerCore::take_at(Worker& self, unsigned level, unsigned levels_seen) {
  if ((levels_seen & (1u << level)) == 0) return {};
  Work work = visit_sources(Looker{&self}, level,
                            [&](const Source& source) __attribute__((always_inline)) {
                              return take(source, &self);
                            });
  // relaxed: a hint; a boosted waiter wakes helpers after publishing (priority.cpp).
  if (!work && level >= lowest_level(self) && boosting_.load(std::memory_order_relaxed) != 0) {
    work = take_boosted(self, level);
  }
  return work;
}

Work SchedulerCore::spin(Worker& self, Clock::time_point& spin_start) {
  // now_ns() is this same clock: one read serves the metrics, the deadline and the
  // gap park() reports to the budget (read even without a spin, for that gap).
  spin_start = Clock::now();
  const std::chrono::nanoseconds budget = self.spin_budget.current();
  if (budget.count() <= 0) return {};
  std::atomic<int>& spinning = spinning_[spin_class(self)];
  spinning.fetch_add(1, std::memory_order_seq_cst);
  self.state.store(WorkerState::spinning, std::memory_order_relaxed);
  if (self.obs != nullptr) self.obs->enter(WorkerObserver::State::spinning, to_ns(spin_start));
  const Clock::time_point deadline = spin_start + budget;
  const Clock::time_point base_deadline = spin_start + self.spin_budget.base();
  Work work;
  // The clock is read every 16 rounds (a round is one full scan plus a pause): cheap
  // enough not to matter, frequent enough to end the spin within a few microseconds.
  for (unsigned round = 1;; ++round) {
    work = find_work(self);
    if (work) break;
    if (stopping_.load(std::memory_order_relaxed)) break;  // relaxed: re-read in worker_main
    cpu_relax();
    if (round % 16 != 0) continue;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    if (now >= base_deadline && background_busy()) break;
  }
  if (self.obs != nullptr && budget > self.spin_budget.base()) {
    const Clock::time_point end = Clock::now();
    if (end > base_deadline) {
      self.obs->spin_extended(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - base_deadline).count()));
    }
  }
  // seq_cst: a waker that reads spinning_ after this sees we no longer watch; we will
  // re-check in park() after registering (see the protocol).
  const int spinners_left = spinning.fetch_sub(1, std::memory_order_seq_cst) - 1;
  self.state.store(WorkerState::busy, std::memory_order_relaxed);
  if (work.task != nullptr && spinners_left == 0) wake_for_leftover(self);
  // Metrics: still spinning (idle) until the work found starts (ObservedSpan enters
  // busy) or the worker parks; a spin that found nothing never counts as busy.
  return work;
}

void SchedulerCore::park(Worker& self, Clock::time_point out_of_work) {
  adapt_spin_before_park(self);
  end_low_stretch(self);  // background_nice: wake up for urgent work at full priority
  self.parker.prepare();
  self.state.store(WorkerState::parked, std::memory_order_relaxed);
  register_sleeper(self);  // steps 2-3 of the protocol
  const bool work_appeared = has_visible_work(self) || stopping_.load(std::memory_order_seq_cst);
  if (!work_appeared) {
    const Clock::time_point parked_at = Clock::now();
    if (self.obs != nullptr) self.obs->enter(WorkerObserver::State::parked, to_ns(parked_at));
    self.parker.park();
    const Clock::time_point woke_at = Clock::now();
    if (self.obs != nullptr) self.obs->enter(WorkerObserver::State::busy, to_ns(woke_at));
    self.spin_budget.woken(woke_at - out_of_work);
  }
  unregister_sleeper(self);
  self.state.store(WorkerState::busy, std::memory_order_relaxed);
}

void SchedulerCore::adapt_spin_before_park(Worker& self) {
  const long switches = involuntary_switches();
  if (switches != self.involuntary_switches) {
    self.involuntary_switches = switches;
    self.spin_budget.preempted();
  }
  // Metrics::spin_cut_ns: the spinning this park skipped because of preemption.
  const std::chrono::nanoseconds budget = self.spin_budget.current();
  const std::chrono::nanoseconds base = self.spin_budget.base();
  if (self.obs != nullptr && budget < base) {
    self.obs->spin_cut(static_cast<std::uint64_t>((base - budget).count()));
  }
}

void SchedulerCore::wake_for_leftover(Worker& self) {
  // A submit wakes nobody while a worker of its class spins (wake_one: the spinner will
  // take the task), but a spinner takes one item: a burst submitted during a spin would
  // wait for it alone while other workers sleep. So the last spinner to find a task, and
  // a worker that finds one right after a wake-up, wakes a sleeper for the most urgent
  // work still waiting; the burst fans out one wake-up at a time, as long as work is left.
  // Not for a loop invitation: a loop wakes every worker it invites itself (run_loop),
  // and fork-join is where this scan would cost (2% of a 2 x 1 us loop).
  // relaxed: a hint; wake_one re-reads the spinners after its fence.
  if (spinning_[spin_class(self)].load(std::memory_order_relaxed) > 0) return;
  // Pairs with the submitter's fence in wake_one (Dekker): either it saw no spinner
  // (and woke someone), or this scan sees what it queued.
  seq_cst_fence();
  if (const std::optional<unsigned> level = most_urgent_visible(self)) wake_one(*level);
}

bool SchedulerCore::background_busy() const {
  for (std::size_t i = placement_.workers.size(); i < workers_.size(); ++i) {
    // relaxed: a hint; a busy worker missed here is seen 16 rounds later.
    if (workers_[i]->state.load(std::memory_order_relaxed) == WorkerState::busy) return true;
  }
  return false;
}

void SchedulerCore::execute(Work work) {
  // Only this scheduler's workers are counted; a waiting external thread (or the
  // destructor's) has no row in the metrics, and its spans go to its caller lane of
  // the trace (callers is null with tracing off).
  ThreadContext& context = this_thread_context();
  WorkerObserver* const obs = observer_here(context);
  CallerTraces* const callers = observer_.caller_traces();
  // The one atomic RMW priority boosting costs per task: a waiter may have run this
  // task ahead of the queue (run_ahead); then only the queue's reference is left to drop.
  // relaxed: exclusivity only (one RMW order on one word); the block's contents are
  // ordered by the queue's publication and by release_task's acq_rel.
  if (work.task != nullptr &&
      work.task->claimed.exchange(TaskClaim::taken, std::memory_order_relaxed) == TaskClaim::taken) {
    release_task(work.task);
    return;
  }
  if (work.task != nullptr && counting_) task_started();  // backpressure only
  Worker* const self = context.core == this ? context.worker : nullptr;
  const unsigned outer_level = context.level;
  context.level = work.task != nullptr ? std::max<unsigned>(work.task->level, work.level) : work.level;
  if (self != nullptr) set_worker_level(*self, context.level);
  // try_shutdown_for names what a stuck worker runs (tracing only: names are for traces).
  const char* outer_name = nullptr;
  const bool name_it = self != nullptr && trace_names_;
  if (name_it) {
    outer_name = self->running_name.load(std::memory_order_relaxed);  // relaxed: see Worker
    self->running_name.store(work.task != nullptr ? work.task->name : work.loop->job->name,
                             std::memory_order_relaxed);
  }
  ++context.depth;  // wait depth: one more task or loop part on this stack
  // Back to the outer level (and depth, and name) on every exit (tasks and slots are
  // noexcept; this is for clarity of the two return paths below).
  struct LevelRestore {
    SchedulerCore* core;
    ThreadContext& context;
    Worker* self;
    unsigned outer;
    bool name_it;
    const char* outer_name;
    ~LevelRestore() {
      --context.depth;
      context.level = outer;
      if (self != nullptr) core->set_worker_level(*self, outer, false);
      if (name_it) self->running_name.store(outer_name, std::memory_order_relaxed);
    }
  } restore{this, context, self, outer_level, name_it, outer_name};
  if (work.task != nullptr) {
    {
      // Closed before release_task: the span reads nothing from the block at its end.
      ObservedSpan span(obs, callers, SpanKind::task, static_cast<Priority>(context.level),
                        work.task->name);
      work.task->fn(work.task, TaskOp::run);
    }
    release_task(work.task);
    return;
  }
  LoopControl* loop = work.loop;
  const bool movable = self != nullptr && loop->caller_cpu >= 0;
  if (movable) {
    step_aside(*self, loop->caller_cpu);
    self->running_loop.store(loop, std::memory_order_relaxed);
  }
  {
    // Closed before the release below, so the span is recorded before run_loop returns.
    ObservedSpan span(obs, callers, SpanKind::loop, static_cast<Priority>(work.level),
                      loop->job->name);
    context.loop_chunks = ThreadContext::chunks_unreported;
    loop->job->run_slot(work.slot);
    // A nested loop's slot 0 on this thread reports too, but the outer job reports last.
    if (context.loop_chunks != ThreadContext::chunks_unreported) {
      span.set_loop_chunks(context.loop_chunks);
    }
  }
  if (movable) self->running_loop.store(nullptr, std::memory_order_relaxed);
  // Its release makes the slot's writes happen-before the caller's return from
  // run_loop, and it wakes the caller if it sleeps. The LoopControl may be gone after.
  loop->active.finish_one();
}

bool SchedulerCore::has_visible_work(Worker& self, unsigned min_level) {
  // Relaxed loads, ordered after the registration by the seq_cst fence in
  // register_sleeper (protocol step 3).
  return most_urgent_visible(self, min_level).has_value();
}

std::optional<unsigned> SchedulerCore::most_urgent_visible(Worker& self, unsigned min_level) {
  // The same sources find_work takes from (work_sources.hpp).
  auto nonempty = [](const Source& source) { return source.maybe_nonempty(); };
  for (int level = static_cast<int>(highest_level(self)); level >= static_cast<int>(min_level);
       --level) {
    if (visit_sources(Looker{&self}, static_cast<unsigned>(level), nonempty))
      return static_cast<unsigned>(level);
  }
  return std::nullopt;
}

}  // namespace weft::detail
