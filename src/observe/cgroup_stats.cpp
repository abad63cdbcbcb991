// Which cgroup's cpu.stat to read: the cgroup chain comes from src/topology/cpu_budget,
// the same resolution the CPU budget uses.
#include "observe/cgroup_stats.hpp"

#include <filesystem>
#include <vector>

#include "common/small_file.hpp"
#include "observe/text_field.hpp"
#include "topology/cpu_budget.hpp"

namespace weft::detail {
namespace fs = std::filesystem;

namespace {

bool sets_quota(const std::string& dir) {
  try {
    return read_cgroup_dir_quota(dir).has_value();
  } catch (const std::exception&) {
    return false;  // a malformed quota file is the topology stage's error to report
  }
}

}  // namespace

std::optional<CpuStat> read_cpu_stat(const std::string& cgroup_dir) {
  const auto text = read_small_file((fs::path(cgroup_dir) / "cpu.stat").string());
  if (!text) return std::nullopt;
  const auto periods = text_field(*text, "nr_throttled", ' ');
  if (!periods) return std::nullopt;
  if (const auto usec = text_field(*text, "throttled_usec", ' ')) return CpuStat{*periods, *usec * 1000};
  if (const auto ns = text_field(*text, "throttled_time", ' ')) return CpuStat{*periods, *ns};
  return std::nullopt;
}

std::optional<std::string> find_cpu_stat_dir(const std::string& root,
                                             const std::string& proc_self_cgroup) {
  // The nearest cgroup that sets a quota and has a usable cpu.stat, else the nearest
  // with a usable cpu.stat.
  std::optional<std::string> own;
  for (const std::string& dir : cpu_cgroup_chain(root, proc_self_cgroup)) {
    if (!read_cpu_stat(dir)) continue;
    if (sets_quota(dir)) return dir;
    if (!own) own = dir;
  }
  return own;
}

std::optional<std::string> find_cpu_stat_dir(const std::string& root) {
  const auto self = read_small_file("/proc/self/cgroup");
  if (!self) return std::nullopt;
  return find_cpu_stat_dir(root, *self);
}

}  // namespace weft::detail
