// What a worker and a waiting thread hold: the priority levels, the work they take (a
// task or a loop invitation, and the mailbox word that carries one), each worker's
// queues and state, an external thread's borrowed deques, and the per-thread context.
// SchedulerCore (scheduler_core.hpp) owns the workers and the rules that use them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "observe/observer.hpp"
#include "sched/injection_queue.hpp"
#include "sched/spin_budget.hpp"
#include "sched/work_deque.hpp"
#include "weft/config.hpp"
#include "weft/detail/loop_job.hpp"
#include "weft/detail/task.hpp"
#include "weft/detail/wait.hpp"
#include "weft/task_group.hpp"
#include "weft/topology.hpp"

namespace weft::detail {

class SchedulerCore;

inline constexpr unsigned num_levels = num_priorities;
inline constexpr unsigned level_of(Priority p) { return static_cast<unsigned>(p); }
// A bit per level (levels_seen_, a scan over every level).
inline constexpr unsigned all_levels_mask = (1u << num_levels) - 1;
// Threads weft did not create that may hold a set of deques at once (ExternalSlot);
// more borrowers go through the global queues.
inline constexpr unsigned num_external_slots = 4;
// Cells of each global queue: larger rings than the per-worker inboxes, since external
// submit bursts land there.
inline constexpr std::size_t global_queue_capacity = 4096;

// One InjectionQueue of `capacity` cells per level.
template <std::size_t... Level>
std::array<InjectionQueue, num_levels> queue_per_level(std::size_t capacity,
                                                        std::index_sequence<Level...>) {
  return {((void)Level, InjectionQueue(capacity))...};
}

// A parallel loop being offered to workers; lives on the run_loop caller's stack.
// 64-byte aligned so that a mailbox word can carry its address plus tag bits.
struct alignas(64) LoopControl {
  LoopJob* job = nullptr;
  // Invitations posted and not revoked, plus slots running. The caller returns at 0,
  // and may sleep on it meanwhile (run_loop's join; a low loop handed to the background
  // workers, background.cpp).
  WaitState active;
  // The CPU the caller ran on when it posted the invitations, for unbound workers to
  // step aside from (step_aside.cpp); -1: not looked at (bound workers).
  int caller_cpu = -1;
};

// A worker's mailbox word: 0 (empty), or an invitation: the LoopControl address
// (bits 6..47), the slot (bits 48..63), the priority (bits 2..3) and bit 1 set.
namespace mailbox {
inline constexpr std::uintptr_t empty = 0;
inline constexpr std::uintptr_t posted_bit = 2;
inline constexpr unsigned level_shift = 2;
inline constexpr std::uintptr_t level_mask = 3;
static_assert(num_levels - 1 <= level_mask && (level_mask << level_shift) < 64,
              "the priority must fit below the LoopControl's 64-byte alignment");
inline std::uintptr_t encode(LoopControl* control, unsigned slot, unsigned level) {
  return reinterpret_cast<std::uintptr_t>(control) | (std::uintptr_t{slot} << 48) |
         (std::uintptr_t{level} << level_shift) | posted_bit;
}
inline LoopControl* control(std::uintptr_t v) {
  return reinterpret_cast<LoopControl*>(v & 0x0000'ffff'ffff'ffc0u);
}
inline unsigned slot(std::uintptr_t v) { return static_cast<unsigned>(v >> 48); }
inline unsigned level(std::uintptr_t v) {
  return static_cast<unsigned>((v >> level_shift) & level_mask);
}
}  // namespace mailbox

// What a thread found to do: a task, or slot `slot` of a loop (of priority `level`).
struct Work {
  Task* task = nullptr;
  LoopControl* loop = nullptr;
  unsigned slot = 0;
  // A loop's priority; for a task, the level it is boosted to (it runs at the higher of
  // this and its own Task::level).
  unsigned level = 0;
  explicit operator bool() const { return task != nullptr || loop != nullptr; }
};

// A TaskGroup wait that boosts the group's tasks to the waiter's level (priority.cpp).
struct WaitBoost {
  GroupState* group;
  unsigned level;
};

// Wait depth (deep_wait.cpp). A waiting thread runs other tasks on its own stack (that
// is how waiting helps), so a chain of tasks each waiting on the next nests one frame
// set per link. At most max_inline_depth tasks are nested on one stack, and none once
// half of the stack is used; a thread that may not nest more blocks, and a spare thread
// with a fresh stack helps in its place. Measured per link (x86-64, gcc 12): 368 bytes
// for a Future chain, 640 for a TaskGroup chain in release; 1632 and 3168 under ASan.
inline constexpr unsigned max_inline_depth = 1024;
// The stack every thread weft creates (workers, spares) gets: 8 MiB, or the process's
// default thread stack size if that is larger.
std::size_t thread_stack_size();
// pthread_create with that stack size; returns 0 or the error number.
int start_thread(pthread_t& thread, void* (*entry)(void*), void* arg);

// A wait nested too deep to run tasks inline (deep_wait.cpp), on the blocked thread's
// stack: a spare thread helps until `state` is done, then finishes `handed_back`.
struct DeepWait {
  WaitState* state = nullptr;
  Task* ahead = nullptr;      // a Future's task: run first if still queued (run_ahead)
  unsigned level = 0;         // the blocked thread's ThreadContext::level (inherited)
  bool draining = false;      // the blocked thread drains at shutdown (strict tasks too)
  WaitState handed_back;      // pending 1 until the spare is done with this wait
};

enum class WorkerState : int { busy, spinning, parked };

struct alignas(64) Worker {
  Worker(unsigned i, const WorkerPlacement& p, std::vector<unsigned> order)
      : index(i), numa_node(p.numa_node), l3(p.l3), reserved(p.reserved),
        background(p.background), steal_order(std::move(order)), cpus(p.cpus) {}

