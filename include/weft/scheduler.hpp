// weft::Scheduler: pinned workers, per-priority work-stealing deques, parking.
//
//   weft::Scheduler sched(cfg);
//   auto f = sched.submit([] { return 42; }, {weft::Priority::critical});
//   int v = f.get();                    // rethrows the task's exception
//
// Threads: a scheduler owns Placement::workers.size() worker threads; a thread that
// waits (Future::wait/get, TaskGroup::wait) or calls run_loop takes part in the work.
//
// Priorities: a worker always takes the most urgent task it can see (critical, high,
// normal, low); reserved workers (Config::reserved_workers) take only high and critical.
// A worker running a low or normal loop switches to newly queued high/critical work at
// its next chunk boundary and then resumes the loop; a thread waiting on a Future runs
// that Future's task itself if it is still queued, and a worker waiting on a TaskGroup
// boosts the group's tasks to its own level (no inversion behind unrelated work); an
// unset TaskOptions/ForOptions priority inherits weft::current_priority();
// Config::aging_period keeps low work progressing under urgent load, and
// Config::background_nice lowers workers' OS priority during low work.
//
// Idle workers spin for Config::spin looking for work, then sleep. Under
// oversubscription (their spins get preempted) they spin less, down to not at all.
//
// Shutdown: the destructor runs every task already submitted, then joins the workers.
// Once destruction (or try_shutdown_for) has begun, submit() from a thread that is not
// running one of this scheduler's tasks raises SchedulerError. Destroying a scheduler
// from one of its own workers is a programming error: it prints a message to stderr and
// calls std::terminate (instead of deadlocking on joining itself). try_shutdown_for
// bounds the wait for a task that never returns.
//
// Wait depth: a waiting thread runs other tasks on its own stack, but never more than
// a bounded number nested (docs/reliability.md, "Guarantees"); deeper, it blocks and a
// spare thread with a fresh stack helps in its place, so chains of any length complete.
//
// Backpressure: Config::max_queued with QueuePolicy block or reject bounds the tasks
// that threads outside the scheduler can queue; its own tasks' spawns always go in.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/detail/loop_job.hpp"
#include "weft/detail/task.hpp"
#include "weft/export.hpp"
#include "weft/future.hpp"
#include "weft/metrics.hpp"
#include "weft/options.hpp"
#include "weft/team.hpp"
#include "weft/topology.hpp"

namespace weft {

// Misuse of a scheduler's lifetime, e.g. submit() to a scheduler being destroyed.
class SchedulerError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// submit() refused a task: Config::max_queued tasks were queued and not yet started,
// with QueuePolicy::reject. The message names max_queued. The task was not taken.
class QueueFullError : public SchedulerError {
 public:
  using SchedulerError::SchedulerError;
};

// What Scheduler::try_shutdown_for found.
struct ShutdownResult {
  struct StuckWorker {
    unsigned worker = 0;  // index into Placement::workers
    // TaskOptions::name of the task it is running (the innermost, when tasks nest),
    // recorded while tracing is on (Config::trace_capacity > 0); else empty.
    std::string task;
  };
  // Every worker ran out of work and exited, and every task queued was run.
  bool complete = false;
  // Workers still running a task when the timeout expired (empty when complete).
  std::vector<StuckWorker> stuck;
};

namespace detail {
class SchedulerCore;
// Queues `task` per `options`; raises ConfigError for a bad hint, SchedulerError during
// destruction, QueueFullError when Config::max_queued refuses it, in each case without
// taking the task (QueuePolicy::block may wait here first). Defined in src/sched.
WEFT_EXPORT void enqueue(SchedulerCore* core, Task* task, const TaskOptions& options);
}  // namespace detail

class WEFT_EXPORT Scheduler {
 public:
  // Plans the placement from this machine (plan_placement(Topology::probe(), config)).
  explicit Scheduler(const Config& config = Config::from_env());
  // Uses a ready-made placement (tests, synthetic machines); `config` supplies the rest
  // (spin). Pinning::none in `config` leaves the workers unbound.
  Scheduler(const Placement& placement, const Config& config);
  // Runs every task already submitted, then joins the workers (waiting as long as a
  // task runs). After a complete try_shutdown_for it has nothing left to do. After an
  // incomplete one, it waits for workers that are not running a task, but does not
  // wait for one still running a task: it prints which to stderr, detaches those
  // threads and leaks the scheduler's internal state, so that they never touch freed
  // memory if their task returns later.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs f() on some thread of this scheduler; returns its result as a Future.
  // options.worker / options.numa_node queue the task there (ConfigError when out of
  // range, or when a strict low/normal task could only go to reserved workers); other
  // workers may still take it unless options.strict. `worker` wins if both are set.
  // With Config::max_queued tasks queued and not started, a submit from a thread that
  // runs none of this scheduler's tasks waits for room (QueuePolicy::block) or raises
  // QueueFullError (QueuePolicy::reject); a task's own submits are always accepted.
  template <class F>
  auto submit(F&& f, const TaskOptions& options = {})
      -> Future<std::decay_t<std::invoke_result_t<std::decay_t<F>&>>>;

