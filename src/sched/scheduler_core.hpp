// The scheduler's internals: the workers (worker.hpp), parking and loop invitations.
// Public headers see only the opaque weft::detail::SchedulerCore.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "observe/observer.hpp"
#include "sched/group_boosting.hpp"
#include "sched/injection_queue.hpp"
#include "sched/sleeper_set.hpp"
#include "sched/worker.hpp"
#include "sched/work_deque.hpp"
#include "weft/config.hpp"
#include "weft/detail/loop_job.hpp"
#include "weft/detail/task.hpp"
#include "weft/detail/wait.hpp"
#include "weft/metrics.hpp"
#include "weft/options.hpp"
#include "weft/task_group.hpp"
#include "weft/team.hpp"
#include "weft/topology.hpp"

namespace weft::detail {

class ElasticMonitor;
struct Looker;  // work_sources.hpp
struct Source;

class SchedulerCore {
 public:
  SchedulerCore(const Placement& placement, const Config& config);
  ~SchedulerCore();  // runs what is queued, joins the workers
  SchedulerCore(const SchedulerCore&) = delete;
  SchedulerCore& operator=(const SchedulerCore&) = delete;

  void enqueue(Task* task, const TaskOptions& options);
  // Runs tasks until `state` is done (wait.cpp); with `boost`, in the order a boosted
  // TaskGroup wait needs (find_work_boosted). Nested too deep (must_not_nest), it blocks
  // instead and a spare thread helps in its place, running `ahead` (a Future's task)
  // first if it is still queued (deep_wait.cpp).
  void wait_on(WaitState& state, const WaitBoost* boost = nullptr, Task* ahead = nullptr);
  void wait_group(GroupState& group);
  void wait_group_boosted(GroupState& group, Worker& self, unsigned level);
  void run_loop(LoopJob& job, unsigned max_threads, Priority priority, LoopDomain domain);
  unsigned run_team(TeamJob& job, unsigned max_members, Priority priority,
                    bool all_or_nothing);  // team.cpp

  // relaxed: a width for loops that start from now on; a running loop keeps its team.
  // The elastic cap (Config::adaptive) applies on top of it.
  unsigned num_threads() const {
    return std::min(loop_threads_.load(std::memory_order_relaxed),
                    elastic_threads_.load(std::memory_order_relaxed));
  }
  void set_num_threads(unsigned n);  // Scheduler::set_num_threads
  int current_worker() const;
  unsigned awake_workers() const;
  const Placement& placement() const { return placement_; }
  // The checked, resolved Config (topology/config_check.hpp: effective_config).
  const Config& config() const { return config_; }

  // Priority serving (priority.cpp). A preemption point: on a worker running low or
  // normal work, runs queued high/critical work first if any arrived since its last look.
  void yield_to_urgent(ThreadContext& context);
  // Runs `task` (a Future's) on this thread now unless someone dequeued it already, or
  // this thread is nested too deep to run it on its stack (then false).
  bool run_ahead(Task* task);
  // Wait depth (deep_wait.cpp): true when this thread may not run another task inline,
  // on top of what its stack already holds: max_inline_depth tasks nested, or more
  // than half of its stack used.
  bool must_not_nest(const ThreadContext& context) const;

  // Shutdown (shutdown.cpp). try_shutdown_for: Scheduler::try_shutdown_for.
  // finish_for_destruction: what ~Scheduler does; false when a worker is stuck in a task
  // after an incomplete try_shutdown_for (the core must then be leaked, not deleted).
  ShutdownResult try_shutdown_for(std::chrono::milliseconds timeout);
  bool finish_for_destruction();

  // Backpressure (backpressure.cpp): the high-water mark starts a new metrics window.
  void reset_queued_high_water();
  bool background_nice_active() const { return nice_active_; }
  // Background workers (background.cpp): how many this scheduler has.
  unsigned background_workers() const { return background_count_; }
  // hands_off for the calling thread (Scheduler::hands_off).
  bool hands_off_here(Priority priority) const {
    const ThreadContext& context = this_thread_context();
    return hands_off(level_of(priority), context.core == this ? context.worker : nullptr);
  }

