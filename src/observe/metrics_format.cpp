// Metrics::to_json and Metrics::to_string.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

#include "observe/json_escape.hpp"
#include "weft/metrics.hpp"

namespace weft {

namespace {

void append_u64(std::string& out, std::uint64_t v) { out += std::to_string(v); }

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no inf/nan
    return;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  out += buffer;
}

void append_optional(std::string& out, const std::optional<std::uint64_t>& v) {
  if (v) {
    append_u64(out, *v);
  } else {
    out += "null";
  }
}

struct JsonObject {
  std::string& out;
  bool first = true;
  explicit JsonObject(std::string& o) : out(o) { out += '{'; }
  ~JsonObject() { out += '}'; }
  std::string& key(const char* k) {
    if (!first) out += ',';
    first = false;
    detail::append_json_string(out, k);
    out += ':';
    return out;
  }
};

void append_per_priority(std::string& out, const std::array<std::uint64_t, num_priorities>& v) {
  JsonObject o(out);
  for (unsigned p = 0; p < num_priorities; ++p) append_u64(o.key(to_string(static_cast<Priority>(p))), v[p]);
}

void append_worker(std::string& out, const WorkerMetrics& w) {
  JsonObject o(out);
  o.key("worker") += std::to_string(w.worker);
  o.key("core") += std::to_string(w.core);
  o.key("numa_node") += std::to_string(w.numa_node);
  o.key("last_cpu") += std::to_string(w.last_cpu);
  o.key("background") += w.background ? "true" : "false";
  append_per_priority(o.key("tasks_run"), w.tasks_run);
  append_u64(o.key("tasks_total"), w.tasks_total());
  append_u64(o.key("loop_chunks"), w.loop_chunks);
  append_u64(o.key("steals_attempted"), w.steals_attempted);
  append_u64(o.key("steals_succeeded"), w.steals_succeeded);
  append_u64(o.key("steals_same_l3"), w.steals_same_l3);
  append_u64(o.key("steals_same_numa"), w.steals_same_numa);
  append_u64(o.key("steals_remote"), w.steals_remote);
  append_u64(o.key("busy_ns"), w.busy_ns);
  append_u64(o.key("spinning_ns"), w.spinning_ns);
  append_u64(o.key("parked_ns"), w.parked_ns);
  append_u64(o.key("parks"), w.parks);
  append_u64(o.key("wakeups"), w.wakeups);
  append_optional(o.key("voluntary_switches"), w.voluntary_switches);
  append_optional(o.key("involuntary_switches"), w.involuntary_switches);
  append_u64(o.key("migrations"), w.migrations);
  append_per_priority(o.key("queue_depth"), w.queue_depth);
  append_optional(o.key("cache_references"), w.cache_references);
  append_optional(o.key("cache_misses"), w.cache_misses);
  append_optional(o.key("instructions"), w.instructions);
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
  std::string out;
  {
    JsonObject o(out);
    append_u64(o.key("window_ns"), window_ns);
    append_double(o.key("cpu_budget"), cpu_budget);
    append_optional(o.key("throttled_periods"), throttled_periods);
    append_optional(o.key("throttled_ns"), throttled_ns);
    append_u64(o.key("spin_cut_ns"), spin_cut_ns);
    append_optional(o.key("queued_high_water"), queued_high_water);
    if (adaptive_threads) {
      append_u64(o.key("adaptive_threads"), *adaptive_threads);
    } else {
      o.key("adaptive_threads") += "null";
    }
    append_u64(o.key("adaptive_changes"), adaptive_changes);
    detail::append_json_string(o.key("adaptive_reason"), adaptive_reason);
    append_double(o.key("imbalance"), imbalance);
    append_worker(o.key("totals"), totals);
    std::string& a = o.key("workers");
    a += '[';
    for (std::size_t i = 0; i < workers.size(); ++i) {
      if (i) a += ',';
      append_worker(a, workers[i]);
    }
    a += ']';
  }
  return out;
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
