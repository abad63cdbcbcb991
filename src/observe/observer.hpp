// The scheduler's single entry point into the observe stage: one Observer per
// scheduler, one WorkerObserver per worker thread. The scheduler's wiring is a handful
// of one-line calls (docs/observability.md has the whole picture):
//
//   worker_main start:    obs.thread_started();
//   spin start / end:     obs.enter(State::spinning) / obs.enter(State::busy)
//   park / after waking:  obs.enter(State::parked)  / obs.enter(State::busy)
//   execute a task:       ObservedSpan span(obs_or_null, observer.caller_traces(),
//                                           SpanKind::task, priority, name);
//   execute a loop slot:  the same with SpanKind::loop (a worker's invitation, or slot 0
//                         on the thread that called the loop)
//   each victim scanned:  obs.steal_attempted();   a steal that got a task:
//                         obs.steal_succeeded(observer.distance(self, victim));
//   spin budget cut:      obs.spin_cut(ns)
//   spin past the base:   obs.spin_extended(ns)
//   off the caller's CPU: obs.stepped_aside()
//   pulled to a caller:   obs.pulled() (on the pulling thread)
//   Scheduler::metrics(): observer.metrics(queue_depths)
//
// Threads: the WorkerObserver hooks run on the owning worker only (single writer, see
// worker_counters.hpp); an ObservedSpan without a worker (a thread weft did not create)
// records on that thread's caller lane (caller_trace.hpp); metrics(), reset(),
// trace_json() and write_trace() run on any thread, concurrently with the workers and
// with each other.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "observe/caller_trace.hpp"
#include "observe/clock.hpp"
#include "observe/metrics_builder.hpp"
#include "observe/perf_counters.hpp"
#include "observe/trace_buffer.hpp"
#include "observe/trace_writer.hpp"
#include "observe/worker_counters.hpp"
#include "weft/metrics.hpp"
#include "weft/topology.hpp"

namespace weft::detail {

// Built from Config::hardware_counters, Config::trace_capacity and Config::metrics;
// the cgroup fields let tests use a fake cgroup tree.
struct ObserveOptions {
  bool hardware_counters = false;
  std::size_t trace_capacity = 0;  // spans kept per worker; 0 = tracing off
  // false (Config::metrics off): no hook will report, and a worker's time then reads
  // as busy throughout, as documented for Config::metrics.
  bool counting = true;
  std::string cgroup_root = "/sys/fs/cgroup";
  // cpu.stat is read from this directory when set; otherwise it is found from
  // /proc/self/cgroup below cgroup_root.
  std::optional<std::string> cgroup_dir;
};

class alignas(64) WorkerObserver {
 public:
  using State = WorkerCounters::State;

  WorkerObserver(const ObserveOptions& options, std::uint64_t start_ns)
      : hardware_counters_(options.hardware_counters), ring_(options.trace_capacity) {
    // Accounting starts with the scheduler, so the window's time adds up from its
    // construction on. Until the worker runs its first task or loop part it is idle,
    // not busy: its thread may not even exist yet (worker_counters.hpp).
    if (options.counting) {
      counters_.start_idle(start_ns);
    } else {
      counters_.start(State::busy, start_ns);
    }
  }

  // --- owner thread only ---

  // First thing on the worker thread: records its tid (for /proc context switches),
  // opens its perf group when enabled (syscalls, once), samples its CPU. The worker
  // stays idle: it becomes busy with its first work (begin_work).
  void thread_started();
  // Last thing on the worker thread: keeps its final context-switch counts, since its
  // /proc entry goes away with it (metrics() after the workers exited still has them).
  void thread_exiting() noexcept;

  // A state transition: one clock read and one sched_getcpu (vDSO, no syscall).
  void enter(State state) noexcept { counters_.enter(state, now_ns(), current_cpu()); }
  // The same when the caller has just read the clock (now_ns()) anyway.
  void enter(State state, std::uint64_t now) noexcept { counters_.enter(state, now, current_cpu()); }

  bool tracing() const noexcept { return ring_.enabled(); }
  // A task or loop part starts on this worker: from now on it is busy, if it was idle
  // (its first work since starting, or work that a spin found). The worker loop enters
  // busy itself only on waking from a park. Returns the span's begin time when tracing
  // (else 0): one clock read serves both.
  std::uint64_t begin_work() noexcept {
    const bool idle = !counters_.busy();
    if (!idle && !ring_.enabled()) return 0;
    const std::uint64_t now = now_ns();
    if (idle) enter(State::busy, now);
    return ring_.enabled() ? now : 0;
  }
  // Counts a finished task or loop part and, when tracing, records its span.
  void finished(SpanKind kind, Priority priority, const char* name, std::uint64_t begin_ns,
                std::uint64_t end_ns, std::uint64_t loop_chunks = 1) noexcept {
    if (kind == SpanKind::task) {
      counters_.task_run(priority);
    } else {
      counters_.loop_chunks(loop_chunks);
    }
    if (ring_.enabled()) ring_.record(Span{name, priority, kind, begin_ns, end_ns});
  }
  void steal_attempted() noexcept { counters_.steal_attempted(); }
  void steal_succeeded(StealDistance distance) noexcept { counters_.steal_succeeded(distance); }
  void spin_cut(std::uint64_t ns) noexcept { counters_.spin_cut(ns); }
  void spin_extended(std::uint64_t ns) noexcept { counters_.spin_extended(ns); }
  void stepped_aside() noexcept { counters_.stepped_aside(); }
  void pulled() noexcept { counters_.pulled(); }