  const unsigned index;
  const unsigned numa_node, l3;
  const bool reserved;
  const bool background;  // runs only low work, at the OS's idle class (background.cpp)
  const std::vector<unsigned> steal_order;
  const std::vector<unsigned> cpus;
  bool bound = false;  // bound to `cpus` (Config::pinning); set before the thread starts

  std::array<WorkDeque, num_levels> deques;             // tasks this worker spawned
  std::array<InjectionQueue, num_levels> inbox;         // hinted here; others may steal
  std::array<InjectionQueue, num_levels> strict_inbox;  // only this worker runs these

  alignas(64) std::atomic<std::uintptr_t> mailbox{mailbox::empty};
  // relaxed everywhere: a hint for nested run_loop (invite idle workers only).
  alignas(64) std::atomic<WorkerState> state{WorkerState::busy};
  Parker parker;

  // This worker's metrics and trace (null with Config::metrics off): hooks are called
  // on this worker's thread only (single writer, observe/worker_counters.hpp).
  WorkerObserver* obs = nullptr;

  // The level of the item this worker runs (num_levels: none). Written by the owner,
  // read by run_loop callers choosing whom to invite into an urgent loop; relaxed: a
  // hint (a stale value only costs or misses one invitation).
  std::atomic<unsigned> running_level{num_levels};
  // Owner-only priority-serving bookkeeping (priority.cpp).
  std::uint64_t seen_urgent_epoch = 0;  // urgent_epoch_ at this worker's last look
  unsigned urgent_streak = 0;           // picks above low in a row (aging rule)
  bool niced = false;                   // running at Config::background_nice now

  // A boosted TaskGroup wait on this worker (priority.cpp): its level (num_levels:
  // none), and per lower level the deque position where the group's tasks begin (-1:
  // none there). Other workers take tasks at or above the mark at the boosted level.
  // Written by the owner (marks before the level, release); read by other workers.
  std::atomic<unsigned> boost_level{num_levels};
  std::array<std::atomic<std::int64_t>, num_levels> boost_mark{};

  // Owner-only spin bookkeeping (spin_budget.hpp; worker_loop.cpp feeds it).
  SpinBudget spin_budget;
  long involuntary_switches = 0;
  std::uint64_t last_step_aside_ns = 0;  // owner-only (step_aside.cpp)
  // For moving an unbound worker between CPUs (step_aside.cpp): its thread id (set once
  // at start), the loop whose part it runs (null: none; set only for loops whose caller
  // recorded its CPU), and who is changing its affinity mask now (one at a time).
  // relaxed everywhere: hints; a stale read moves a worker that no longer needs it.
  std::atomic<int> tid{0};
  std::atomic<LoopControl*> running_loop{nullptr};
  std::atomic<bool> moving{false};

  // TaskOptions::name of the task this worker runs now (null: none, or unnamed), for
  // try_shutdown_for's report. Written by the owner only while tracing
  // (SchedulerCore::trace_names_); relaxed: a report, read after a timeout.
  std::atomic<const char*> running_name{nullptr};

  // Created with an explicit stack size (start_thread, deep_wait.cpp).
  class SchedulerCore* core = nullptr;  // set before the thread starts
  pthread_t thread{};
  bool started = false;
  // Shutdown (shutdown.cpp): `exited` is set under SchedulerCore::exit_mutex_ as the
  // thread leaves worker_main; `joined` by the thread that joined it.
  bool exited = false;
  bool joined = false;
};

// Deques an external thread borrows while it waits, so that tasks it spawns from the
// tasks it runs are pushed and popped like a worker's (instead of through the global
// injection queue). Workers steal from them after their steal_order.
struct alignas(64) ExternalSlot {
  std::atomic<bool> in_use{false};
  std::array<WorkDeque, num_levels> deques;
};

// Per-thread context: which scheduler the thread is working for right now.
struct ThreadContext {
  class SchedulerCore* core = nullptr;
  Worker* worker = nullptr;      // set on the core's worker threads
  ExternalSlot* slot = nullptr;  // an external thread's borrowed deques
  bool draining = false;         // the destructor's thread running leftover tasks
  // Level of the task or loop this thread runs now (num_levels: none); for boosting
  // and preemption points.
  unsigned level = num_levels;
  // Chunks the LoopJob running on this thread reported (report_loop_chunks), or
  // chunks_unreported. A slot that found nothing left reports 0.
  std::uint64_t loop_chunks = chunks_unreported;
  static constexpr std::uint64_t chunks_unreported = ~std::uint64_t{0};
  // Tasks and loop parts running on this thread's stack right now, one inside the
  // other (execute, run_ahead): what a wait's inline helping has nested. It belongs to
  // the thread, not to a scheduler: code that replaces the context carries it over.
  unsigned depth = 0;
};
inline thread_local ThreadContext tls_context;
inline ThreadContext& this_thread_context() noexcept { return tls_context; }

// Runs the calling thread at `level` until the scope ends (a loop's or a team's caller:
// what its part spawns inherits the level, and its preemption points compare with it).
class ContextLevelScope {
 public:
  ContextLevelScope(ThreadContext& context, unsigned level) noexcept
      : context_(context), outer_(context.level) {
    context_.level = level;
  }
  ~ContextLevelScope() { context_.level = outer_; }
  ContextLevelScope(const ContextLevelScope&) = delete;
  ContextLevelScope& operator=(const ContextLevelScope&) = delete;

 private:
  ThreadContext& context_;
  unsigned outer_;
};

}  // namespace weft::detail
