// Priority serving: preemption points, boosting a Future's task, the aging rule and
// background_nice (docs/priorities.md).
//
// Preemption: every high/critical enqueue (and every urgent loop) bumps urgent_epoch_
// after making its work visible. A worker running low or normal work compares the epoch
// with the value it saw last at each preemption point (loop chunk boundaries; task
// boundaries are one anyway since find_work scans the most urgent level first), and on
// a change runs the urgent work it can find inline, on its own stack, before going back
// to its chunk: nothing of the low work is lost or run twice, it just pauses.
//
// Inheritance: a task or loop whose options leave the priority unset takes the level of
// the work the submitting thread runs (ThreadContext::level), so everything a critical
// request spawns is critical, and so is everything a boosted task spawns.
//
// Boosting a Future: a thread that waits on a Future whose task is still queued runs
// that task itself, at once, instead of whatever the queues would hand it first
// (run_ahead). The task's `claimed` byte decides between the waiter and the dequeuer.
//
// Boosting a TaskGroup: only a group made by urgent work (high, critical) on a worker
// (GroupState::urgent_home; other groups record nothing and wait as before). That work,
// waiting on it at level W:
//  - raises the group to W: tasks queued into it from then on get at least W;
//  - runs first what it queued for the group on its own deques below W (GroupBoosting::home_mark,
//    recorded when urgent work queues lower tasks at home, tells where that begins:
//    the group's tasks and what they spawned lie above it, unrelated older tasks
//    below), at level W;
//  - if any are queued there, publishes the marks (Worker::boost_level/boost_mark), so
//    that workers scanning level W take those tasks (take_boosted) before any work
//    below W, and wakes some;
//  - then runs work at W or above, and lower work only if refusing it could leave a
//    task of the group unrun (may_refuse_lower_work): a critical waiter whose group's
//    last tasks run elsewhere does not start a long unrelated low task meanwhile.
// Tasks of the group that other threads queued before the wait began keep their level
// (they are not on the waiter's deques); the waiter then helps with any work as before.
//
// Aging (the starvation guard): a minimum share. After Config::aging_period picks above
// low in a row, a worker scans lowest level first once; a preemption point runs at most
// aging_period urgent items before the low chunk it interrupted continues.
//
// Background workers (background.cpp) take all low work when there are any; then the
// rules above apply among normal, high and critical work, and background_nice is off.
//
// background_nice: a worker entering a stretch of low work lowers its OS priority by
// Config::background_nice and restores it when it next runs non-low work or parks (two
// setpriority calls per stretch, none per task). Restoring a nice value needs
// CAP_SYS_NICE or a large enough RLIMIT_NICE: without them the feature stays off
// (a worker that lowered and could not raise again would serve urgent work slowly).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <string>
#include <utility>

#include "common/small_file.hpp"
#include "common/thread_id.hpp"
#include "sched/group_boosting.hpp"
#include "sched/scheduler_core.hpp"
#include "weft/detail/preempt.hpp"
#include "weft/future.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace weft::detail {

namespace {

// CAP_SYS_NICE (bit 23) in the effective capability set, from /proc (no libcap).
bool has_cap_sys_nice() {
  std::istringstream status(read_small_file("/proc/self/status").value_or(""));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = 0;
      std::istringstream(line.substr(7)) >> std::hex >> caps;
      return (caps >> 23) & 1u;
    }
  }
  return false;
}

}  // namespace

void SchedulerCore::init_priority_serving() {
  // Background workers run all low work at the idle class: no worker enters a low
  // stretch, and no nice value would lower them further.
  if (config_.background_nice == 0 || background_count_ > 0) return;
  // The workers inherit the creating thread's nice value; that is what they restore.
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);
  if (base == -1 && errno != 0) return;
  base_nice_ = base;
  // Linux lets a thread lower its nice value (raise priority) to 20 - RLIMIT_NICE.
  rlimit limit{};
  const bool rlimit_allows = getrlimit(RLIMIT_NICE, &limit) == 0 &&
                             (limit.rlim_cur == RLIM_INFINITY ||
                              20 - static_cast<long>(limit.rlim_cur) <= base);
  nice_active_ = base < 19 && (rlimit_allows || has_cap_sys_nice());
}