  // --- any thread ---
  WorkerSample sample(std::uint64_t now) const;
  TraceRing::Snapshot trace() const { return ring_.snapshot(); }
  const PerfCounters& perf() const { return perf_; }
  // The worker thread's kernel id; 0 before it started. Acquire: pairs with
  // thread_started's release.
  pid_t tid() const noexcept { return tid_.load(std::memory_order_acquire); }

  // Tests drive the counters directly with injected timestamps.
  WorkerCounters& counters() noexcept { return counters_; }

 private:
  static int current_cpu() noexcept;

  WorkerCounters counters_;
  const bool hardware_counters_;
  std::atomic<pid_t> tid_{0};
  // Set by thread_exiting(); the counts are published by the release store of exited_.
  std::atomic<bool> exited_{false};
  std::atomic<std::uint64_t> final_voluntary_{0}, final_involuntary_{0};
  PerfCounters perf_;
  TraceRing ring_;
};

// Times a task or a loop part on the current thread and reports it when it ends
// (also when it ends by an exception). On a worker (`worker` non-null) it counts the
// work and traces it on the worker's track. On any other thread (`worker` null: the
// thread that called a loop, one helping while it waits) it only traces, on that
// thread's caller lane when `callers` is non-null (tracing on; metrics have rows for
// workers only); with both null it does nothing. Reads the clock only when tracing,
// or once when a worker goes from idle to busy.
class ObservedSpan {
 public:
  ObservedSpan(WorkerObserver* worker, CallerTraces* callers, SpanKind kind, Priority priority,
               const char* name) noexcept
      : worker_(worker), callers_(worker == nullptr ? callers : nullptr), kind_(kind),
        priority_(priority), name_(name) {
    if (worker_ != nullptr) {
      begin_ = worker_->begin_work();
    } else if (callers_ != nullptr) {
      begin_ = now_ns();
    }
  }
  ObservedSpan(WorkerObserver* worker, SpanKind kind, Priority priority, const char* name) noexcept
      : ObservedSpan(worker, nullptr, kind, priority, name) {}
  ~ObservedSpan() {
    if (worker_ != nullptr) {
      const std::uint64_t end = worker_->tracing() ? now_ns() : 0;
      worker_->finished(kind_, priority_, name_, begin_, end, chunks_);
    } else if (callers_ != nullptr) {
      callers_->record(Span{name_, priority_, kind_, begin_, now_ns()});
    }
  }
  // Loop parts: how many chunks of the loop this part ran (default 1).
  void set_loop_chunks(std::uint64_t n) noexcept { chunks_ = n; }
  ObservedSpan(const ObservedSpan&) = delete;
  ObservedSpan& operator=(const ObservedSpan&) = delete;

 private:
  WorkerObserver* worker_;
  CallerTraces* callers_;
  SpanKind kind_;
  Priority priority_;
  const char* name_;
  std::uint64_t begin_ = 0;
  std::uint64_t chunks_ = 1;
};

class Observer {
 public:
  // `start_ns` is when the first window (and the trace's time 0) begins.
  Observer(const Placement& placement, const ObserveOptions& options,
           std::uint64_t start_ns = now_ns());
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  std::size_t num_workers() const { return workers_.size(); }
  WorkerObserver& worker(std::size_t index) { return *workers_[index]; }
  const WorkerObserver& worker(std::size_t index) const { return *workers_[index]; }

  // From the placement: whether `victim` shares `thief`'s L3, its NUMA node, or neither.
  StealDistance distance(std::size_t thief, std::size_t victim) const noexcept {
    if (places_[thief].l3 == places_[victim].l3 && places_[thief].numa == places_[victim].numa)
      return StealDistance::same_l3;
    if (places_[thief].numa == places_[victim].numa) return StealDistance::same_numa;
    return StealDistance::remote;
  }

  // The window since construction or the last reset(). `queue_depths`: one entry per
  // worker, or empty. `now` is injectable for tests.
  Metrics metrics(const std::vector<std::array<std::uint64_t, num_priorities>>& queue_depths = {},
                  std::uint64_t now = now_ns()) const;
  // Starts a new window (the trace is not affected).
  void reset(std::uint64_t now = now_ns());

  // The spans as Chrome trace-event JSON: a track per worker, then one per calling
  // thread that ran weft work (see trace_buffer.hpp for when the snapshot is complete);
  // write_trace raises std::runtime_error naming the path.
  std::string trace_json() const;
  void write_trace(const std::string& path) const;
  bool tracing() const { return trace_capacity_ != 0; }
  // A scheduler-wide decision for the trace (TraceDecision); kept only when tracing,
  // the latest max_decisions of them. Takes a mutex: decisions are rare.
  static constexpr std::size_t max_decisions = 4096;
  void record_decision(const char* name, double value, std::string why);
  // Where threads that are not this scheduler's workers record their spans (for
  // ObservedSpan); null when tracing is off, so that they then do nothing at all.
  CallerTraces* caller_traces() noexcept { return trace_capacity_ != 0 ? &callers_ : nullptr; }

 private:
  MetricsSample sample(std::uint64_t now) const;

  struct Place {
    unsigned l3, numa;
  };
  std::vector<std::unique_ptr<WorkerObserver>> workers_;
  std::vector<Place> places_;
  std::vector<WorkerPlace> metric_places_;
  double cpu_budget_;
  std::size_t trace_capacity_;
  std::uint64_t origin_ns_;
  CallerTraces callers_;
  std::optional<std::string> cpu_stat_dir_;
  mutable std::mutex baseline_mutex_;  // metrics()/reset() only, never the workers
  MetricsSample baseline_;
  mutable std::mutex decisions_mutex_;
  std::deque<TraceDecision> decisions_;
};

}  // namespace weft::detail