  // Observability (Scheduler::metrics, reset_metrics, write_trace).
  Metrics metrics() const;
  Observer& observer() { return observer_; }
  const Observer& observer() const { return observer_; }
  // The calling thread's metrics hooks: its WorkerObserver if it is one of this
  // scheduler's workers (and metrics are on), else null (hooks then do nothing).
  WorkerObserver* observer_here(const ThreadContext& context) const {
    return context.core == this && context.worker != nullptr ? context.worker->obs : nullptr;
  }

 private:
  // --- the worker loop (worker_loop.cpp), top to bottom ---
  void worker_main(Worker& self);
  Work find_work(Worker& self, unsigned min_level = 0);
  Work take_at(Worker& self, unsigned level, unsigned levels_seen);
  Work take_boosted(Worker& self, unsigned level);
  // Sets spin_start to when the worker ran out of work; park() measures from there.
  Work spin(Worker& self, std::chrono::steady_clock::time_point& spin_start);
  void park(Worker& self, std::chrono::steady_clock::time_point out_of_work);
  void execute(Work work);
  void worker_exiting(Worker& self);
  void adapt_spin_before_park(Worker& self);
  bool background_busy() const;  // a background worker is running or looking for work
  void wake_for_leftover(Worker& self);

  // --- unbound workers woken onto their inviter's CPU (step_aside.cpp) ---
  // The CPU to record in a LoopControl before posting (-1 when workers are bound).
  int caller_cpu_for_invitations() const;
  bool unbound_workers_ = false;  // a worker of the placement is not bound to CPUs
  // On a worker starting a loop part or team member: if it runs on the CPU its caller
  // posted from, it moves to another allowed CPU (at most once a millisecond).
  void step_aside(Worker& self, int caller_cpu);
  // On a loop's caller about to sleep at the join: moves the unbound workers still
  // running a part of `control` onto this thread's CPU, which its sleep leaves idle.
  void pull_stragglers(const LoopControl& control);

  // --- loops (run_loop.cpp): the caller's wait for the slots that were taken ---
  void join(LoopControl& control);

  // --- teams (team.cpp) ---
  // Waits until `w` took the invitation of `control` (true) or withdraws it (false).
  bool resolve_invitation(Worker& w, LoopControl& control);
  // Waits until the members (workers that took `control`'s invitations) have left.
  void wait_for_team_to_leave(LoopControl& control, Worker* const* members, unsigned count);
  // On a worker that has just been a team member: spin the full Config::spin before
  // parking again, whatever the preemption rule cut its budget to (team.cpp says why).
 public:
  void linger_after_team();

 private:

  // --- external threads (wait.cpp) ---
  Work find_work_external(ExternalSlot* own);
  ExternalSlot* acquire_slot();

  // --- deep waits and spare threads (deep_wait.cpp) ---
  // Blocks until `state` is done while a spare thread helps in this thread's place;
  // false (nothing done) when no spare thread could be started.
  bool wait_deep(WaitState& state, Task* ahead);
  bool hand_over(DeepWait& wait);
  bool start_spare();
  static void* spare_entry(void* core);
  void spare_main();
  void help_deep_wait(DeepWait& wait);
  void stop_spares();

  // --- background workers (background.cpp) ---
  // The placement's workers followed by the background workers Config asks for.
  static Placement with_background_workers(const Placement& placement, const Config& config);
  // On a background worker's own thread, first thing: the OS's idle class.
  void become_background(Worker& worker);
  // Whether a loop at `level` started on this thread runs entirely on background workers.
  // Only a thread weft did not create hands a low loop over: a worker (ordinary or
  // background) runs it as an ordinary loop, see background.cpp.
  bool hands_off(unsigned level, const Worker* self) const {
    return level == 0 && background_count_ > 0 && self == nullptr;
  }
  void run_loop_handoff(LoopJob& job, unsigned threads, LoopDomain domain);
  unsigned post_handoff(LoopControl& control, unsigned threads, LoopDomain domain);
  void wait_handoff(LoopControl& control);
  // Takes back the invitations of `control` nobody took; true if slot 0 was among them.
  bool revoke_handoff(LoopControl& control);

