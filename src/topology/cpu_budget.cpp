// Reads the affinity mask and the cgroup CPU quota. Containers express their CPU limit
// as a quota (docker --cpus=1.5), not as a smaller mask, so both are needed to size the
// thread count without oversubscribing.
#include "topology/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>

#include "common/small_file.hpp"

namespace weft::detail {
namespace fs = std::filesystem;

namespace {

bool parse_integer(std::string_view s, long long& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

[[noreturn]] void throw_malformed(const fs::path& path, const std::string& text,
                                  const char* expected) {
  std::string shown = text;
  while (!shown.empty() && (shown.back() == '\n' || shown.back() == ' ')) shown.pop_back();
  throw TopologyError("cgroup: '" + path.string() + "' holds '" + shown + "', expected " +
                      expected);
}

std::optional<double> read_v2(const fs::path& file) {
  const auto text = read_small_file(file.string());
  if (!text) return std::nullopt;
  const auto w = words(*text);
  constexpr const char* expected = "'max [<period>]' or '<quota> <period>' in microseconds";
  if (w.empty() || w.size() > 2) throw_malformed(file, *text, expected);
  long long period = 100000;  // the kernel default when only the quota is written
  if (w.size() == 2 && (!parse_integer(w[1], period) || period <= 0))
    throw_malformed(file, *text, expected);
  if (w[0] == "max") return std::nullopt;
  long long quota = 0;
  if (!parse_integer(w[0], quota) || quota <= 0) throw_malformed(file, *text, expected);
  return static_cast<double>(quota) / static_cast<double>(period);
}

std::optional<double> read_v1(const fs::path& quota_file, const fs::path& period_file) {
  const auto quota_text = read_small_file(quota_file.string());
  if (!quota_text) return std::nullopt;
  const auto q = words(*quota_text);
  long long quota = 0;
  if (q.size() != 1 || !parse_integer(q[0], quota) || quota == 0 || quota < -1)
    throw_malformed(quota_file, *quota_text, "-1 or a positive number of microseconds");
  if (quota == -1) return std::nullopt;
  const auto period_text = read_small_file(period_file.string());
  if (!period_text)
    throw TopologyError("cgroup: '" + quota_file.string() + "' sets a quota but '" +
                        period_file.string() + "' cannot be read");
  const auto p = words(*period_text);
  long long period = 0;
  if (p.size() != 1 || !parse_integer(p[0], period) || period <= 0)
    throw_malformed(period_file, *period_text, "a positive number of microseconds");
  return static_cast<double>(quota) / static_cast<double>(period);
}

std::optional<double> tighter(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// Own cgroup and each parent up to (and including) the mount point. When the recorded
// path does not exist below the mount, the process is in a cgroup namespace or a
// container that mounted its own cgroup as the root: the mount point is its cgroup.
fs::path clean(const fs::path& p) {
  fs::path out = p.lexically_normal();
  if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
  return out;
}

std::vector<std::string> walk_up(const fs::path& mount, const std::string& cgroup_path) {
  const fs::path stop = clean(mount);
  fs::path dir = clean(stop / fs::path(cgroup_path).relative_path());
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) dir = stop;
  std::vector<std::string> chain;
  for (fs::path d = dir;; d = d.parent_path()) {
    chain.push_back(d.string());
    if (d == stop || d == d.parent_path() || d.native().size() <= stop.native().size()) break;
  }
  return chain;
}

struct CgroupLine {
  std::string controllers;  // "cpu,cpuacct"; empty for the v2 line
  std::string path;
};

std::vector<CgroupLine> parse_proc_self_cgroup(const std::string& text) {
  std::vector<CgroupLine> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"; the path itself may contain ':'.
    const std::size_t a = line.find(':');
    if (a == std::string::npos) continue;
    const std::size_t b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    lines.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return lines;
}

bool has_controller(const std::string& list, std::string_view name) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    if (std::string_view(list).substr(start, end - start) == name) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::vector<unsigned> read_affinity_mask() {
  // The mask may be larger than a default cpu_set_t on big machines: grow until it fits.
  for (int ncpus = 1024; ncpus <= (1 << 20); ncpus *= 2) {
    const std::size_t size = CPU_ALLOC_SIZE(ncpus);
    std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set(CPU_ALLOC(ncpus), [](cpu_set_t* s) {
      CPU_FREE(s);
    });
    if (!set) throw TopologyError("affinity: cannot allocate a CPU mask");
    CPU_ZERO_S(size, set.get());
    if (sched_getaffinity(0, size, set.get()) != 0) {
      if (errno == EINVAL) continue;
      throw TopologyError(std::string("affinity: sched_getaffinity failed: ") +
                          std::strerror(errno));
    }
    std::vector<unsigned> ids;
    for (int cpu = 0; cpu < ncpus; ++cpu)
      if (CPU_ISSET_S(static_cast<std::size_t>(cpu), size, set.get()))
        ids.push_back(static_cast<unsigned>(cpu));
    if (ids.empty()) throw TopologyError("affinity: sched_getaffinity returned an empty mask");
    return ids;
  }
  throw TopologyError("affinity: the CPU mask does not fit in 2^20 CPUs");
}

std::optional<double> read_cgroup_dir_quota(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  if (fs::exists(d / "cpu.max", ec)) return read_v2(d / "cpu.max");
  if (fs::exists(d / "cpu.cfs_quota_us", ec))
    return read_v1(d / "cpu.cfs_quota_us", d / "cpu.cfs_period_us");
  return std::nullopt;
}

std::vector<std::string> cpu_cgroup_chain(const std::string& root,
                                          const std::string& proc_self_cgroup) {
  const fs::path mount(root);
  const auto lines = parse_proc_self_cgroup(proc_self_cgroup);
  std::error_code ec;
  // Pure v2: one hierarchy at the root.
  if (fs::exists(mount / "cgroup.controllers", ec)) {
    for (const auto& l : lines)
      if (l.controllers.empty()) return walk_up(mount, l.path);
    return {root};
  }
  // v1 (alone or hybrid): the cpu controller has its own mount, named after the
  // controllers it carries ("cpu,cpuacct") or symlinked as "cpu".
  for (const auto& l : lines) {
    if (!has_controller(l.controllers, "cpu")) continue;
    for (const fs::path& m : {mount / l.controllers, mount / "cpu", mount / "cpu,cpuacct",
                              mount / "cpuacct,cpu"})
      if (fs::is_directory(m, ec)) return walk_up(m, l.path);
  }
  // Hybrid with the cpu controller on the unified hierarchy.
  if (fs::exists(mount / "unified" / "cgroup.controllers", ec))
    for (const auto& l : lines)
      if (l.controllers.empty()) return walk_up(mount / "unified", l.path);
  return {};
}

std::optional<double> read_cgroup_quota(const std::string& root,
                                        const std::string& proc_self_cgroup) {
  std::optional<double> quota;
  for (const std::string& dir : cpu_cgroup_chain(root, proc_self_cgroup))
    quota = tighter(quota, read_cgroup_dir_quota(dir));
  return quota;
}

std::optional<double> read_cgroup_quota(const ProbeOptions& options) {
  if (!options.resolve_self) return read_cgroup_dir_quota(options.cgroup_root);
  // Without /proc/self/cgroup (not Linux, or /proc not mounted) there is no cgroup to
  // read a quota from; the affinity mask still bounds the budget.
  const auto self = read_small_file("/proc/self/cgroup");
  if (!self) return std::nullopt;
  return read_cgroup_quota(options.cgroup_root, *self);
}

}  // namespace weft::detail
