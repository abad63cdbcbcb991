// Config::from_env, the value parsers it shares with the tools, and the enum names: the
// one place WEFT_* variables are read (config_env.hpp for those that are not Config
// fields).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

#include "topology/config_env.hpp"
#include "weft/config.hpp"
#include "weft/topology.hpp"

namespace weft {
namespace {

constexpr std::size_t default_env_trace_capacity = 65536;

// Unset and empty read the same, so `WEFT_NUM_THREADS= ./app` means "default".
std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

unsigned parse_unsigned(const char* name, const std::string& value) {
  return static_cast<unsigned>(parse_number(value, name));
}

std::string lower_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The first entry of an OpenMP list value ("4,2" or "spread,close"): the outermost
// level, the only one weft has.
std::string first_of_list(const std::string& value) { return value.substr(0, value.find(',')); }

// OMP_NUM_THREADS, when WEFT_NUM_THREADS is unset (torchrun sets it to 1 per worker).
unsigned parse_omp_num_threads(const std::string& value) {
  const std::string first = first_of_list(value);
  unsigned n = 0;
  try {
    n = parse_unsigned("OMP_NUM_THREADS", first);
  } catch (const ConfigError&) {
  }
  if (n == 0)
    throw ConfigError("OMP_NUM_THREADS: '" + value +
                      "' is not a positive integer or list of them (weft reads it when "
                      "WEFT_NUM_THREADS is unset)");
  return n;
}

// OMP_PROC_BIND, when WEFT_PINNING is unset: false unbinds; true or a policy (the first
// of a list) binds each thread to a core, as OpenMP's places default to cores.
Pinning parse_omp_proc_bind(const std::string& value) {
  const std::string first = lower_case(first_of_list(value));
  if (first == "false") return Pinning::none;
  for (const char* bound : {"true", "close", "spread", "primary", "master"})
    if (first == bound) return Pinning::core;
  throw ConfigError("OMP_PROC_BIND: '" + value +
                    "' is not one of false, true, close, spread, primary, master (weft reads "
                    "it when WEFT_PINNING is unset)");
}

// OMP_PLACES, when WEFT_PINNING is unset and OMP_PROC_BIND does not unbind: an abstract
// place name picks the unit a thread is bound to (setting places binds, as in libgomp).
// An explicit place list ("{0:4},{4:4}") is not followed (weft plans its own placement;
// libweft_gomp says so): nullopt, as for an unset variable.
std::optional<Pinning> parse_omp_places(const std::string& value) {
  const std::string name = lower_case(value);
  if (name == "cores" || name == "ll_caches") return Pinning::core;
  if (name == "threads") return Pinning::pu;
  if (name == "sockets" || name == "numa_domains") return Pinning::numa;
  return std::nullopt;
}

// Launchers that start several ranks per node say which one this process is; each rank
// then takes its own slice of the node instead of all ranks piling onto the same cores.
// `origin` receives the variables that decided, for Config::env_origins.
std::optional<Partition> partition_from_launcher(std::string& origin) {
  static constexpr const char* pairs[][2] = {
      {"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},  // Open MPI
      {"SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},                    // Slurm
      {"LOCAL_RANK", "LOCAL_WORLD_SIZE"},                            // torchrun
  };
  for (const auto& pair : pairs) {
    const auto rank = env(pair[0]);
    const auto size = env(pair[1]);
    if (!rank || !size) continue;
    const unsigned n = parse_unsigned(pair[1], *size);
    const unsigned r = parse_unsigned(pair[0], *rank);
    if (n <= 1) return std::nullopt;
    if (r >= n)
      throw ConfigError(std::string(pair[0]) + ": '" + *rank + "' is not below " + pair[1] +
                        " '" + *size + "'");
    origin = std::string(pair[0]) + "=" + *rank + ", " + pair[1] + "=" + *size;
    return Partition{r, n};
  }
  return std::nullopt;
}

QueuePolicy parse_queue_policy(const char* name, const std::string& text) {
  const std::string value = lower_case(text);
  for (QueuePolicy p : {QueuePolicy::unbounded, QueuePolicy::block, QueuePolicy::reject})
    if (value == to_string(p)) return p;
  throw ConfigError(std::string(name) + ": '" + text + "' is not one of unbounded, block, reject");
}

// Config::from_env and Config::env_origins share this reading; `origins` (may be null)
// collects "field = value (VARIABLE=text)" for each field a variable decided.
Config read_env(Config config, std::vector<std::string>* origins) {
  auto decided = [origins](const std::string& field, const std::string& value,
                           const std::string& because) {
    if (origins != nullptr) origins->push_back(field + " = " + value + " (" + because + ")");
  };
  if (auto v = env("WEFT_NUM_THREADS")) {
    config.num_threads = parse_unsigned("WEFT_NUM_THREADS", *v);
    decided("num_threads", std::to_string(config.num_threads), "WEFT_NUM_THREADS=" + *v);
  } else if (auto omp = env("OMP_NUM_THREADS")) {
    config.num_threads = parse_omp_num_threads(*omp);
    decided("num_threads", std::to_string(config.num_threads),
            "OMP_NUM_THREADS=" + *omp + ", WEFT_NUM_THREADS unset");
  }
  if (auto v = env("WEFT_PINNING")) {
    config.pinning = parse_pinning(*v, "WEFT_PINNING");
    decided("pinning", to_string(*config.pinning), "WEFT_PINNING=" + *v);
  } else {
    const auto bind = env("OMP_PROC_BIND");
    const auto places = env("OMP_PLACES");
    const std::optional<Pinning> bound =
        bind ? std::optional(parse_omp_proc_bind(*bind)) : std::nullopt;
    const std::optional<Pinning> unit = places ? parse_omp_places(*places) : std::nullopt;
    if (unit && bound != Pinning::none) {
      config.pinning = unit;
      decided("pinning", to_string(*unit),
              "OMP_PLACES=" + *places + (bind ? ", OMP_PROC_BIND=" + *bind : std::string()) +
                  ", WEFT_PINNING unset");
    } else if (bound) {
      config.pinning = bound;
      decided("pinning", to_string(*bound), "OMP_PROC_BIND=" + *bind + ", WEFT_PINNING unset");
    }
  }
  if (auto v = env("WEFT_CPUSET")) {
    parse_cpu_list(*v, "WEFT_CPUSET");  // reject it here, where the variable can be named
    config.cpuset = *v;
  }
  if (auto v = env("WEFT_PARTITION")) {
    config.partition = parse_partition(*v, "WEFT_PARTITION");
    decided("partition", *v, "WEFT_PARTITION=" + *v);
  } else {
    std::string launcher;
    config.partition = partition_from_launcher(launcher);
    if (config.partition)
      decided("partition",
              std::to_string(config.partition->index) + "/" +
                  std::to_string(config.partition->count),
              launcher + ", WEFT_PARTITION unset");
  }
  if (auto v = env("WEFT_BACKGROUND_WORKERS")) {
    if (lower_case(*v) == "auto") {
      config.background_workers.reset();
    } else {
      config.background_workers = static_cast<unsigned>(
          parse_number(*v, "WEFT_BACKGROUND_WORKERS", max_background_workers));
    }
    decided("background_workers",
            config.background_workers ? std::to_string(*config.background_workers) : "auto",
            "WEFT_BACKGROUND_WORKERS=" + *v);
  }
  if (auto v = env("WEFT_RESERVED_WORKERS"))
    config.reserved_workers = parse_unsigned("WEFT_RESERVED_WORKERS", *v);
  if (auto v = env("WEFT_SPIN_US")) {
    config.spin = std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(
        parse_number(*v, "WEFT_SPIN_US", max_spin_us)));
  }
  if (auto v = env("WEFT_SPIN_MAX_US")) {
    config.spin_max = std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(
        parse_number(*v, "WEFT_SPIN_MAX_US", max_spin_us)));
  }
  if (auto v = env("WEFT_USE_SMT")) config.use_smt = parse_bool(*v, "WEFT_USE_SMT");
  if (auto v = env("WEFT_ADAPTIVE")) config.adaptive = parse_bool(*v, "WEFT_ADAPTIVE");
  if (auto v = env("WEFT_MIN_WORKERS"))
    config.min_workers = parse_unsigned("WEFT_MIN_WORKERS", *v);
  if (auto v = env("WEFT_BACKGROUND_NICE"))
    config.background_nice = static_cast<int>(parse_number(*v, "WEFT_BACKGROUND_NICE", 19));
  if (auto v = env("WEFT_AGING_PERIOD"))
    config.aging_period = static_cast<unsigned>(parse_number(*v, "WEFT_AGING_PERIOD", 1u << 20));
  if (auto v = env("WEFT_METRICS_ENABLED"))
    config.metrics = parse_bool(*v, "WEFT_METRICS_ENABLED");
  if (auto v = env("WEFT_HARDWARE_COUNTERS"))
    config.hardware_counters = parse_bool(*v, "WEFT_HARDWARE_COUNTERS");
  // Not a Config field (it vetoes the counters of every scheduler, whatever its Config
  // says: detail::perf_events_allowed_by_env), but a typo in it is reported here.
  if (auto v = env("WEFT_PERF_EVENTS")) parse_bool(*v, "WEFT_PERF_EVENTS");
  if (auto v = env("WEFT_TRACE_CAPACITY")) {
    config.trace_capacity = static_cast<std::size_t>(
        parse_number(*v, "WEFT_TRACE_CAPACITY", max_trace_capacity));
  } else if (env("WEFT_TRACE")) {
    // WEFT_TRACE asks for a trace at exit: it needs spans to write.
    config.trace_capacity = default_env_trace_capacity;
  }
  // WEFT_MAX_QUEUED alone means block: a limit is what was asked for, and block keeps
  // every task (reject would drop the submitter's work unless it handles the error).
  const auto max_queued = env("WEFT_MAX_QUEUED");
  if (max_queued) {
    config.max_queued = static_cast<std::size_t>(parse_number(
        *max_queued, "WEFT_MAX_QUEUED", std::numeric_limits<std::size_t>::max()));
    if (config.max_queued == 0)
      throw ConfigError("WEFT_MAX_QUEUED: '" + *max_queued +
                        "' is not a positive integer (unset it for no limit)");
    decided("max_queued", std::to_string(config.max_queued), "WEFT_MAX_QUEUED=" + *max_queued);
  }
  if (auto v = env("WEFT_QUEUE_POLICY")) {
    config.queue_policy = parse_queue_policy("WEFT_QUEUE_POLICY", *v);
    if (config.queue_policy == QueuePolicy::unbounded && max_queued)
      throw ConfigError("WEFT_MAX_QUEUED: '" + *max_queued +
                        "' has no effect with WEFT_QUEUE_POLICY=" + *v +
                        " (use block or reject, or unset WEFT_MAX_QUEUED)");
    if (config.queue_policy != QueuePolicy::unbounded && !max_queued)
      throw ConfigError("WEFT_QUEUE_POLICY: '" + *v +
                        "' needs a limit: set WEFT_MAX_QUEUED to a positive integer");
    decided("queue_policy", to_string(config.queue_policy), "WEFT_QUEUE_POLICY=" + *v);
  } else if (max_queued) {
    config.queue_policy = QueuePolicy::block;
    decided("queue_policy", to_string(config.queue_policy),
            "WEFT_MAX_QUEUED=" + *max_queued + ", WEFT_QUEUE_POLICY unset");
  }
  return config;
}

}  // namespace

Config Config::from_env() { return read_env(Config{}, nullptr); }

Config Config::from_env(Config defaults) { return read_env(std::move(defaults), nullptr); }

std::vector<std::string> Config::env_origins() {
  std::vector<std::string> origins;
  read_env(Config{}, &origins);
  return origins;
}

namespace detail {

bool perf_events_allowed_by_env() {
  const auto v = env("WEFT_PERF_EVENTS");
  if (!v) return true;
  // Read on a worker thread, where an exception has nowhere to go: a value that is not a
  // clear yes keeps weft away from the PMU, the safe side for a variable that exists to
  // turn the counters off (from_env reports the typo itself).
  try {
    return parse_bool(*v, "WEFT_PERF_EVENTS");
  } catch (const ConfigError&) {
    return false;
  }
}

ExitReportPaths exit_report_paths_from_env() {
  return {env("WEFT_METRICS").value_or(""), env("WEFT_TRACE").value_or("")};
}

}  // namespace detail

unsigned long long parse_number(const std::string& text, const std::string& field,
                                unsigned long long max) {
  // Only digits: from_chars would take "-3" for an unsigned as an error but strtoul
  // would wrap it, and " 3" or "3x" are typos worth reporting.
  unsigned long long out = 0;
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (digits) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc{} && ptr == text.data() + text.size() && out <= max) return out;
  }
  throw ConfigError(field + ": '" + text + "' is not a non-negative integer" +
                    (digits ? " in range (at most " + std::to_string(max) + ")" : ""));
}