  // --- backpressure (backpressure.cpp) ---
  // Counts a task about to be queued; from outside the scheduler (`inside` false) at
  // max_queued, waits for room (block) or raises QueueFullError (reject). Only when
  // counting_.
  void admit(bool inside);
  void wait_for_room(std::unique_lock<std::mutex>& lock);
  void task_started();  // a counted task starts running (execute, run_ahead)
  void note_queued(std::uint64_t queued);

  // --- shutdown (shutdown.cpp) ---
  static void* worker_entry(void* worker);
  void begin_shutdown();
  // Waits for the workers to leave, until `deadline` (none: as long as it takes); joins
  // those that left. True when all have.
  bool wait_for_workers(std::optional<std::chrono::steady_clock::time_point> deadline);
  void drain_here();       // runs what is left on the calling thread
  void finish_shutdown();  // after the workers: drain, stop spares, shut_down_
  ShutdownResult stuck_report();
  void leak_stuck();       // detaches the threads still running (finish_for_destruction)

  // --- where work waits (work_sources.hpp): one list for taking, checking and counting ---
  // Calls visit(Source) for each place `who` takes work from at `level`, in the order it
  // looks, until a result converts to true; returns that result (none: a false one).
  template <class Visit>
  auto visit_sources(const Looker& who, unsigned level, Visit&& visit);
  // One item from `source` (none: empty Work); steals are counted in self's metrics.
  Work take(const Source& source, Worker* self);
  // Metrics for a take from another thread's queue or deque (nothing for own queues).
  void count_steal(const Source& source, Worker* self, bool succeeded);

  // --- visibility checks for the parking protocol ---
  // Work at `min_level` or above that `self` may take (lower levels: none).
  bool has_visible_work(Worker& self, unsigned min_level = 0);
  // The most urgent level at or above min_level where self could find work (a hint).
  std::optional<unsigned> most_urgent_visible(Worker& self, unsigned min_level = 0);
  bool has_visible_work_external();
  // The levels a worker takes from queues it shares: reserved workers high and above;
  // background workers low only; with background workers, the others normal and above.
  unsigned lowest_level(const Worker& w) const {
    if (w.reserved) return level_of(Priority::high);
    return background_count_ > 0 && !w.background ? level_of(Priority::normal) : 0;
  }
  unsigned highest_level(const Worker& w) const { return w.background ? 0 : num_levels - 1; }
  // External waiters leave low work to the background workers (wait.cpp says when not).
  unsigned external_floor() const { return background_count_ > 0 ? 1u : 0u; }
  unsigned external_floor_here() const;

  // --- waking (scheduler_core.cpp) ---
  void register_sleeper(Worker& w);
  void unregister_sleeper(Worker& w);
  bool try_wake(unsigned worker);
  void wake_one(unsigned level);
  void wake_for(const TaskOptions& options, unsigned level);
  void enqueue_hinted(Task* task, const TaskOptions& options, unsigned level);
  void mark_level(unsigned level) {
    // relaxed: a scan hint; parking re-checks every level regardless.
    unsigned bit = 1u << level;
    if ((levels_seen_.load(std::memory_order_relaxed) & bit) == 0)
      levels_seen_.fetch_or(bit, std::memory_order_relaxed);
  }