  // Runs `job` on up to `max_threads` threads (caller included; 0 = all): the caller runs
  // job.run_slot(0); up to max_threads-1 eligible workers are invited and each worker that
  // takes an invitation runs job.run_slot(k) with a distinct k in [1, max_threads).
  // Returns once every thread that entered run_slot has left it; no thread enters
  // run_slot after run_loop returns. Never blocks waiting for an invitation to be taken.
  // From an external thread, slot k goes to the k-th eligible worker in placement order
  // (the same one on every call with the same arguments). From inside a worker, only
  // idle workers are invited. Reserved workers join only high and critical loops.
  // With background workers (Config::background_workers), a low loop started on any
  // other thread runs on them alone, every slot included: the caller sleeps until it is
  // done (a worker caller runs normal and urgent work meanwhile); other loops never
  // invite them.
  void run_loop(detail::LoopJob& job, unsigned max_threads, Priority priority,
                detail::LoopDomain domain = {});

  // Runs `job` as a team of up to `max_members` threads (0: num_threads()), the caller
  // as member 0, at `priority`: every member runs at the same time, so members may wait
  // for each other (weft/team.hpp says how the team is formed, and why it may be
  // smaller). Returns the team's size once every member has returned. With
  // `all_or_nothing`, a caller that is not one of this scheduler's workers gets exactly
  // min(max_members, num_threads()) members: it waits for busy workers instead of
  // forming a smaller team (code whose members wait for each other by index needs
  // that, e.g. OpenMP with dyn-var false); from a worker it has no effect.
  unsigned run_team(TeamJob& job, unsigned max_members, Priority priority = current_priority(),
                    bool all_or_nothing = false);

  // Threads a loop runs on, the caller included: workers + 1 unless Config::num_threads
  // asked for one, or set_num_threads changed it.
  unsigned num_threads() const;
  // Loops started from now on run on n threads, the caller included (0: as planned at
  // construction), like torch.set_num_threads. n may not exceed workers + 1: a running
  // scheduler adds no threads (ConfigError saying so). Submitted tasks still run on
  // every worker.
  void set_num_threads(unsigned n);
  int current_worker() const;    // the calling thread's worker index here, -1 if none
  // Unreserved workers not parked right now (a racy hint): the loop family invites
  // awake workers for smaller loops than it would wake a parked worker for.
  unsigned awake_workers() const;
  const Placement& placement() const;
  // The Config this scheduler runs with: the one it was given, checked, with what the
  // placement decides filled in: num_threads as planned (num_threads() is the width now,
  // after set_num_threads or Config::adaptive), reserved_workers as the placement has
  // them, background_workers resolved from auto. pinning stays as given (unset: the
  // default rule; placement().pinning says what it chose).
  const Config& config() const;
  // Whether Config::background_nice is in effect: false when it is 0, or when this
  // process may not raise a thread's priority back (needs CAP_SYS_NICE or RLIMIT_NICE).
  bool background_nice_active() const;
  // Background workers (Config::background_workers): threads at the OS's idle class that
  // run all low-priority work; 0 when off. Their worker indices (current_worker(),
  // Metrics rows, trace tracks) follow the placement's workers.
  unsigned background_workers() const;
  // Whether a loop at `priority` started on the calling thread would run on the
  // background workers alone (run_loop above): the loop family then runs nothing of it
  // here, not even the first units it times to size the loop.
  bool hands_off(Priority priority) const;

