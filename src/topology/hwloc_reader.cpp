// The only translation unit that includes <hwloc.h>: it turns an hwloc topology (this
// machine, a synthetic description or an XML export) into weft's plain Core list.
// Everything downstream works on that list, so the three sources behave the same.
#include <hwloc.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "topology/cpu_budget.hpp"
#include "topology/cpu_list.hpp"
#include "topology/xml_input.hpp"
#include "weft/topology.hpp"

namespace weft {
namespace {

// Limits on what a synthetic description or an XML file may make hwloc build. Without
// them a short string ("pack:64 numa:64 core:1024 pu:64") keeps hwloc busy for minutes
// and takes gigabytes, and everything downstream of a Topology is sized by its PUs.
//
// PUs: no Linux kernel runs more CPUs than its NR_CPUS, and x86-64's largest setting
// (CONFIG_MAXSMP) is 8192, so a bigger machine is not one weft can run on. hwloc itself
// would go to 2^32.
constexpr unsigned long long max_pus = 8192;
// Children per object in a synthetic description: hwloc inserts each object by
// comparing its cpuset with every sibling's, so one level's cost grows with arity x
// PUs^2 (measured, hwloc 2.9: "pu:4096" takes 4 s, "pack:16 core:1024 pu:1" 20 s, while
// 16384 PUs as "pack:16 numa:4 l3:4 core:16 pu:4" take 0.7 s). 1024 is 3.5x the widest
// level of current hardware (288 cores per package) and keeps the widest allowed
// machine ("pack:8 core:1024 pu:1") within a few seconds. hwloc's own limit is 2^32.
constexpr unsigned long long max_synthetic_arity = 1024;

struct TopologyDeleter {
  void operator()(hwloc_topology* t) const { hwloc_topology_destroy(t); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* b) const { hwloc_bitmap_free(b); }
};
using BitmapPtr = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

BitmapPtr make_bitmap() {
  BitmapPtr b(hwloc_bitmap_alloc());
  if (!b) throw TopologyError("hwloc: cannot allocate a bitmap");
  return b;
}

std::string errno_text() { return errno != 0 ? std::strerror(errno) : "unknown error"; }

TopologyPtr init_topology(const std::string& source) {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0)
    throw TopologyError(source + ": hwloc_topology_init failed: " + errno_text());
  return TopologyPtr(raw);
}

void load(hwloc_topology_t t, const std::string& source) {
  errno = 0;
  if (hwloc_topology_load(t) != 0)
    throw TopologyError(source + ": hwloc_topology_load failed: " + errno_text());
}

// Rejects a synthetic description that asks for more than max_pus PUs or more than
// max_synthetic_arity children per object, before hwloc allocates anything for it. The
// walk follows hwloc 2's parser: an optional "(attributes)" for the machine, then levels
// "type:count" or "count", each optionally followed by "(attributes)", and attached
// "[numa...]" that add no PU. Counts are read with strtoul(..., 0) as hwloc reads them,
// so hex, octal and signs count the same. Where hwloc would reject the string the walk
// stops and leaves the message to hwloc.
void check_synthetic_size(const std::string& description) {
  const auto past_attributes = [](const char* p) -> const char* {
    if (*p != '(') return p;
    const char* close = std::strchr(p, ')');
    return close != nullptr ? close + 1 : nullptr;
  };
  unsigned long long pus = 1;
  bool overflow = false;
  unsigned long widest = 0;
  std::string widest_level;
  for (const char* pos = past_attributes(description.c_str()); pos != nullptr;) {
    while (*pos == ' ' || *pos == '\n') ++pos;
    if (*pos == '\0') break;
    if (*pos == '[') {
      pos = std::strchr(pos, ']');
      if (pos != nullptr) ++pos;
      continue;
    }
    const char* level = pos;
    if (*pos < '0' || *pos > '9') {
      pos = std::strchr(pos, ':');
      if (pos == nullptr) break;
      ++pos;
    }
    char* end = nullptr;
    const unsigned long count = std::strtoul(pos, &end, 0);
    if (end == pos || count == 0) break;
    if (count > widest) {
      widest = count;
      widest_level.assign(level, static_cast<std::size_t>(end - level));
    }
    overflow = overflow || __builtin_mul_overflow(pus, count, &pus);
    pos = past_attributes(end);
  }
  const std::string what = "synthetic topology '" + description + "'";
  if (overflow || pus > max_pus)
    throw TopologyError(what + " has " +
                        (overflow ? "more than 2^64" : std::to_string(pus)) +
                        " PUs, more than the " + std::to_string(max_pus) +
                        " weft accepts (more than a Linux kernel runs)");
  if (widest > max_synthetic_arity)
    throw TopologyError(what + " gives an object " + std::to_string(widest) + " children ('" +
                        widest_level + "'), more than the " +
                        std::to_string(max_synthetic_arity) +
                        " weft accepts (hwloc's time grows with it; split the level in two)");
}

// The same PU cap for a loaded topology (an XML file states its PUs one by one).
void check_pu_count(hwloc_topology_t t, const std::string& what) {
  const int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
  if (pus > 0 && static_cast<unsigned long long>(pus) > max_pus)
    throw TopologyError(what + " has " + std::to_string(pus) + " PUs, more than the " +
                        std::to_string(max_pus) + " weft accepts (more than a Linux kernel runs)");
}


std::vector<unsigned> bitmap_ids(hwloc_const_bitmap_t set) {
  std::vector<unsigned> ids;
  if (hwloc_bitmap_weight(set) < 0) return ids;  // infinite: not a set of real CPUs
  for (int id = hwloc_bitmap_first(set); id >= 0; id = hwloc_bitmap_next(set, id))
    ids.push_back(static_cast<unsigned>(id));
  return ids;
}

using DomainKey = std::pair<int, unsigned long long>;  // (kind of object, hwloc gp_index)

// Dense 0..n-1 numbering in order of first appearance, so indices follow topology order.
class Numbering {
 public:
  unsigned operator()(DomainKey key) {
    return ids_.emplace(key, static_cast<unsigned>(ids_.size())).first->second;
  }

