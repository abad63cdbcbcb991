// Priority serving: preemption points, boosting a Future's task, the aging rule and
// background_nice (README "Priorities").
//
// Preemption: every high/critical enqueue (and every urgent loop) bumps urgent_epoch_
// after making its work visible. A worker running low or normal work compares the epoch
// with the value it saw last at each preemption point (loop chunk boundaries; task
// boundaries are one anyway since find_work scans the most urgent level first), and on
// a change runs the urgent work it can find inline, on its own stack, before going back
// to its chunk: nothing of the low work is lost or run twice, it just pauses.
//
// Boosting: a thread that waits on a Future whose task is still queued runs that task
// itself, at once, instead of whatever the queues would hand it first (run_ahead). The
// task's `claimed` byte decides between the waiter and the thread that dequeues it.
//
// Aging (the starvation guard): a minimum share. After Config::aging_period picks above
// low in a row, a worker scans lowest level first once; a preemption point runs at most
// aging_period urgent items before the low chunk it interrupted continues.
//
// background_nice: a worker entering a stretch of low work lowers its OS priority by
// Config::background_nice and restores it when it next runs non-low work or parks (two
// setpriority calls per stretch, none per task). Restoring a nice value needs
// CAP_SYS_NICE or a large enough RLIMIT_NICE: without them the feature stays off
// (a worker that lowered and could not raise again would serve urgent work slowly).
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "sched/scheduler_core.hpp"
#include "weft/detail/preempt.hpp"
#include "weft/future.hpp"
#include "weft/scheduler.hpp"

namespace weft::detail {

namespace {

// CAP_SYS_NICE (bit 23) in the effective capability set, from /proc (no libcap).
bool has_cap_sys_nice() {
  std::ifstream status("/proc/self/status");
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

long this_tid() { return syscall(SYS_gettid); }

}  // namespace

void SchedulerCore::init_priority_serving() {
  if (config_.background_nice < 0 || config_.background_nice > 19) {
    throw ConfigError("Config::background_nice: " + std::to_string(config_.background_nice) +
                      " is not in 0..19");
  }
  if (config_.background_nice == 0) return;
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
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(this_tid()), target) != 0) {
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
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(this_tid()), base_nice_) == 0) {
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
  if (self == nullptr || context.level >= urgent) return;
  // acquire: pairs with note_urgent's release, so the queued work is visible to the scan.
  const std::uint64_t epoch = urgent_epoch_.load(std::memory_order_acquire);
  if (epoch == self->seen_urgent_epoch) return;
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
  std::uint8_t expected = 0;
  // relaxed pre-check, then the claim. acquire: the claim comes after the dequeuer-free
  // state of the block that enqueue published; the callable was written before the
  // Future reached this thread.
  if (task->claimed.load(std::memory_order_relaxed) != 0 ||
      !task->claimed.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                             std::memory_order_relaxed)) {
    return false;
  }
  ThreadContext& context = this_thread_context();
  const unsigned outer = context.level;
  // The task runs at the waiter's level if that is higher (what boosting means for
  // the preemption points inside it).
  context.level = outer < num_levels ? std::max<unsigned>(outer, task->level) : task->level;
  {
    // Metrics/trace: a worker that runs a task ahead counts it like one it dequeued.
    ObservedSpan span(observer_here(context), SpanKind::task, static_cast<Priority>(task->level),
                      task->name);
    task->fn(task, TaskOp::run);
  }
  context.level = outer;
  return true;  // the queue's reference stays: the dequeuer drops it (execute)
}

void preemption_point() noexcept {
  ThreadContext& context = this_thread_context();
  if (context.core != nullptr && context.worker != nullptr) context.core->yield_to_urgent(context);
}

WEFT_EXPORT void wait_on_task(SchedulerCore* core, Task* task) {
  if (core->run_ahead(task) && task->completion.done()) return;
  if (!task->completion.done()) core->wait_on(task->completion);
}

}  // namespace weft::detail

namespace weft {
bool Scheduler::background_nice_active() const { return core_->background_nice_active(); }
}  // namespace weft