void SchedulerCore::set_worker_level(Worker& self, unsigned level, bool entering) {
  self.running_level.store(level, std::memory_order_relaxed);  // relaxed: see Worker
  if (level >= num_levels) return;  // idle: the stretch's nice value stays
  if (entering) self.urgent_streak = level == 0 ? 0 : self.urgent_streak + 1;
  if (!nice_active_) return;
  const bool want = level == level_of(Priority::low);
  if (want == self.niced) return;
  const int target = want ? std::min(19, base_nice_ + config_.background_nice) : base_nice_;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(current_tid()), target) != 0) {
    // Not expected after the probe (someone changed our limits): stop lowering. A
    // worker that is still niced restores at its next try or stays low (never a crash).
    if (!want) nice_failed_.store(true, std::memory_order_relaxed);  // relaxed: a flag
    return;
  }
  self.niced = want;
}

// Before parking: a worker woken for urgent work must not first compete for a CPU at
// the lowered priority (the kernel would let it wait behind every other thread before
// it even reaches the work). One syscall per park that follows a low stretch.
void SchedulerCore::end_low_stretch(Worker& self) {
  if (!self.niced) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(current_tid()), base_nice_) == 0) {
    self.niced = false;
  } else {
    nice_failed_.store(true, std::memory_order_relaxed);  // relaxed: a flag
  }
}

bool SchedulerCore::aging_due(Worker& self, unsigned min_level) {
  if (min_level != 0 || config_.aging_period == 0 || self.urgent_streak < config_.aging_period)
    return false;
  self.urgent_streak = 0;
  return true;
}

void SchedulerCore::yield_to_urgent(ThreadContext& context) {
  Worker* const self = context.worker;
  const unsigned urgent = level_of(Priority::high);
  // A background worker leaves urgent work to the others: at the idle class it would
  // run it slowly (the kernel already hands the others its core when they wake).
  if (self == nullptr || self->background || context.level >= urgent) return;
  // acquire: pairs with note_urgent's release, so the queued work is visible to the scan.
  const std::uint64_t epoch = urgent_epoch_.load(std::memory_order_acquire);
  if (epoch == self->seen_urgent_epoch) return;
  // Too deep to nest more on this stack: the urgent work goes to the other workers
  // (the epoch stays unseen, so the next preemption point looks again).
  if (must_not_nest(context)) return;
  self->seen_urgent_epoch = epoch;
  // At most aging_period items, then the interrupted chunk goes on (the aging rule).
  const unsigned limit = config_.aging_period == 0 ? ~0u : config_.aging_period;
  for (unsigned n = 0; n < limit; ++n) {
    Work work = find_work(*self, urgent);
    if (!work) break;
    execute(work);
  }
}

bool SchedulerCore::run_ahead(Task* task) {
  ThreadContext& context = this_thread_context();
  // Too deep: wait_on hands the task to a spare thread, which runs it ahead instead.
  if (must_not_nest(context)) return false;
  TaskClaim expected = TaskClaim::open;
  // relaxed pre-check, then the claim. acquire: the claim comes after the dequeuer-free
  // state of the block that enqueue published; the callable was written before the
  // Future reached this thread.
  if (task->claimed.load(std::memory_order_relaxed) != TaskClaim::open ||
      !task->claimed.compare_exchange_strong(expected, TaskClaim::taken,
                                             std::memory_order_acquire, std::memory_order_relaxed)) {
    return false;
  }
  if (counting_) task_started();  // backpressure only
  // A waiter that is not inside this scheduler yet (a thread weft did not create) runs
  // the task as one of the scheduler's own, as wait_on would: its spawns are a task's
  // (a borrowed slot; accepted by max_queued and during shutdown), and the scheduler
  // sees it inside (destroying or shutting it down from there is refused).
  struct Restore {
    ThreadContext& context;
    const ThreadContext saved;
    ~Restore() {
      // release: as in wait.cpp, the next borrower sees our deque operations.
      if (context.slot != nullptr && context.slot != saved.slot)
        context.slot->in_use.store(false, std::memory_order_release);
      context = saved;
    }
  } restore{context, context};
  if (context.core != this) {
    context = ThreadContext{this, nullptr, nullptr, false};
    context.depth = restore.saved.depth;  // the stack's, not the scheduler's
  }
  const unsigned outer = restore.saved.level;
  // The task runs at the waiter's level if that is higher (what boosting means for
  // the preemption points inside it).
  context.level = outer < num_levels ? std::max<unsigned>(outer, task->level) : task->level;
  {
    // Metrics/trace: a worker that runs a task ahead counts it like one it dequeued; any
    // other waiter traces it on its caller lane.
    ObservedSpan span(observer_here(context), observer_.caller_traces(), SpanKind::task,
                      static_cast<Priority>(task->level), task->name);
    ++context.depth;  // wait depth, as in execute
    task->fn(task, TaskOp::run);
    --context.depth;
  }
  return true;  // the queue's reference stays: the dequeuer drops it (execute)
}