  Placement placement_;
  std::atomic<unsigned> loop_threads_;  // threads a loop runs on (set_num_threads)
  // Config::adaptive's cap on loop_threads_ (~0u: none); written by the monitor only.
  std::atomic<unsigned> elastic_threads_{~0u};
  Config config_;
  // placement_'s workers, then the background workers: one entry per Worker.
  Placement all_workers_;
  // Before the workers (they cache their WorkerObserver), destroyed after they joined.
  Observer observer_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::vector<unsigned>> numa_workers_;  // node -> worker indices
  // node -> queues; [0] hinted (others may steal), [1] strict (only that node's workers)
  std::vector<std::unique_ptr<std::array<std::array<InjectionQueue, num_levels>, 2>>> numa_queues_;
  std::array<InjectionQueue, num_levels> global_ =
      queue_per_level(global_queue_capacity, std::make_index_sequence<num_levels>{});
  std::vector<std::unique_ptr<ExternalSlot>> slots_;

  // Bumped by every high/critical enqueue and urgent loop; workers running low or
  // normal work compare it at preemption points (one load per chunk). An RMW on a
  // shared line per urgent submit: the price of noticing urgent work within a chunk.
  alignas(64) std::atomic<std::uint64_t> urgent_epoch_{0};
  void note_urgent(unsigned level) {
    // release: a worker whose acquire load sees the bump also sees the work queued (or
    // the invitation posted) before it, so its scan finds it.
    if (level >= level_of(Priority::high)) urgent_epoch_.fetch_add(1, std::memory_order_release);
  }
  // Teams waiting, all or nothing, for workers (run_team), counted by level. While one
  // waits, teams and loops of lower levels post no invitations to the workers it needs:
  // a stream of lower regions started back to back (each taking the worker the moment
  // the last one freed it) would otherwise keep an urgent region waiting for as long as
  // the stream lasts. Written only by waiting teams, so the line stays shared.
  alignas(64) std::array<std::atomic<unsigned>, num_levels> waiting_teams_{};
  bool team_waiting_above(unsigned level) const {
    for (unsigned l = level + 1; l < num_levels; ++l) {
      // relaxed: a hint; a team that registers just after we posted waits for our team
      // or loop to end, as it would have without the rule.
      if (waiting_teams_[l].load(std::memory_order_relaxed) != 0) return true;
    }
    return false;
  }
  // Priority serving (priority.cpp): enter/leave a low-priority stretch (background_nice),
  // the aging rule.
  void init_priority_serving();
  void set_worker_level(Worker& self, unsigned level, bool entering = true);
  bool aging_due(Worker& self, unsigned min_level);
  void end_low_stretch(Worker& self);
  // Boosting a TaskGroup's tasks (priority.cpp).
  unsigned note_group_task(GroupState& group, unsigned level, Worker* pusher,
                           unsigned pusher_level);
  Work find_work_boosted(Worker& self, const WaitBoost& boost);
  bool may_refuse_lower_work(const Worker& self, const WaitBoost& boost) const;
  unsigned inherited_level(const ThreadContext& context) const {
    return context.level < num_levels ? context.level : level_of(Priority::normal);
  }
  // Workers publishing a boosted wait right now: find_work looks for boosted tasks only
  // while this is non-zero (one relaxed load per scan otherwise).
  alignas(64) std::atomic<unsigned> boosting_{0};
  bool nice_active_ = false;
  int base_nice_ = 0;
  std::atomic<bool> nice_failed_{false};

  alignas(64) std::atomic<unsigned> levels_seen_{0};
  // Spinning workers: [0] unreserved, [1] reserved (who only help high/critical work),
  // [2] background (who only take low work).
  alignas(64) std::array<std::atomic<int>, 3> spinning_{};
  static unsigned spin_class(const Worker& w) { return w.background ? 2 : w.reserved ? 1 : 0; }
  // Parked workers, and who may be woken for which work (sleeper_set.hpp).
  alignas(64) std::optional<SleeperSet> sleepers_;
  unsigned unreserved_workers_ = 0;  // workers that take normal work
  unsigned background_count_ = 0;    // background workers (indices after the placement's)
  alignas(64) std::atomic<bool> stopping_{false};