bool parse_bool(const std::string& text, const std::string& field) {
  const std::string value = lower_case(text);
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  throw ConfigError(field + ": '" + text + "' is not one of 0, 1, true, false");
}

Partition parse_partition(const std::string& text, const std::string& field) {
  auto bad = [&](const char* need) {
    return ConfigError(field + ": '" + text + "' is not a partition (" + need + ")");
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) throw bad("expected I/N, e.g. 1/4");
  Partition p;
  try {
    p.index = static_cast<unsigned>(parse_number(text.substr(0, slash), field));
    p.count = static_cast<unsigned>(parse_number(text.substr(slash + 1), field));
  } catch (const ConfigError&) {
    throw bad("expected I/N, e.g. 1/4");
  }
  if (p.count == 0 || p.index >= p.count) throw bad("need index < count, count > 0");
  return p;
}

Pinning parse_pinning(const std::string& text, const std::string& field) {
  const std::string value = lower_case(text);
  for (Pinning p : {Pinning::none, Pinning::core, Pinning::pu, Pinning::numa})
    if (value == to_string(p)) return p;
  throw ConfigError(field + ": '" + text + "' is not one of none, core, pu, numa");
}

// One switch per enum (the same shape each): -Wswitch then names a value added to it.
const char* to_string(Pinning pinning) {
  switch (pinning) {
    case Pinning::none: return "none";
    case Pinning::core: return "core";
    case Pinning::pu: return "pu";
    case Pinning::numa: return "numa";
  }
  return "invalid";
}

const char* to_string(QueuePolicy policy) {
  switch (policy) {
    case QueuePolicy::unbounded: return "unbounded";
    case QueuePolicy::block: return "block";
    case QueuePolicy::reject: return "reject";
  }
  return "invalid";
}

const char* to_string(Priority priority) {
  switch (priority) {
    case Priority::low: return "low";
    case Priority::normal: return "normal";
    case Priority::high: return "high";
    case Priority::critical: return "critical";
  }
  return "invalid";
}

}  // namespace weft