void SchedulerCore::wait_group(GroupState& group) {
  const ThreadContext& context = this_thread_context();
  // Urgent waiters only (high, critical), as for preemption points: plain fork-join
  // code waiting at normal (fib and the like) pays nothing for boosting.
  if (context.core != this || context.worker == nullptr ||
      context.level < level_of(Priority::high) || context.level >= num_levels) {
    wait_on(group.pending);
  } else {
    wait_group_boosted(group, *context.worker, context.level);
  }
}

void SchedulerCore::wait_group_boosted(GroupState& state, Worker& worker, unsigned level) {
  Worker* const self = &worker;
  GroupBoosting& group = boosting_of(state);
  const unsigned outer_boost = group.boost.load(std::memory_order_relaxed);
  group.boost.store(std::max(outer_boost, level + 1), std::memory_order_seq_cst);
  // How many of the group's tasks wait on our deques below our level.
  std::int64_t queued = 0;
  if (static_cast<int>(self->index) == group.home) {
    for (unsigned l = 0; l < level; ++l) {
      const std::int64_t mark = group.mark(l);
      if (mark >= 0) queued += self->deques[l].count_from(mark);
    }
  }
  // If any, publish where they are (saving an outer boosted wait's marks) and get help.
  const bool publish = queued > 0;
  const unsigned outer_level = self->boost_level.load(std::memory_order_relaxed);
  std::array<std::int64_t, num_levels> outer_marks{};
  if (publish) {
    for (unsigned l = 0; l < num_levels; ++l) {
      outer_marks[l] = self->boost_mark[l].load(std::memory_order_relaxed);
      const std::int64_t mark = l < level ? group.mark(l) : -1;
      self->boost_mark[l].store(mark, std::memory_order_relaxed);
    }
    // release: a thief that reads the level sees the marks.
    self->boost_level.store(level, std::memory_order_release);
    if (outer_level >= num_levels) boosting_.fetch_add(1, std::memory_order_relaxed);
    note_urgent(level);  // workers in a low loop look at their next chunk boundary
    const auto helpers = std::min<std::int64_t>(queued, static_cast<std::int64_t>(workers_.size()) - 1);
    for (std::int64_t i = 0; i < helpers; ++i) wake_one(level);
  }
  const WaitBoost boost{&state, level};
  struct Unpublish {
    SchedulerCore* core;
    Worker* self;
    GroupBoosting& group;
    bool publish;
    unsigned outer_level, outer_boost;
    const std::array<std::int64_t, num_levels>& outer_marks;
    ~Unpublish() {
      if (publish) {
        self->boost_level.store(outer_level, std::memory_order_release);
        for (unsigned l = 0; l < num_levels; ++l) {
          self->boost_mark[l].store(outer_marks[l], std::memory_order_relaxed);
        }
        if (outer_level >= num_levels) core->boosting_.fetch_sub(1, std::memory_order_relaxed);
      }
      group.boost.store(outer_boost, std::memory_order_relaxed);
    }
  } unpublish{this, self, group, publish, outer_level, outer_boost, outer_marks};
  wait_on(state.pending, &boost);
}

Work SchedulerCore::find_work_boosted(Worker& self, const WaitBoost& boost) {
  const GroupBoosting& group = boosting_of(*boost.group);
  if (static_cast<int>(self.index) == group.home) {
    // 1. What we queued for the group, and what that spawned: newest first, above the mark.
    for (int l = static_cast<int>(boost.level) - 1; l >= 0; --l) {
      const std::int64_t mark = group.mark(l);
      if (mark >= 0 && self.deques[l].count_from(mark) > 0) {
        // pop() takes position bottom - 1 >= mark: one of ours (or nothing, if stolen).
        if (Task* task = self.deques[l].pop()) return Work{task, nullptr, 0, boost.level};
      }
    }
  }
  // 2. Work at the boosted level or above (other boosted groups' tasks included).
  if (Work work = find_work(self, boost.level)) return work;
  // 3. Lower work, unless refusing it is safe.
  if (may_refuse_lower_work(self, boost)) return {};
  return find_work(self);
}