 private:
  std::map<DomainKey, unsigned> ids_;
};

// hwloc ranks kinds by increasing performance ("efficiency" in hwloc's words, higher is
// faster); weft wants 0 = fastest. When hwloc could not rank them (every efficiency
// -1), nothing says which kind is faster, so all cores are treated alike.
std::vector<unsigned> rank_kinds(hwloc_topology_t t) {
  const int nr = hwloc_cpukinds_get_nr(t, 0);
  std::vector<unsigned> rank(nr > 0 ? static_cast<std::size_t>(nr) : 0, 0);
  std::vector<int> efficiency(rank.size(), -1);
  for (unsigned k = 0; k < rank.size(); ++k)
    if (hwloc_cpukinds_get_info(t, k, nullptr, &efficiency[k], nullptr, nullptr, 0) != 0)
      efficiency[k] = -1;
  if (std::any_of(efficiency.begin(), efficiency.end(), [](int e) { return e < 0; }))
    return std::vector<unsigned>(rank.size(), 0);
  std::vector<int> distinct = efficiency;
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (unsigned k = 0; k < rank.size(); ++k)
    rank[k] = static_cast<unsigned>(
        std::find(distinct.begin(), distinct.end(), efficiency[k]) - distinct.begin());
  return rank;
}

// The NUMA node local to a core: the smallest node whose CPUs include the core (ties:
// the first in logical order). On machines with extra CPU-less or wider memory nodes,
// several nodes cover a core. hwloc 2 attaches a node below the object whose CPUs it
// serves (a memory child, possibly behind memory-side caches) with that object's
// cpuset, so only the nodes below the core's ancestors can cover it: looking there
// alone keeps this linear in the machine (checking every node for every core took 20 s
// for 8192 one-PU nodes).
hwloc_obj_t local_numa_node(hwloc_obj_t core) {
  hwloc_obj_t best = nullptr;
  int best_weight = 0;
  std::vector<hwloc_obj_t> pending;
  for (hwloc_obj_t above = core; above != nullptr; above = above->parent) {
    for (hwloc_obj_t m = above->memory_first_child; m != nullptr; m = m->next_sibling)
      pending.push_back(m);
    while (!pending.empty()) {
      const hwloc_obj_t m = pending.back();
      pending.pop_back();
      if (m->type != HWLOC_OBJ_NUMANODE) {
        for (hwloc_obj_t c = m->memory_first_child; c != nullptr; c = c->next_sibling)
          pending.push_back(c);
        continue;
      }
      if (m->cpuset == nullptr || !hwloc_bitmap_isincluded(core->cpuset, m->cpuset)) continue;
      const int weight = hwloc_bitmap_weight(m->cpuset);
      if (best == nullptr || weight < best_weight ||
          (weight == best_weight && m->logical_index < best->logical_index)) {
        best = m;
        best_weight = weight;
      }
    }
  }
  return best;
}

// Reads every PU and groups it under its core (a PU without a Core ancestor is its own
// core). Domains a core lacks fall back as documented in topology.hpp: no L3 -> the
// package, no L2 -> the core, no package -> the machine.
std::vector<Core> read_cores(hwloc_topology_t t) {
  const std::vector<unsigned> kind_rank = rank_kinds(t);
  Numbering packages, numa_nodes, l3s, l2s;
  std::vector<Core> cores;
  std::map<hwloc_obj_t, std::size_t> core_of;
  enum : int { by_machine, by_package, by_numa, by_l3, by_l2, by_core };
  for (hwloc_obj_t pu = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, nullptr); pu != nullptr;
       pu = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_PU, pu)) {
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
    if (core == nullptr) core = pu;
    auto [it, inserted] = core_of.emplace(core, cores.size());
    if (!inserted) {
      cores[it->second].pus.push_back(pu->os_index);
      continue;
    }
    Core c;
    c.pus.push_back(pu->os_index);
    const hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, core);
    const DomainKey package_key = package ? DomainKey{by_package, package->gp_index}
                                          : DomainKey{by_machine, 0};
    c.package = packages(package_key);
    const hwloc_obj_t numa = local_numa_node(core);
    c.numa_node = numa_nodes(numa ? DomainKey{by_numa, numa->gp_index} : DomainKey{by_machine, 0});
    const hwloc_obj_t l3 = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_L3CACHE, core);
    c.l3 = l3s(l3 ? DomainKey{by_l3, l3->gp_index} : package_key);
    const hwloc_obj_t l2 = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_L2CACHE, core);
    c.l2 = l2s(l2 ? DomainKey{by_l2, l2->gp_index} : DomainKey{by_core, core->gp_index});
    const int kind = hwloc_cpukinds_get_by_cpuset(t, core->cpuset, 0);
    c.kind = kind >= 0 && static_cast<unsigned>(kind) < kind_rank.size()
                 ? kind_rank[static_cast<unsigned>(kind)]
                 : 0;
    cores.push_back(std::move(c));
  }
  // A restricted machine may lack the fastest kind: keep the ranks' order, close the gaps.
  std::vector<unsigned> present;
  for (const Core& c : cores) present.push_back(c.kind);
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  for (Core& c : cores)
    c.kind = static_cast<unsigned>(std::lower_bound(present.begin(), present.end(), c.kind) -
                                   present.begin());
  return cores;
}

