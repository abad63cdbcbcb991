#include "observe/observer.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/thread_id.hpp"
#include "observe/cgroup_stats.hpp"
#include "observe/thread_stats.hpp"

namespace weft::detail {

void WorkerObserver::thread_started() {
  const pid_t tid = current_tid();
  // release: a sampler that sees the tid may read the thread's /proc entry.
  tid_.store(tid, std::memory_order_release);
  perf_.open(tid, hardware_counters_);
  // Not enter(State::busy): starting up is not work (worker_counters.hpp).
  counters_.note_cpu(now_ns(), current_cpu());
}

void WorkerObserver::thread_exiting() noexcept {
  rusage usage{};
  // RUSAGE_THREAD: valid here because we are the thread; the same counters as /proc.
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return;
  // relaxed: published by the release store of exited_.
  final_voluntary_.store(static_cast<std::uint64_t>(usage.ru_nvcsw), std::memory_order_relaxed);
  final_involuntary_.store(static_cast<std::uint64_t>(usage.ru_nivcsw), std::memory_order_relaxed);
  exited_.store(true, std::memory_order_release);
}

int WorkerObserver::current_cpu() noexcept { return sched_getcpu(); }

WorkerSample WorkerObserver::sample(std::uint64_t now) const {
  WorkerSample s;
  s.counters = counters_.snapshot(now);
  // acquire: pairs with thread_started()'s release.
  const pid_t tid = tid_.load(std::memory_order_acquire);
  // acquire: pairs with thread_exiting()'s release.
  if (exited_.load(std::memory_order_acquire)) {
    s.switches = ContextSwitches{final_voluntary_.load(std::memory_order_relaxed),
                                 final_involuntary_.load(std::memory_order_relaxed)};
  } else if (tid > 0) {
    s.switches = read_context_switches(tid);
  }
  s.hardware = perf_.read();
  return s;
}

Observer::Observer(const Placement& placement, const ObserveOptions& options, std::uint64_t start_ns)
    : cpu_budget_(placement.cpu_budget), trace_capacity_(options.trace_capacity),
      origin_ns_(start_ns), callers_(options.trace_capacity) {
  workers_.reserve(placement.workers.size());
  for (const WorkerPlacement& p : placement.workers) {
    workers_.push_back(std::make_unique<WorkerObserver>(options, start_ns));
    places_.push_back({p.l3, p.numa_node});
    metric_places_.push_back(
        {static_cast<int>(p.core), static_cast<int>(p.numa_node), p.background});
  }
  cpu_stat_dir_ = options.cgroup_dir ? options.cgroup_dir : find_cpu_stat_dir(options.cgroup_root);
  baseline_ = sample(start_ns);
}

MetricsSample Observer::sample(std::uint64_t now) const {
  MetricsSample s;
  s.now_ns = now;
  s.workers.reserve(workers_.size());
  for (const auto& w : workers_) s.workers.push_back(w->sample(now));
  if (cpu_stat_dir_) s.cpu_stat = read_cpu_stat(*cpu_stat_dir_);
  return s;
}

Metrics Observer::metrics(const std::vector<std::array<std::uint64_t, num_priorities>>& queue_depths,
                          std::uint64_t now) const {
  const MetricsSample current = sample(now);
  std::lock_guard<std::mutex> lock(baseline_mutex_);
  return build_metrics(baseline_, current, metric_places_, cpu_budget_, queue_depths);
}

void Observer::reset(std::uint64_t now) {
  MetricsSample fresh = sample(now);
  std::lock_guard<std::mutex> lock(baseline_mutex_);
  baseline_ = std::move(fresh);
}

std::string Observer::trace_json() const {
  std::vector<TraceTrack> tracks;
  tracks.reserve(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    TraceRing::Snapshot snap = workers_[i]->trace();
    TraceTrack track;
    track.worker = static_cast<int>(i);
    track.core = metric_places_[i].core;
    track.numa_node = metric_places_[i].numa_node;
    track.background = metric_places_[i].background;
    track.spans = std::move(snap.spans);
    track.dropped = snap.dropped;
    tracks.push_back(std::move(track));
  }
  std::uint64_t lost = 0;
  for (CallerTraces::Lane& lane : callers_.snapshot(&lost)) {
    // A lane claimed by a thread whose spans were all overwritten still shows (empty):
    // the dropped count says what happened.
    TraceTrack track;
    track.kind = lane.shared ? TrackKind::callers : TrackKind::caller;
    track.caller_tid = lane.tid;
    track.spans = std::move(lane.snapshot.spans);
    track.dropped = lane.snapshot.dropped;
    tracks.push_back(std::move(track));
  }
  if (lost != 0 && !tracks.empty()) tracks.back().dropped += lost;
  std::vector<TraceDecision> decisions;
  {
    std::lock_guard<std::mutex> lock(decisions_mutex_);
    decisions.assign(decisions_.begin(), decisions_.end());
  }
  return trace_to_json(tracks, origin_ns_, static_cast<int>(::getpid()), decisions);
}

void Observer::record_decision(const char* name, double value, std::string why) {
  if (!tracing()) return;
  std::lock_guard<std::mutex> lock(decisions_mutex_);
  if (decisions_.size() == max_decisions) decisions_.pop_front();
  decisions_.push_back(TraceDecision{now_ns(), name, value, std::move(why)});
}

void Observer::write_trace(const std::string& path) const { write_text_file(path, trace_json()); }

}  // namespace weft::detail