// True when every task of the group not yet started is at the boosted level or above
// (where step 2 looks), so lower work may wait: nothing the group needs is below. The
// owner's view of its own deques is exact, so an empty one really holds none.
bool SchedulerCore::may_refuse_lower_work(const Worker& self, const WaitBoost& boost) const {
  const GroupBoosting& group = boosting_of(*boost.group);
  // seq_cst: see note_group_task. All of the group's tasks went onto our deques...
  if (static_cast<int>(self.index) != group.home || group.foreign.load(std::memory_order_seq_cst)) {
    return false;
  }
  const auto& node = *numa_queues_[self.numa_node];
  for (unsigned l = 0; l < boost.level; ++l) {
    // ...and our deques below the boosted level are empty (a lower task of the group
    // queued before the work turned urgent carries no mark: it could be any of them)...
    if (self.deques[l].maybe_nonempty()) return false;
    // ...and no strict task waits that only this worker (or its node) may run.
    if (self.strict_inbox[l].maybe_nonempty() || node[1][l].maybe_nonempty()) return false;
  }
  return true;
}

// A task of a boosted wait on another worker, taken from the top of that worker's deque
// below `level` and run at `level`. Older tasks above it in the deque (below the mark)
// move to the global queue on the way: anyone may run them, at their own level.
Work SchedulerCore::take_boosted(Worker& self, unsigned level) {
  for (unsigned victim : self.steal_order) {
    Worker& other = *workers_[victim];
    // acquire: pairs with wait_group's release; the marks are visible.
    if (other.boost_level.load(std::memory_order_acquire) != level) continue;
    for (int l = static_cast<int>(level) - 1; l >= 0; --l) {
      const std::int64_t mark = other.boost_mark[l].load(std::memory_order_relaxed);
      if (mark < 0) continue;
      for (;;) {
        StealResult r = other.deques[l].steal();
        if (r.status == StealStatus::empty) break;
        if (r.status == StealStatus::lost_race) continue;
        if (r.index >= mark) {
          if (self.obs != nullptr) {
            self.obs->steal_attempted();
            self.obs->steal_succeeded(observer_.distance(self.index, victim));
          }
          return Work{r.task, nullptr, 0, level};
        }
        global_[l].push(r.task);
        // Someone must be awake to take it there: with background workers, a low task
        // in the global queue is theirs alone, and they may all be parked (the wake-up
        // its enqueue sent went to one that took other work). Without this, a waiter on
        // it slept until the next low submit (the soak's hang with background workers).
        wake_one(l);
      }
    }
  }
  return {};
}

void preemption_point() noexcept {
  ThreadContext& context = this_thread_context();
  if (context.core != nullptr && context.worker != nullptr) context.core->yield_to_urgent(context);
}

WEFT_EXPORT void wait_on_group(SchedulerCore* core, GroupState& group) { core->wait_group(group); }

WEFT_EXPORT void set_group_home(SchedulerCore* core, GroupState& group) noexcept {
  GroupBoosting& boosting = *new (group.boosting) GroupBoosting;
  const ThreadContext& context = this_thread_context();
  if (context.core != core || context.worker == nullptr) return;  // no home: -1
  boosting.home = static_cast<int>(context.worker->index);
  group.urgent_home = context.level >= level_of(Priority::high) && context.level < num_levels;
}

WEFT_EXPORT void forget_group_placement(GroupState& group) noexcept {
  boosting_of(group).forget_placement();
}

WEFT_EXPORT unsigned exchange_thread_level(unsigned level) noexcept {
  return std::exchange(this_thread_context().level, level);
}

WEFT_EXPORT void wait_on_task(SchedulerCore* core, Task* task) {
  if (core->run_ahead(task) && task->completion.done()) return;
  // `task` again: a waiter nested too deep hands its wait to a spare thread, which then
  // runs the task ahead if it is still queued.
  if (!task->completion.done()) core->wait_on(task->completion, nullptr, task);
}

}  // namespace weft::detail

namespace weft {
bool Scheduler::background_nice_active() const { return core_->background_nice_active(); }
unsigned Scheduler::background_workers() const { return core_->background_workers(); }

Priority current_priority() noexcept {
  const unsigned level = detail::this_thread_context().level;
  return level < detail::num_levels ? static_cast<Priority>(level) : Priority::normal;
}
}  // namespace weft