CpuBudget whole_machine(const std::vector<Core>& cores) {
  CpuBudget budget;
  for (const Core& c : cores) budget.allowed_pus.insert(budget.allowed_pus.end(), c.pus.begin(), c.pus.end());
  std::sort(budget.allowed_pus.begin(), budget.allowed_pus.end());
  return budget;
}

}  // namespace

Topology Topology::synthetic(const std::string& description) {
  const std::string source = "synthetic: " + description;
  if (description.find_first_not_of(" \t") == std::string::npos)
    throw TopologyError("synthetic topology '" + description + "' is empty");
  check_synthetic_size(description);
  TopologyPtr t = init_topology(source);
  errno = 0;
  if (hwloc_topology_set_synthetic(t.get(), description.c_str()) != 0)
    throw TopologyError("synthetic topology '" + description +
                        "' is malformed (hwloc_topology_set_synthetic rejected it; expected "
                        "type:count levels from the machine down to pu, e.g. "
                        "'pack:2 numa:2 l3:2 core:8 pu:2')");
  load(t.get(), source);
  check_pu_count(t.get(), "synthetic topology '" + description + "'");
  std::vector<Core> cores = read_cores(t.get());
  CpuBudget budget = whole_machine(cores);
  return Topology(std::move(cores), std::move(budget), source);
}

