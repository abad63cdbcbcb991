#include "observe/metrics_builder.hpp"

#include <algorithm>

namespace weft::detail {

namespace {

std::uint64_t delta(std::uint64_t now, std::uint64_t then) { return now > then ? now - then : 0; }

template <class T, class Get>
std::optional<std::uint64_t> delta_from_zero(const std::optional<T>& now,
                                             const std::optional<T>& then, Get get) {
  if (!now) return std::nullopt;
  return delta(get(*now), then ? get(*then) : 0);
}

void add(std::optional<std::uint64_t>& sum, const std::optional<std::uint64_t>& v, bool first) {
  if (first) {
    sum = v;
  } else if (sum && v) {
    *sum += *v;
  } else {
    sum.reset();
  }
}

}  // namespace

Metrics build_metrics(const MetricsSample& baseline, const MetricsSample& current,
                      const std::vector<WorkerPlace>& places, double cpu_budget,
                      const std::vector<std::array<std::uint64_t, num_priorities>>& queue_depths) {
  Metrics m;
  m.window_ns = delta(current.now_ns, baseline.now_ns);
  m.cpu_budget = cpu_budget;
  if (current.cpu_stat && baseline.cpu_stat) {
    m.throttled_periods = delta(current.cpu_stat->nr_throttled, baseline.cpu_stat->nr_throttled);
    m.throttled_ns = delta(current.cpu_stat->throttled_ns, baseline.cpu_stat->throttled_ns);
  }

  const std::size_t n = current.workers.size();
  m.workers.resize(n);
  WorkerMetrics& t = m.totals;
  for (std::size_t i = 0; i < n; ++i) {
    const WorkerSample& now = current.workers[i];
    const WorkerSample then = i < baseline.workers.size() ? baseline.workers[i] : WorkerSample{};
    const CounterSnapshot& c = now.counters;
    const CounterSnapshot& b = then.counters;
    WorkerMetrics& w = m.workers[i];
    w.worker = static_cast<int>(i);
    if (i < places.size()) {
      w.core = places[i].core;
      w.numa_node = places[i].numa_node;
      w.background = places[i].background;
    }
    w.last_cpu = c.last_cpu;
    for (unsigned p = 0; p < num_priorities; ++p) w.tasks_run[p] = delta(c.tasks_run[p], b.tasks_run[p]);
    w.loop_chunks = delta(c.loop_chunks, b.loop_chunks);
    w.steals_attempted = delta(c.steals_attempted, b.steals_attempted);
    w.steals_succeeded = delta(c.steals_succeeded, b.steals_succeeded);
    w.steals_same_l3 = delta(c.steals_by_distance[0], b.steals_by_distance[0]);
    w.steals_same_numa = delta(c.steals_by_distance[1], b.steals_by_distance[1]);
    w.steals_remote = delta(c.steals_by_distance[2], b.steals_by_distance[2]);
    w.busy_ns = delta(c.time_ns[0], b.time_ns[0]);
    w.spinning_ns = delta(c.time_ns[1], b.time_ns[1]);
    w.parked_ns = delta(c.time_ns[2], b.time_ns[2]);
    w.parks = delta(c.parks, b.parks);
    w.wakeups = delta(c.wakeups, b.wakeups);
    w.migrations = delta(c.migrations, b.migrations);
    w.voluntary_switches = delta_from_zero(now.switches, then.switches,
                                           [](const ContextSwitches& s) { return s.voluntary; });
    w.involuntary_switches = delta_from_zero(now.switches, then.switches,
                                             [](const ContextSwitches& s) { return s.involuntary; });
    w.cache_references = delta_from_zero(now.hardware, then.hardware,
                                         [](const HardwareCounts& h) { return h.cache_references; });
    w.cache_misses = delta_from_zero(now.hardware, then.hardware,
                                     [](const HardwareCounts& h) { return h.cache_misses; });
    w.instructions = delta_from_zero(now.hardware, then.hardware,
                                     [](const HardwareCounts& h) { return h.instructions; });
    if (i < queue_depths.size()) w.queue_depth = queue_depths[i];
    m.spin_cut_ns += delta(c.spin_cut_ns, b.spin_cut_ns);
    m.spin_extended_ns += delta(c.spin_extended_ns, b.spin_extended_ns);
    m.steps_aside += delta(c.steps_aside, b.steps_aside);
    m.stragglers_pulled += delta(c.pulls, b.pulls);

    for (unsigned p = 0; p < num_priorities; ++p) {
      t.tasks_run[p] += w.tasks_run[p];
      t.queue_depth[p] += w.queue_depth[p];
    }
    // Field by field on purpose (the same shape as the lines around): each counter of
    // WorkerMetrics is summed where a reader sees it, and a new one is added here.
    t.loop_chunks += w.loop_chunks;
    t.steals_attempted += w.steals_attempted;
    t.steals_succeeded += w.steals_succeeded;
    t.steals_same_l3 += w.steals_same_l3;
    t.steals_same_numa += w.steals_same_numa;
    t.steals_remote += w.steals_remote;
    t.busy_ns += w.busy_ns;
    t.spinning_ns += w.spinning_ns;
    t.parked_ns += w.parked_ns;
    t.parks += w.parks;
    t.wakeups += w.wakeups;
    t.migrations += w.migrations;
    const bool first = i == 0;
    add(t.voluntary_switches, w.voluntary_switches, first);
    add(t.involuntary_switches, w.involuntary_switches, first);
    add(t.cache_references, w.cache_references, first);
    add(t.cache_misses, w.cache_misses, first);
    add(t.instructions, w.instructions, first);
  }

  if (n > 0 && t.busy_ns > 0) {
    std::uint64_t max_busy = 0;
    for (const WorkerMetrics& w : m.workers) max_busy = std::max(max_busy, w.busy_ns);
    const double mean = static_cast<double>(t.busy_ns) / static_cast<double>(n);
    m.imbalance = static_cast<double>(max_busy) / mean;
  }
  return m;
}

}  // namespace weft::detail
