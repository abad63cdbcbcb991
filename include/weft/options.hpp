// Per-call options: TaskOptions for submit/TaskGroup::run, ForOptions for the loop family.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "weft/config.hpp"
#include "weft/export.hpp"

namespace weft {

// The priority of the task or loop the calling thread runs right now, boost included (a
// critical thread waiting on a TaskGroup runs the group's low tasks at critical);
// Priority::normal on a thread that runs no weft work. An unset TaskOptions::priority
// or ForOptions::priority takes this value.
WEFT_EXPORT Priority current_priority() noexcept;

namespace detail {
inline Priority resolve_priority(const std::optional<Priority>& priority) noexcept {
  return priority ? *priority : current_priority();
}

// Sets the level current_priority() reports on the calling thread (num_priorities:
// none) and returns the previous one. Defined in src/sched/priority.cpp.
WEFT_EXPORT unsigned exchange_thread_level(unsigned level) noexcept;

// Runs a scope at `requested` (unset: unchanged), restoring the thread's level after.
// The public face is weft::PriorityScope; the loop family uses this one directly.
class ThreadPriorityScope {
 public:
  explicit ThreadPriorityScope(const std::optional<Priority>& requested) noexcept
      : priority_(resolve_priority(requested)) {
    if (requested) outer_ = exchange_thread_level(static_cast<unsigned>(*requested));
  }
  ~ThreadPriorityScope() {
    if (outer_ != unchanged) exchange_thread_level(outer_);
  }
  ThreadPriorityScope(const ThreadPriorityScope&) = delete;
  ThreadPriorityScope& operator=(const ThreadPriorityScope&) = delete;
  Priority priority() const noexcept { return priority_; }

 private:
  static constexpr unsigned unchanged = ~0u;
  Priority priority_;
  unsigned outer_ = unchanged;
};
}  // namespace detail

// Makes the calling thread run at `priority` until the scope ends: what it submits or
// loops over with the priority unset inherits it. For threads weft did not create,
// e.g. a request handler:
//   weft::PriorityScope live(weft::Priority::critical);
//   engine.forward(request);  // its parallel_for and tasks run at critical
// Scopes nest; each restores the previous priority (construct and destroy on the same
// thread). Raises ConfigError for a value that is not a Priority.
class PriorityScope {
 public:
  explicit PriorityScope(Priority priority) : scope_(checked(priority)) {}
  PriorityScope(const PriorityScope&) = delete;
  PriorityScope& operator=(const PriorityScope&) = delete;

 private:
  static Priority checked(Priority priority) {
    if (static_cast<unsigned>(priority) >= num_priorities) {
      throw ConfigError("PriorityScope: " + std::to_string(static_cast<unsigned>(priority)) +
                        " is not a Priority");
    }
    return priority;
  }
  detail::ThreadPriorityScope scope_;
};

// Priority left unset means "inherit": the priority of the task or loop the submitting
// thread is running (boosted level included), so the subtasks and kernels of a critical
// request are critical without passing the priority down; Priority::normal on a thread
// that runs no weft work. See weft::current_priority().
//
// Validation: every entry point that takes TaskOptions or ForOptions (submit,
// TaskGroup::run, every loop, EigenThreadPool) checks them with the same function
// before it queues or runs anything, and raises ConfigError naming the field and the
// value, e.g. "TaskOptions::priority: 7 is not a Priority", "ForOptions::numa_node: 5
// has no worker of this scheduler (-1 = anywhere)". A field both structs have is
// checked by the same rule, with the same text but for the struct's name.
struct TaskOptions {
  std::optional<Priority> priority = std::nullopt;
  // Affinity hint: queue the task at this worker (index into Placement::workers) or on
  // this NUMA node's workers; -1 = no hint. Idle workers elsewhere may still steal it
  // unless `strict` is set. Other values must name a worker / a NUMA node that holds one
  // of this scheduler's workers (both are checked when both are set; `worker` wins).
  int worker = -1;
  int numa_node = -1;
  bool strict = false;
  // Shown in traces; must outlive the scheduler (a string literal).
  const char* name = nullptr;
};

// grain and chunk (docs/loops.md, "Grain and chunk, next to other libraries", compares
// them with at::parallel_for, oneTBB and OpenMP):
//   grain  the fewest iterations worth handing to a thread, as at::parallel_for's
//          grain_size and oneTBB's blocked_range grain mean it. weft still sizes the team
//          from the measured cost, gives each thread one large contiguous share and
//          splits further only when a thread runs out of work; body(b, e) gets ranges of
//          at least `grain` iterations (the range's last one may be shorter).
//   chunk  exact chunks, as OpenMP's schedule(dynamic, chunk): body(b, e) is called once
//          per chunk of exactly `chunk` iterations starting at begin + k * chunk (the
//          last one shorter); the whole team (up to max_threads) is invited and each
//          thread takes one chunk at a time. For callers that rely on chunk alignment.
// 0 leaves either unset; any other value is valid (one larger than the range makes a
// single chunk). With both set, a thread takes whole chunks, at least `grain`
// iterations of them, at a time.
struct ForOptions {
  std::size_t grain = 0;
  std::optional<Priority> priority = std::nullopt;  // unset: inherit (see TaskOptions)
  // At most this many threads run the loop, the caller included. 0: no cap. Any value
  // is valid; one above Scheduler::num_threads() is that count.
  unsigned max_threads = 0;
  // Run only on the workers of this NUMA node / L3 domain (logical index, as in
  // WorkerPlacement); -1: anywhere. Another value must name a domain that holds a worker
  // of this scheduler (with both set: a worker in both), else ConfigError; the caller
  // always takes part, wherever it runs.
  int numa_node = -1;
  int l3 = -1;
  // parallel_reduce: split the range into fixed chunks (`chunk` iterations; 0: 1024),
  // one partial each, combined in range order, so float results are bit-identical run
  // to run and across thread counts.
  bool deterministic = false;
  // Shown in traces; must outlive the scheduler (a string literal).
  const char* name = nullptr;
  // Last, so that code initializing the fields above by position still compiles.
  std::size_t chunk = 0;
};

}  // namespace weft
