// Metrics::to_json and Metrics::to_string.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>

#include "common/json_writer.hpp"
#include "weft/metrics.hpp"

namespace weft {

using detail::JsonWriter;

namespace {

void write_optional(JsonWriter& json, const std::optional<std::uint64_t>& v) {
  if (v) {
    json.number(*v);
  } else {
    json.null();
  }
}

void write_per_priority(JsonWriter& json, const std::array<std::uint64_t, num_priorities>& v) {
  json.begin_object();
  for (unsigned p = 0; p < num_priorities; ++p) {
    json.key(to_string(static_cast<Priority>(p)));
    json.number(v[p]);
  }
  json.end_object();
}

void write_worker(JsonWriter& json, const WorkerMetrics& w) {
  json.begin_object();
  json.key("worker");
  json.number(w.worker);
  json.key("core");
  json.number(w.core);
  json.key("numa_node");
  json.number(w.numa_node);
  json.key("last_cpu");
  json.number(w.last_cpu);
  json.key("background");
  json.boolean(w.background);
  json.key("tasks_run");
  write_per_priority(json, w.tasks_run);
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"tasks_total", w.tasks_total()},
      {"loop_chunks", w.loop_chunks},
      {"steals_attempted", w.steals_attempted},
      {"steals_succeeded", w.steals_succeeded},
      {"steals_same_l3", w.steals_same_l3},
      {"steals_same_numa", w.steals_same_numa},
      {"steals_remote", w.steals_remote},
      {"busy_ns", w.busy_ns},
      {"spinning_ns", w.spinning_ns},
      {"parked_ns", w.parked_ns},
      {"parks", w.parks},
      {"wakeups", w.wakeups}};
  for (const auto& [name, value] : counters) {
    json.key(name);
    json.number(value);
  }
  json.key("voluntary_switches");
  write_optional(json, w.voluntary_switches);
  json.key("involuntary_switches");
  write_optional(json, w.involuntary_switches);
  json.key("migrations");
  json.number(w.migrations);
  json.key("queue_depth");
  write_per_priority(json, w.queue_depth);
  json.key("cache_references");
  write_optional(json, w.cache_references);
  json.key("cache_misses");
  write_optional(json, w.cache_misses);
  json.key("instructions");
  write_optional(json, w.instructions);
  json.end_object();
}

std::string percent(std::uint64_t part, double whole) {
  if (whole <= 0) return "-";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f", 100.0 * static_cast<double>(part) / whole);
  return buffer;
}

std::string number(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : std::string("-");
}

std::string millions(const std::optional<std::uint64_t>& v) {
  if (!v) return "-";
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%.1f", static_cast<double>(*v) / 1e6);
  return buffer;
}

std::string miss_rate(const WorkerMetrics& w) {
  if (!w.cache_misses || !w.cache_references || *w.cache_references == 0) return "-";
  return percent(*w.cache_misses, static_cast<double>(*w.cache_references));
}

std::string index_or_dash(int v) { return v >= 0 ? std::to_string(v) : std::string("-"); }

void append_row(std::string& out, const std::string& label, const WorkerMetrics& w, double window) {
  std::uint64_t queued = 0;
  for (std::uint64_t q : w.queue_depth) queued += q;
  char line[512];
  std::snprintf(line, sizeof line,
                "%-6s %4s %4s %4s %9" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
                " %8" PRIu64 " %8" PRIu64 "/%-8" PRIu64 " %6s %6s %6s %6" PRIu64 " %7s %7s %5" PRIu64
                " %6" PRIu64 " %8s %6s\n",
                label.c_str(), index_or_dash(w.core).c_str(), index_or_dash(w.numa_node).c_str(),
                index_or_dash(w.last_cpu).c_str(), w.tasks_total(), w.tasks_run[3], w.tasks_run[2],
                w.tasks_run[1], w.tasks_run[0], w.loop_chunks, w.steals_succeeded,
                w.steals_attempted, percent(w.busy_ns, window).c_str(),
                percent(w.spinning_ns, window).c_str(), percent(w.parked_ns, window).c_str(),
                w.parks, number(w.voluntary_switches).c_str(),
                number(w.involuntary_switches).c_str(), w.migrations, queued,
                millions(w.instructions).c_str(), miss_rate(w).c_str());
  out += line;
}

