// The Topology value: consistency checks, budget views and the readable summary.
// hwloc is not used here (see hwloc_reader.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "topology/cpu_list.hpp"
#include "weft/topology.hpp"

namespace weft {
namespace {

// Logical indices must be 0..n-1 so that the planner can size arrays by the counts.
unsigned dense_count(const std::vector<Core>& cores, unsigned Core::*field, const char* what,
                     const std::string& source) {
  std::set<unsigned> seen;
  for (const Core& c : cores) seen.insert(c.*field);
  const unsigned n = static_cast<unsigned>(seen.size());
  if (*seen.rbegin() != n - 1)
    throw TopologyError(source + ": " + what + " indices are not 0.." + std::to_string(n - 1) +
                        " (largest is " + std::to_string(*seen.rbegin()) + ")");
  return n;
}

std::vector<unsigned> all_pus(const std::vector<Core>& cores) {
  std::vector<unsigned> pus;
  for (const Core& c : cores) pus.insert(pus.end(), c.pus.begin(), c.pus.end());
  std::sort(pus.begin(), pus.end());
  return pus;
}

void check_budget(const std::vector<Core>& cores, CpuBudget& budget, const std::string& source) {
  auto& allowed = budget.allowed_pus;
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  if (allowed.empty()) throw TopologyError(source + ": no allowed PU (the affinity mask is empty)");
  const auto machine = all_pus(cores);
  std::vector<unsigned> outside;
  std::set_difference(allowed.begin(), allowed.end(), machine.begin(), machine.end(),
                      std::back_inserter(outside));
  if (!outside.empty())
    throw TopologyError(source + ": allowed PUs " + detail::format_cpu_list(outside) +
                        " are not in the machine (its PUs are " +
                        detail::format_cpu_list(machine) + ")");
  if (budget.machine_pus == 0) budget.machine_pus = machine.size();
  if (budget.machine_pus < allowed.size())
    throw TopologyError(source + ": the machine has " + std::to_string(budget.machine_pus) +
                        " PUs, fewer than the " + std::to_string(allowed.size()) + " allowed");
  if (budget.quota && !(*budget.quota > 0.0 && std::isfinite(*budget.quota)))
    throw TopologyError(source + ": CPU quota " + std::to_string(*budget.quota) +
                        " is not a positive number of CPUs");
}

std::string format_cpus(double cpus) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", cpus);
  return buf;
}

}  // namespace

double CpuBudget::cpus() const {
  const double mask = static_cast<double>(allowed_pus.size());
  return quota ? std::min(mask, *quota) : mask;
}

Topology::Topology(std::vector<Core> cores, CpuBudget budget, std::string source)
    : cores_(std::move(cores)), budget_(std::move(budget)), source_(std::move(source)) {
  if (cores_.empty()) throw TopologyError(source_ + ": the machine has no cores");
  std::set<unsigned> pus;
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    auto& core_pus = cores_[i].pus;
    if (core_pus.empty())
      throw TopologyError(source_ + ": core " + std::to_string(i) + " has no PU");
    std::sort(core_pus.begin(), core_pus.end());
    for (unsigned pu : core_pus)
      if (!pus.insert(pu).second)
        throw TopologyError(source_ + ": PU " + std::to_string(pu) + " is in two cores");
  }
  num_packages_ = dense_count(cores_, &Core::package, "package", source_);
  num_numa_nodes_ = dense_count(cores_, &Core::numa_node, "NUMA node", source_);
  num_l3_ = dense_count(cores_, &Core::l3, "L3", source_);
  num_l2_ = dense_count(cores_, &Core::l2, "L2", source_);
  num_core_kinds_ = dense_count(cores_, &Core::kind, "core kind", source_);
  check_budget(cores_, budget_, source_);
}

unsigned Topology::num_pus() const {
  std::size_t n = 0;
  for (const Core& c : cores_) n += c.pus.size();
  return static_cast<unsigned>(n);
}

Topology Topology::with_allowed_pus(std::vector<unsigned> pus) const {
  CpuBudget budget = budget_;
  budget.allowed_pus = std::move(pus);
  return Topology(cores_, std::move(budget), source_);
}

Topology Topology::with_quota(std::optional<double> cpus) const {
  CpuBudget budget = budget_;
  budget.quota = cpus;
  return Topology(cores_, std::move(budget), source_);
}

std::string Topology::describe() const {
  std::ostringstream out;
  out << "Machine (" << source_ << "): " << num_packages_ << " package(s), " << num_numa_nodes_
      << " NUMA node(s), " << num_l3_ << " L3, " << num_l2_ << " L2, " << num_cores() << " cores, "
      << num_pus() << " PUs\n";
  for (unsigned kind = 0; kind < num_core_kinds_; ++kind) {
    unsigned cores = 0, pus = 0;
    for (const Core& c : cores_)
      if (c.kind == kind) ++cores, pus += static_cast<unsigned>(c.pus.size());
    out << "  core kind " << kind
        << (num_core_kinds_ == 1 ? "" : kind == 0 ? " (most performant)" : " (more efficient)")
        << ": " << cores << " cores, " << pus << " PUs\n";
  }
  for (unsigned p = 0; p < num_packages_; ++p) {
    std::set<unsigned> numa, l3;
    std::vector<unsigned> core_ids, pus;
    for (unsigned i = 0; i < num_cores(); ++i) {
      const Core& c = cores_[i];
      if (c.package != p) continue;
      numa.insert(c.numa_node);
      l3.insert(c.l3);
      core_ids.push_back(i);
      pus.insert(pus.end(), c.pus.begin(), c.pus.end());
    }
    std::sort(pus.begin(), pus.end());
    out << "  package " << p << ": NUMA " << detail::format_cpu_list({numa.begin(), numa.end()})
        << ", L3 " << detail::format_cpu_list({l3.begin(), l3.end()}) << ", cores "
        << detail::format_cpu_list(core_ids) << ", PUs " << detail::format_cpu_list(pus) << "\n";
  }
  out << "Budget: " << budget_.allowed_pus.size() << " allowed PUs ("
      << detail::format_cpu_list(budget_.allowed_pus) << ") of the machine's "
      << budget_.machine_pus << ", cgroup quota "
      << (budget_.quota ? format_cpus(*budget_.quota) + " CPUs" : std::string("none")) << " -> "
      << format_cpus(budget_.cpus()) << " CPUs\n";
  return out.str();
}

}  // namespace weft
