#include "topology/config_check.hpp"

#include <algorithm>
#include <string>

namespace weft::detail {

namespace {

ConfigError field_error(const char* field, const std::string& value, const std::string& why) {
  return ConfigError(std::string("Config::") + field + ": " + value + " " + why);
}

}  // namespace

void check_config(const Config& config) {
  if (config.pinning) {
    switch (*config.pinning) {
      case Pinning::none:
      case Pinning::core:
      case Pinning::pu:
      case Pinning::numa: break;
      default:  // a Pinning cast from an integer could hold anything
        throw field_error("pinning", std::to_string(static_cast<int>(*config.pinning)),
                          "is not one of none, core, pu, numa");
    }
  }
  if (!config.cpuset.empty()) parse_cpu_list(config.cpuset, "Config::cpuset");
  if (const auto& p = config.partition; p && (p->count == 0 || p->index >= p->count))
    throw field_error("partition", std::to_string(p->index) + "/" + std::to_string(p->count),
                      "is not a partition (need index < count, count > 0)");
  const auto check_spin = [](const char* field, std::chrono::microseconds spin) {
    if (spin.count() < 0 || static_cast<unsigned long long>(spin.count()) > max_spin_us)
      throw field_error(field, std::to_string(spin.count()) + "us",
                        "is not in 0.." + std::to_string(max_spin_us) + "us");
  };
  check_spin("spin", config.spin);
  check_spin("spin_max", config.spin_max);
  if (config.background_workers && *config.background_workers > max_background_workers)
    throw field_error("background_workers", std::to_string(*config.background_workers),
                      "exceeds " + std::to_string(max_background_workers));
  if (config.background_nice < 0 || config.background_nice > 19)
    throw field_error("background_nice", std::to_string(config.background_nice),
                      "is not in 0..19");
  if (config.trace_capacity > max_trace_capacity)
    throw field_error("trace_capacity", std::to_string(config.trace_capacity),
                      "exceeds " + std::to_string(max_trace_capacity));
  switch (config.queue_policy) {
    case QueuePolicy::unbounded:
      if (config.max_queued != 0)
        throw field_error("max_queued", std::to_string(config.max_queued),
                          "has no effect with QueuePolicy::unbounded (use block or reject)");
      break;
    case QueuePolicy::block:
    case QueuePolicy::reject:
      if (config.max_queued == 0)
        throw field_error("max_queued", "0",
                          std::string("with QueuePolicy::") + to_string(config.queue_policy) +
                              " would admit no task (set a limit, or use QueuePolicy::unbounded)");
      break;
    default:
      throw field_error("queue_policy", std::to_string(static_cast<int>(config.queue_policy)),
                        "is not a QueuePolicy");
  }
}

Config effective_config(const Config& config, const Placement& placement) {
  check_config(config);
  Config out = config;
  out.num_threads = placement.num_threads();
  out.reserved_workers = static_cast<unsigned>(
      std::count_if(placement.workers.begin(), placement.workers.end(),
                    [](const WorkerPlacement& w) { return w.reserved; }));
  // Auto: one per loop thread, so that a low loop (which its caller hands over whole) is
  // as wide as any other loop.
  out.background_workers = config.background_workers.value_or(out.num_threads);
  if (*out.background_workers > max_background_workers)
    throw field_error("background_workers", std::to_string(*out.background_workers) + " (auto)",
                      "exceeds " + std::to_string(max_background_workers));
  const std::size_t workers = placement.workers.size();
  if (config.min_workers > workers)
    throw field_error("min_workers", std::to_string(config.min_workers),
                      "is more than this scheduler's " + std::to_string(workers) +
                          (workers == 1 ? " worker" : " workers"));
  return out;
}

}  // namespace weft::detail
