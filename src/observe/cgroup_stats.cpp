// Path resolution here mirrors src/topology/cpu_budget.cpp, which keeps its own
// helpers private; it reuses that file's public read_cgroup_dir_quota to find the
// cgroup that sets the quota.
#include "observe/cgroup_stats.hpp"

#include <filesystem>
#include <sstream>
#include <string_view>
#include <vector>

#include "observe/text_field.hpp"
#include "observe/thread_stats.hpp"
#include "topology/cpu_budget.hpp"

namespace weft::detail {
namespace fs = std::filesystem;

namespace {

struct CgroupLine {
  std::string controllers;  // "cpu,cpuacct"; empty on the v2 line
  std::string path;
};

std::vector<CgroupLine> parse_lines(const std::string& text) {
  std::vector<CgroupLine> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    const std::size_t a = line.find(':');
    const std::size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    lines.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return lines;
}

bool has_cpu(const std::string& controllers) {
  std::size_t start = 0;
  while (start <= controllers.size()) {
    const std::size_t end = std::min(controllers.find(',', start), controllers.size());
    if (std::string_view(controllers).substr(start, end - start) == "cpu") return true;
    start = end + 1;
  }
  return false;
}

fs::path clean(const fs::path& p) {
  fs::path out = p.lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out;
}

bool sets_quota(const fs::path& dir) {
  try {
    return read_cgroup_dir_quota(dir.string()).has_value();
  } catch (const std::exception&) {
    return false;  // a malformed quota file is the topology stage's error to report
  }
}

// From the process's cgroup below `mount` up to `mount`: the nearest directory with a
// quota and a usable cpu.stat, else the first with a usable cpu.stat.
std::optional<std::string> walk_up(const fs::path& mount, const std::string& cgroup_path) {
  const fs::path stop = clean(mount);
  fs::path dir = clean(stop / fs::path(cgroup_path).relative_path());
  std::error_code ec;
  // Not below the mount: a cgroup namespace, where the mount point is our cgroup.
  if (!fs::is_directory(dir, ec)) dir = stop;
  std::optional<std::string> own;
  for (fs::path d = dir;; d = d.parent_path()) {
    if (read_cpu_stat(d.string())) {
      if (sets_quota(d)) return d.string();
      if (!own) own = d.string();
    }
    if (d == stop || d == d.parent_path() || d.native().size() <= stop.native().size()) break;
  }
  return own;
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
  const fs::path mount(root);
  const auto lines = parse_lines(proc_self_cgroup);
  std::error_code ec;
  if (fs::exists(mount / "cgroup.controllers", ec)) {  // pure v2
    for (const auto& l : lines)
      if (l.controllers.empty()) return walk_up(mount, l.path);
    return walk_up(mount, "/");
  }
  for (const auto& l : lines) {  // v1 or hybrid: the cpu controller's own mount
    if (!has_cpu(l.controllers)) continue;
    for (const fs::path& m : {mount / l.controllers, mount / "cpu", mount / "cpu,cpuacct",
                              mount / "cpuacct,cpu"})
      if (fs::is_directory(m, ec)) return walk_up(m, l.path);
  }
  if (fs::exists(mount / "unified" / "cgroup.controllers", ec))  // hybrid, cpu on v2
    for (const auto& l : lines)
      if (l.controllers.empty()) return walk_up(mount / "unified", l.path);
  return std::nullopt;
}

std::optional<std::string> find_cpu_stat_dir(const std::string& root) {
  const auto self = read_small_file("/proc/self/cgroup");
  if (!self) return std::nullopt;
  return find_cpu_stat_dir(root, *self);
}

}  // namespace weft::detail