  // Backpressure (backpressure.cpp). Tasks queued and not yet started, counted only
  // when Config::queue_policy is not unbounded (counting_).
  bool counting_ = false;
  alignas(64) std::atomic<std::uint64_t> queued_{0};
  // Read on every counted enqueue, written only at a new maximum.
  alignas(64) std::atomic<std::uint64_t> queued_high_water_{0};
  // External submitters waiting for room (QueuePolicy::block), and where they sleep.
  alignas(64) std::atomic<unsigned> room_waiters_{0};
  std::mutex room_mutex_;
  std::condition_variable room_cv_;

  // Spare threads that help in place of a thread blocked in a deep wait (deep_wait.cpp).
  struct Spares {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<DeepWait*> waits;  // handed over, not yet taken by a spare
    std::vector<pthread_t> running;      // started, not yet left
    std::vector<pthread_t> exited;       // left on their own, not yet joined
    unsigned idle = 0;                   // waiting on cv for a deep wait
    bool stop = false;
  } spares_;

  // Shutdown (shutdown.cpp). Workers record leaving under exit_mutex_; shutdown_mutex_
  // serializes try_shutdown_for callers and the destructor.
  std::mutex exit_mutex_;
  std::condition_variable exit_cv_;
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;    // complete: workers joined, leftovers run, spares stopped
  bool trace_names_ = false;  // record Worker::running_name (tracing is on)

  // Config::adaptive (elastic.cpp): the monitor sets elastic_threads_ (above) and
  // records why; metrics() reads the record under the mutex.
  void start_elastic();  // after the workers started
  void stop_elastic() noexcept;
  void add_elastic_metrics(Metrics& m) const;
  mutable std::mutex elastic_mutex_;
  std::uint64_t elastic_changes_ = 0;
  std::string elastic_reason_;
  std::unique_ptr<ElasticMonitor> elastic_;  // last: stopped first
};

// Called by enqueue for a group's task; returns the level to queue it at. `pusher`: the
// calling worker when the task goes onto its own deque (no hint), else null;
// `pusher_level`: the level of the work that pusher runs.
inline unsigned SchedulerCore::note_group_task(GroupState& state, unsigned level, Worker* pusher,
                                               unsigned pusher_level) {
  GroupBoosting& group = boosting_of(state);
  const bool at_home = pusher != nullptr && static_cast<int>(pusher->index) == group.home;
  // Home queueing outside urgent work: no waiter boosts the group meanwhile (its waiter
  // is this thread, and a boosted wait runs only urgent work or unrelated lower work).
  if (at_home && pusher_level < level_of(Priority::high)) return level;
  // seq_cst (foreign, boost), paired with wait_group's store of boost then load of
  // foreign: either the waiter sees `foreign` (and refuses no lower work), or this load
  // sees the boost (and the task is queued at the waiter's level, where it looks).
  // A group without a home worker never refuses (may_refuse_lower_work): no flag needed.
  if (!at_home && group.home >= 0 && !group.foreign.load(std::memory_order_seq_cst)) {
    group.foreign.store(true, std::memory_order_seq_cst);
  }
  const unsigned boost = group.boost.load(std::memory_order_seq_cst);
  if (boost > level + 1) level = boost - 1;
  // Marks serve a later boosted wait by this same urgent work: recorded only when urgent
  // work queues lower tasks at home (plain fork-join at normal records nothing).
  if (at_home && level < pusher_level && pusher_level >= level_of(Priority::high) &&
      pusher_level < num_levels) {
    // Home's thread only; a boosted waiter publishes it (Worker::boost_mark).
    const std::int64_t position = pusher->deques[level].bottom_index();
    const std::int64_t mark = group.mark(level);
    if (mark < 0 || position < mark) {
      group.home_mark[level] = position;
      group.marked_levels |= 1u << level;
    }
  }
  return level;
}

}  // namespace weft::detail
