// CPU throttling of this process's cgroup, from the cpu controller's cpu.stat.
//
// A container with a CPU quota (docker --cpus=1.5) that runs more threads than its
// quota covers gets throttled: all its threads stop until the next period. That shows
// up here, not in the workers' own counters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace weft::detail {

struct CpuStat {
  std::uint64_t nr_throttled = 0;  // periods in which the cgroup was throttled
  std::uint64_t throttled_ns = 0;  // total time throttled
};

// cpu.stat in `cgroup_dir`: v2 (nr_throttled, throttled_usec) or v1 (nr_throttled,
// throttled_time in ns). nullopt when the file is missing, lacks those keys (the v2 root
// cgroup, for one) or is malformed.
std::optional<CpuStat> read_cpu_stat(const std::string& cgroup_dir);

// The cgroup directory whose cpu.stat describes this process's throttling: walking up
// from its own cpu cgroup (per `proc_self_cgroup`, the text of /proc/self/cgroup, with
// the hierarchy mounted at `root`), the nearest one that sets a quota; without a quota
// anywhere, its own. nullopt when no such directory has a usable cpu.stat.
std::optional<std::string> find_cpu_stat_dir(const std::string& root,
                                             const std::string& proc_self_cgroup);
// The same for this process (/proc/self/cgroup).
std::optional<std::string> find_cpu_stat_dir(const std::string& root = "/sys/fs/cgroup");

}  // namespace weft::detail
