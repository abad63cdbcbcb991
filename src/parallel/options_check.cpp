// check_options: the one validation of TaskOptions and ForOptions. Both structs share
// the rule and the wording for the fields they have in common, so a value rejected
// through submit is rejected with the same text (but for the struct's name) through
// parallel_for.
#include "weft/detail/options_check.hpp"

#include <optional>
#include <string>

namespace weft::detail {

namespace {

std::string field(const char* options, const char* name, long long value) {
  return std::string(options) + "::" + name + ": " + std::to_string(value);
}

void check_priority(const char* options, const std::optional<Priority>& priority) {
  if (priority && static_cast<unsigned>(*priority) >= num_priorities) {
    throw ConfigError(field(options, "priority", static_cast<unsigned>(*priority)) +
                      " is not a Priority");
  }
}

// Whether some worker lies on NUMA node `numa_node` and in L3 domain `l3` (-1: any).
// A scan, but only for options that name a domain; it stops at the first match.
bool has_worker(const Placement& placement, int numa_node, int l3) {
  for (const WorkerPlacement& w : placement.workers) {
    if ((numa_node < 0 || w.numa_node == static_cast<unsigned>(numa_node)) &&
        (l3 < 0 || w.l3 == static_cast<unsigned>(l3))) {
      return true;
    }
  }
  return false;
}

// numa_node / l3: -1, or a domain that holds a worker. Values below -1 are rejected
// rather than read as "anywhere", so that a sign slip does not pass unnoticed.
void check_domain(const char* options, const char* name, int value, const Placement& placement,
                  bool is_numa) {
  if (value == -1) return;
  if (value < -1 || !has_worker(placement, is_numa ? value : -1, is_numa ? -1 : value)) {
    throw ConfigError(field(options, name, value) +
                      " has no worker of this scheduler (-1 = anywhere)");
  }
}

}  // namespace

void check_options(const TaskOptions& options, const Placement& placement) {
  check_priority("TaskOptions", options.priority);
  const auto workers = static_cast<long long>(placement.workers.size());
  if (options.worker < -1 || options.worker >= workers) {
    throw ConfigError(field("TaskOptions", "worker", options.worker) +
                      " is out of range (this scheduler has " + std::to_string(workers) +
                      (workers == 1 ? " worker" : " workers") + "; -1 = no hint)");
  }
  // Checked even when `worker` is set (which wins): a bad value is bad either way.
  check_domain("TaskOptions", "numa_node", options.numa_node, placement, true);
}

void check_options(const ForOptions& options, const Placement& placement) {
  check_priority("ForOptions", options.priority);
  check_domain("ForOptions", "numa_node", options.numa_node, placement, true);
  check_domain("ForOptions", "l3", options.l3, placement, false);
  if (options.numa_node >= 0 && options.l3 >= 0 &&
      !has_worker(placement, options.numa_node, options.l3)) {
    throw ConfigError(field("ForOptions", "l3", options.l3) + " has no worker on NUMA node " +
                      std::to_string(options.numa_node) + " (ForOptions::numa_node)");
  }
}

}  // namespace weft::detail