  // Shuts down like the destructor, but waits at most `timeout` for the workers: it
  // begins shutdown (from now on submit() from a thread running none of this
  // scheduler's tasks raises SchedulerError; loops run on the caller alone), lets the
  // workers run everything queued and exit, joins them, runs any leftover on the
  // calling thread (a strict task queued for a worker that had already left), and
  // reports complete. If a worker is still running a task at the deadline (one that
  // blocks on something that never happens), it returns at once with that worker in
  // `stuck`, instead of hanging; the other workers keep running and exiting. Call it
  // again (say, after releasing what the task waits for) to finish. After a complete
  // result the destructor is a no-op. Raises SchedulerError when called from inside one
  // of this scheduler's tasks (it would wait for itself). One caller at a time.
  ShutdownResult try_shutdown_for(std::chrono::milliseconds timeout);

  // Per-worker metrics (weft/metrics.hpp) since construction or the last
  // reset_metrics(). Any thread, any time; reads /proc and allocates: call it per
  // second or per phase, not per task. With Config::metrics = false the counts are 0.
  Metrics metrics() const;
  // Starts a new metrics window (the trace is kept).
  void reset_metrics();
  // Writes the trace as Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing):
  // one track per worker, labelled with its core and NUMA node, one slice per task or
  // loop part named by TaskOptions::name / ForOptions::name. Keeps the last
  // Config::trace_capacity spans per worker (0: tracing off, only the tracks).
  // Complete when the scheduler is idle (all work of interest waited for): a worker
  // records a task's span just after the task's waiter was released, so the very last
  // span may be missing right after wait(). Raises std::runtime_error naming the path.
  void write_trace(const std::string& path) const;
  // The same JSON as a string.
  std::string trace_json() const;

  // The loop family; defined in weft/parallel.hpp (included at the end of this file).
  template <class Body>
  void parallel_for(std::size_t begin, std::size_t end, Body&& body, const ForOptions& options = {});
  template <class Body>
  void parallel_for_2d(std::size_t rows, std::size_t cols, std::size_t tile_rows,
                       std::size_t tile_cols, Body&& body, const ForOptions& options = {});
  template <class Body>
  void parallel_for_3d(std::size_t d0, std::size_t d1, std::size_t d2, std::size_t tile0,
                       std::size_t tile1, std::size_t tile2, Body&& body, const ForOptions& options = {});
  template <class T, class ChunkBody, class Combine>
  T parallel_reduce(std::size_t begin, std::size_t end, T init, ChunkBody&& chunk_body,
                    Combine&& combine, const ForOptions& options = {});

 private:
  friend class TaskGroup;
  // Owned; after an incomplete try_shutdown_for the destructor releases it unfreed (see
  // ~Scheduler), so it is never deleted under a worker that is still running.
  std::unique_ptr<detail::SchedulerCore> core_;
};

// The process-wide scheduler, created on first use from Config::from_env() (thread-safe).
// It lives until the process exits (never destroyed: wait for your tasks before exit).
// In a child process after fork() it is re-created with fresh workers on first use.
WEFT_EXPORT Scheduler& default_scheduler();

// Creates the default scheduler now, from `config` instead of Config::from_env().
// Raises SchedulerError when it already exists (any weft::parallel_for, weft::submit or
// default_scheduler() call made it), since its workers cannot be replaced under code
// that may hold it; ConfigError for a bad config, after which nothing was created.
WEFT_EXPORT void configure(const Config& config);

// The counterpart of torch.set_num_threads / omp_set_num_threads for the default
// scheduler: before its first use, creates it with n threads (0: Config::from_env()'s
// count); after, Scheduler::set_num_threads(n) on it, so n may not exceed the threads it
// was created with. Scheduler objects you create are not affected.
WEFT_EXPORT void set_num_threads(unsigned n);

// submit() on default_scheduler().
template <class F>
auto submit(F&& f, const TaskOptions& options = {}) {
  return default_scheduler().submit(std::forward<F>(f), options);
}

template <class F>
auto Scheduler::submit(F&& f, const TaskOptions& options)
    -> Future<std::decay_t<std::invoke_result_t<std::decay_t<F>&>>> {
  using Fn = std::decay_t<F>;
  using R = std::decay_t<std::invoke_result_t<Fn&>>;
  detail::Task* task = detail::make_task<Fn>(std::forward<F>(f));
  task->fn = &detail::future_task_fn<Fn, R>;
  // relaxed: the block is not shared yet; enqueue's release publishes it.
  task->refs.store(2, std::memory_order_relaxed);
  task->completion.add(1);
  try {
    detail::enqueue(core_.get(), task, options);
  } catch (...) {
    detail::discard_task(task);
    throw;
  }
  return Future<R>(core_.get(), task);
}

}  // namespace weft

#include "weft/parallel.hpp"