Topology Topology::from_xml(const std::string& path) {
  const std::string source = "xml: " + path;
  // Read here rather than by hwloc: its message for a missing file goes to stderr, if
  // anywhere, and it would read a file of any size.
  const std::string text = detail::read_xml_file(path);
  const std::string error = detail::xml_input_error(text);
  if (!error.empty())
    throw TopologyError("XML topology '" + path + "' is not a valid hwloc XML export (" + error +
                        "); 'lstopo --of xml' writes one");
  // hwloc rejects a bad file either when the source is set (libxml2 reader, from
  // libhwloc-plugins) or only when it loads (the built-in parser, which reads what hwloc
  // itself writes and no comments): one message for both, so it does not depend on
  // which packages are installed.
  const auto invalid = [&path] {
    return TopologyError("XML topology '" + path + "' is not a valid hwloc XML export (" +
                         errno_text() + "); 'lstopo --of xml' writes one");
  };
  TopologyPtr t = init_topology(source);
  errno = 0;
  if (hwloc_topology_set_xmlbuffer(t.get(), text.data(), static_cast<int>(text.size())) != 0)
    throw invalid();
  errno = 0;
  if (hwloc_topology_load(t.get()) != 0) throw invalid();
  check_pu_count(t.get(), "XML topology '" + path + "'");
  std::vector<Core> cores = read_cores(t.get());
  CpuBudget budget = whole_machine(cores);
  return Topology(std::move(cores), std::move(budget), source);
}

Topology Topology::probe(const ProbeOptions& options) {
  const std::string source = "probe";
  TopologyPtr t = init_topology(source);
  load(t.get(), source);
  // As oneTBB's tbbbind does: only the CPUs this process may run on (cgroup cpuset, which
  // hwloc already applied, and the affinity mask) are part of its machine.
  const std::vector<unsigned> mask = detail::read_affinity_mask();
  const std::vector<unsigned> machine = bitmap_ids(hwloc_topology_get_complete_cpuset(t.get()));
  std::vector<unsigned> outside;
  std::set_difference(mask.begin(), mask.end(), machine.begin(), machine.end(),
                      std::back_inserter(outside));
  if (!outside.empty())
    throw TopologyError("probe: the affinity mask holds CPUs " + detail::format_cpu_list(outside) +
                        " that hwloc does not see in the machine (" +
                        detail::format_cpu_list(machine) + ")");
  const std::vector<unsigned> allowed = detail::intersect_sorted(
      mask, bitmap_ids(hwloc_topology_get_allowed_cpuset(t.get())));
  if (allowed.empty())
    throw TopologyError("probe: no CPU of the affinity mask (" + detail::format_cpu_list(mask) +
                        ") is allowed by the cgroup cpuset");
  BitmapPtr set = make_bitmap();
  for (unsigned id : allowed) hwloc_bitmap_set(set.get(), id);
  errno = 0;
  if (hwloc_topology_restrict(t.get(), set.get(), 0) != 0)
    throw TopologyError("probe: hwloc_topology_restrict to " + detail::format_cpu_list(allowed) +
                        " failed: " + errno_text());
  std::vector<Core> cores = read_cores(t.get());
  CpuBudget budget;
  budget.allowed_pus = allowed;
  // The kernel's count of online CPUs is the whole machine even inside a container whose
  // cpuset hides part of it from hwloc.
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  budget.machine_pus = std::max(allowed.size(), online > 0 ? static_cast<std::size_t>(online) : 0);
  budget.quota = detail::read_cgroup_quota(options);
  return Topology(std::move(cores), std::move(budget), source);
}

}  // namespace weft
