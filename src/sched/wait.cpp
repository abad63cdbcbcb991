// Waiting that helps: Future::wait, TaskGroup::wait. The waiting thread runs tasks
// until what it waits for is done, and sleeps only when it can find nothing to run.
//
// A worker that waits (a task waiting on tasks) keeps taking work exactly like its
// loop does, so nesting never deadlocks: whatever it waits for is either running on
// some thread or queued where this worker can take it (strict tasks queued for it
// included). An external thread borrows an ExternalSlot (a set of deques) from the
// first spawn of a task it runs until its outermost wait returns, so the tasks spawned
// by the tasks it runs stay local to it like a worker's, and workers steal them.
//
// Nested too deep to run another task on its stack (must_not_nest), a waiter does not
// help: it blocks and a spare thread helps in its place (deep_wait.cpp).
#include <chrono>

#include "sched/cpu_relax.hpp"
#include "sched/scheduler_core.hpp"
#include "sched/work_sources.hpp"

namespace weft::detail {

namespace {

// Restores the caller's context (and gives back a borrowed slot) on every exit path.
struct ContextGuard {
  ThreadContext& context;
  ThreadContext saved;
  ~ContextGuard() {
    // A slot borrowed during this wait (enqueue borrows lazily, on the first spawn).
    // release: the next borrower's acquire sees our deque operations (owner handover).
    if (context.slot != nullptr && context.slot != saved.slot) {
      context.slot->in_use.store(false, std::memory_order_release);
    }
    context = saved;
  }
};

}  // namespace

ExternalSlot* SchedulerCore::acquire_slot() {
  for (auto& slot : slots_) {
    // relaxed pre-check, then acquire: pairs with the previous owner's release.
    if (!slot->in_use.load(std::memory_order_relaxed) &&
        !slot->in_use.exchange(true, std::memory_order_acquire)) {
      return slot.get();
    }
  }
  return nullptr;  // all borrowed: this thread's spawns go through the global queues
}

void SchedulerCore::wait_on(WaitState& state, const WaitBoost* boost, Task* ahead) {
  ThreadContext& context = this_thread_context();
  // The depth and the stack do not change while this wait runs tasks (each returns to
  // this frame), so one check covers the whole wait.
  if (must_not_nest(context) && wait_deep(state, ahead)) return;
  Worker* self = context.core == this ? context.worker : nullptr;
  ContextGuard guard{context, context};
  if (context.core != this) {
    // Outermost wait of an external thread here (or of a worker of another scheduler).
    // Its slot is borrowed by enqueue when a task it runs first spawns. The stack's
    // depth stays: it is this thread's.
    context = ThreadContext{this, nullptr, nullptr, false};
    context.depth = guard.saved.depth;
  }
  const std::chrono::nanoseconds spin_budget = config_.spin;

  if (self == nullptr) boost = nullptr;  // boosting needs a worker's deques

  while (!state.done()) {
    Work work = self == nullptr   ? find_work_external(context.slot)
                : boost != nullptr ? find_work_boosted(*self, *boost)
                                   : find_work(*self);
    if (work) {
      execute(work);
      continue;
    }
    // The lowest level of work this waiter takes now (a boosted wait may refuse lower).
    const unsigned floor =
        boost != nullptr && may_refuse_lower_work(*self, *boost) ? boost->level : 0u;
    auto visible = [&] {
      return self != nullptr ? has_visible_work(*self, floor) : has_visible_work_external();
    };
    // Spin a little: the awaited task is probably running and about to finish.
    const auto deadline = std::chrono::steady_clock::now() + spin_budget;
    bool progress = false;
    for (unsigned round = 1; spin_budget.count() > 0; ++round) {
      if (state.done()) break;
      if (visible()) {
        progress = true;
        break;
      }
      cpu_relax();
      if (round % 16 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    if (progress || state.done()) continue;

    // Sleep until the awaited thing completes, or (for a worker) new work arrives.
    Parker& parker = this_thread_parker();
    parker.prepare();
    if (!state.register_waiter(parker)) break;  // completed meanwhile
    if (self != nullptr) register_sleeper(*self);
    else seq_cst_fence();
    const bool again = state.done() || visible();
    if (!again) parker.park();
    if (self != nullptr) unregister_sleeper(*self);
    // A refusing waiter may have been woken for lower work it will not take: pass the
    // wake-up on, so that work does not wait for this wait to end. With background
    // workers, low and normal work wake different sets, and the waiter cannot tell which
    // it was woken for: both are told.
    if (floor > 0 && parker.woken(Parker::work)) {
      wake_one(0);
      if (background_count_ > 0 && floor > level_of(Priority::normal))
        wake_one(level_of(Priority::normal));
    }
    state.unregister_waiter(parker);
  }
}

Work SchedulerCore::find_work_external(ExternalSlot* own) {
  const bool draining = this_thread_context().draining;
  // relaxed: a hint, as in find_work.
  const unsigned seen = draining ? all_levels_mask : levels_seen_.load(std::memory_order_relaxed);
  const Looker who{nullptr, own, draining};
  const int floor = static_cast<int>(external_floor_here());
  for (int level = num_levels - 1; level >= floor; --level) {
    const auto l = static_cast<unsigned>(level);
    if ((seen & (1u << l)) == 0) continue;
    if (Work work = visit_sources(who, l, [&](const Source& source) __attribute__((always_inline)) {
          return take(source, nullptr);
        })) {
      return work;
    }
  }
  return {};
}

// Low work is the background workers': a waiter at the normal class would compete with
// urgent threads for the CPU. Except for the drain at shutdown, which takes everything,
// and for a thread that runs low work itself: a spare thread helping a background
// worker's deep wait (deep_wait.cpp) must take what that worker would have taken.
unsigned SchedulerCore::external_floor_here() const {
  const ThreadContext& context = this_thread_context();
  return context.draining || context.level == 0 ? 0u : external_floor();
}

bool SchedulerCore::has_visible_work_external() {
  // The levels and sources find_work_external takes from; relaxed loads, ordered after
  // the waiter registration by a seq_cst fence.
  const ThreadContext& context = this_thread_context();
  const Looker who{nullptr, context.slot, context.draining};
  for (unsigned level = external_floor_here(); level < num_levels; ++level) {
    if (visit_sources(who, level, [](const Source& source) { return source.maybe_nonempty(); })) {
      return true;
    }
  }
  return false;
}

void wait_on(SchedulerCore* core, WaitState& state) { core->wait_on(state); }
void enqueue(SchedulerCore* core, Task* task, const TaskOptions& options) {
  core->enqueue(task, options);
}

}  // namespace weft::detail
