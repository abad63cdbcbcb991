// The process's CPU budget from outside hwloc: the affinity mask and the cgroup CPU
// quota. Private to the library; tests call these directly on fake cgroup directories
// (through weft_internal, src/CMakeLists.txt).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "weft/topology.hpp"

namespace weft::detail {

// OS ids in this process's affinity mask (sched_getaffinity). Raises TopologyError.
std::vector<unsigned> read_affinity_mask();

// The quota in CPUs of one cgroup directory, nullopt when it sets none (or lacks the
// files). cgroup v2: `cpu.max` holds "max 100000" or "150000 100000". cgroup v1:
// `cpu.cfs_quota_us` (-1 = none) over `cpu.cfs_period_us`. Raises TopologyError naming
// the file when one is present but malformed.
std::optional<double> read_cgroup_dir_quota(const std::string& dir);

// The cpu controller's cgroup directories of a process whose /proc/self/cgroup reads
// `proc_self_cgroup`, with the cgroup filesystem mounted at `root`: its own cgroup
// first, then every parent up to the mount point. Handles v2 (root/cgroup.controllers),
// v1 (root/cpu,cpuacct/...) and the hybrid layout; empty when no cpu hierarchy is found.
// A recorded path missing below the mount (a cgroup namespace) gives the mount point.
std::vector<std::string> cpu_cgroup_chain(const std::string& root,
                                          const std::string& proc_self_cgroup);

// The tightest quota that applies to a process whose /proc/self/cgroup reads
// `proc_self_cgroup`, with the cgroup filesystem mounted at `root`: its own cgroup and
// every parent up to `root` (a parent's limit caps all its children). Handles v2
// (root/cgroup.controllers), v1 (root/cpu,cpuacct/...) and the hybrid layout.
std::optional<double> read_cgroup_quota(const std::string& root,
                                        const std::string& proc_self_cgroup);

// What Topology::probe uses: resolves through /proc/self/cgroup unless
// options.resolve_self is false, in which case cgroup_root is the process's own cgroup.
std::optional<double> read_cgroup_quota(const ProbeOptions& options);

}  // namespace weft::detail