std::string duration(std::uint64_t ns) {
  char buffer[32];
  if (ns >= 1000000000u) {
    std::snprintf(buffer, sizeof buffer, "%.3f s", static_cast<double>(ns) / 1e9);
  } else if (ns >= 1000000u) {
    std::snprintf(buffer, sizeof buffer, "%.3f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.3f us", static_cast<double>(ns) / 1e3);
  }
  return buffer;
}

}  // namespace

std::string Metrics::to_json() const {
  JsonWriter json;
  json.begin_object();
  json.key("window_ns");
  json.number(window_ns);
  json.key("cpu_budget");
  json.number(cpu_budget);
  json.key("throttled_periods");
  write_optional(json, throttled_periods);
  json.key("throttled_ns");
  write_optional(json, throttled_ns);
  json.key("spin_cut_ns");
  json.number(spin_cut_ns);
  json.key("spin_extended_ns");
  json.number(spin_extended_ns);
  json.key("steps_aside");
  json.number(steps_aside);
  json.key("stragglers_pulled");
  json.number(stragglers_pulled);
  json.key("queued_high_water");
  write_optional(json, queued_high_water);
  json.key("adaptive_threads");
  write_optional(json, adaptive_threads);
  json.key("adaptive_changes");
  json.number(adaptive_changes);
  json.key("adaptive_reason");
  json.string(adaptive_reason);
  json.key("imbalance");
  json.number(imbalance);
  json.key("totals");
  write_worker(json, totals);
  json.key("workers");
  json.begin_array();
  for (const WorkerMetrics& w : workers) write_worker(json, w);
  json.end_array();
  json.end_object();
  return json.take();
}

std::string Metrics::to_string() const {
  std::string out = "weft metrics: window " + duration(window_ns) + ", " +
                    std::to_string(workers.size()) + " workers, cpu budget ";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f, imbalance %.2f\n", cpu_budget, imbalance);
  out += buffer;
  std::snprintf(buffer, sizeof buffer, "%-6s %4s %4s %4s", "worker", "core", "node", "cpu");
  out += buffer;
  char header[512];
  std::snprintf(header, sizeof header,
                " %9s %7s %7s %7s %7s %8s %17s %6s %6s %6s %6s %7s %7s %5s %6s %8s %6s\n", "tasks",
                "crit", "high", "norm", "low", "chunks", "steals ok/tried", "busy%", "spin%",
                "park%", "parks", "vcsw", "ivcsw", "migr", "queue", "Minstr", "miss%");
  out += header;
  const double window = static_cast<double>(window_ns);
  // Background workers read "<index>b".
  for (const WorkerMetrics& w : workers)
    append_row(out, std::to_string(w.worker) + (w.background ? "b" : ""), w, window);
  append_row(out, "total", totals, window * static_cast<double>(workers.size()));
  if (throttled_periods && throttled_ns) {
    out += "cgroup throttling: " + std::to_string(*throttled_periods) + " periods, " +
           duration(*throttled_ns) + "\n";
  } else {
    out += "cgroup throttling: unavailable (no cgroup cpu.stat)\n";
  }
  out += "spinning cut for oversubscription: " + duration(spin_cut_ns) + "\n";
  out += "spinning past Config::spin for a request stream: " + duration(spin_extended_ns) + "\n";
  out += "workers moved off their caller's CPU: " + std::to_string(steps_aside) + "\n";
  out += "workers pulled onto a waiting caller's CPU: " + std::to_string(stragglers_pulled) + "\n";
  out += "queued tasks, high-water mark: " +
         (queued_high_water ? std::to_string(*queued_high_water)
                            : std::string("not counted (QueuePolicy::unbounded)")) +
         "\n";
  if (adaptive_threads) {
    out += "adaptive loop width: " + std::to_string(*adaptive_threads) + " threads, " +
           std::to_string(adaptive_changes) + " changes" +
           (adaptive_reason.empty() ? std::string() : "; last: " + adaptive_reason) + "\n";
  } else {
    out += "adaptive loop width: off (Config::adaptive)\n";
  }
  return out;
}

}  // namespace weft
