// plan_placement: which worker runs where. A pure function of (Topology, Config), so
// every rule here is tested on synthetic machines without starting a thread.
//
// The steps, in order:
//   1. usable PUs  = allowed PUs (mask) ∩ config.cpuset; usable cores have at least one.
//   2. partition   = a contiguous slice of the usable cores, cut at the coarsest
//                    package / NUMA / L3 / L2 boundary that keeps the slices balanced.
//   3. slot order  = one slot per core (fastest kind first, round-robin across packages,
//                    NUMA nodes and L3 domains, in core order inside an L3), then the
//                    SMT siblings in the same order. Thread i takes slot i modulo the
//                    number of slots: past all cores it lands on siblings, past all PUs it
//                    oversubscribes cores in the same order.
//   4. threads     = config.num_threads, or with 0 one per core (per PU with use_smt),
//                    capped by the cgroup quota rounded up. Thread 0 is the caller.
//   5. steal order = the other workers by distance: same core, L2, L3, NUMA node,
//                    package, then remote; ties by index.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "common/json_writer.hpp"
#include "topology/config_check.hpp"
#include "topology/cpu_list.hpp"
#include "weft/topology.hpp"

namespace weft {
namespace {

struct Slot {
  unsigned core;  // index into Topology::cores()
  unsigned pu;    // OS id
};

// Per core of the topology, its usable PUs (empty when the core is not usable).
using UsablePus = std::vector<std::vector<unsigned>>;

std::string partition_text(const Partition& p) {
  return std::to_string(p.index) + "/" + std::to_string(p.count);
}

std::vector<unsigned> usable_pus(const Topology& topology, const Config& config) {
  const std::vector<unsigned>& allowed = topology.budget().allowed_pus;
  if (config.cpuset.empty()) return allowed;
  const std::vector<unsigned> wanted = parse_cpu_list(config.cpuset, "Config::cpuset");
  std::vector<unsigned> both = detail::intersect_sorted(allowed, wanted);
  if (both.empty())
    throw ConfigError("Config::cpuset: '" + config.cpuset +
                      "' holds no CPU this process may use (allowed: " +
                      detail::format_cpu_list(allowed) + ")");
  return both;
}

// Domain key of a core at each cut level, coarsest first; the last level (the core
// itself) can always cut, so a balanced partition always exists.
constexpr int num_levels = 5;
unsigned level_key(const Core& core, unsigned index, int level) {
  switch (level) {
    case 0: return core.package;
    case 1: return core.numa_node;
    case 2: return core.l3;
    case 3: return core.l2;
    default: return index;
  }
}

// Splits `cores` (usable cores in topology order) into `count` contiguous slices and
// returns slice `index`. Cuts go at the coarsest level whose boundaries give slices
// within max(1, ideal/8) cores of the ideal size: on a 2-package box with 2 NUMA nodes
// each, 4 slices are exactly the 4 NUMA nodes; 3 slices of 64 cores fall to core level
// (21/22/21) rather than L3 level (24/16/24), because a slice that is a third larger
// than its neighbours wastes more than a shared L3 costs.
std::vector<unsigned> partition_cores(const Topology& topology, const std::vector<unsigned>& cores,
                                      const Partition& p) {
  const std::size_t n = cores.size();
  if (p.count > n)
    throw ConfigError("Config::partition: " + partition_text(p) + " asks for " +
                      std::to_string(p.count) + " slices but only " + std::to_string(n) +
                      " cores are usable");
  if (p.count == 1) return cores;
  const double ideal = static_cast<double>(n) / p.count;
  const double tolerance = std::max(1.0, ideal / 8);
  for (int level = 0; level < num_levels; ++level) {
    std::vector<std::size_t> boundaries;  // positions where a new domain starts
    for (std::size_t i = 1; i < n; ++i)
      if (level_key(topology.cores()[cores[i]], cores[i], level) !=
          level_key(topology.cores()[cores[i - 1]], cores[i - 1], level))
        boundaries.push_back(i);
    if (boundaries.size() + 1 < p.count) continue;
    std::vector<std::size_t> cuts{0};
    for (unsigned k = 1; k < p.count; ++k) {
      const double target = ideal * k;
      auto nearest = std::min_element(boundaries.begin(), boundaries.end(),
                                      [&](std::size_t a, std::size_t b) {
                                        return std::abs(static_cast<double>(a) - target) <
                                               std::abs(static_cast<double>(b) - target);
                                      });
      cuts.push_back(*nearest);
    }
    cuts.push_back(n);
    bool balanced = true;
    for (unsigned k = 0; k < p.count && balanced; ++k)
      balanced = cuts[k + 1] > cuts[k] &&
                 std::abs(static_cast<double>(cuts[k + 1] - cuts[k]) - ideal) <= tolerance;
    if (!balanced) continue;
    return {cores.begin() + static_cast<std::ptrdiff_t>(cuts[p.index]),
            cores.begin() + static_cast<std::ptrdiff_t>(cuts[p.index + 1])};
  }
  // Unreachable: the core level has a boundary at every position.
  throw ConfigError("Config::partition: " + partition_text(p) + " cannot be cut evenly");
}

// Orders cores so that any prefix is spread evenly: round-robin across the domains of
// `level` (package, then NUMA node, then L3), each domain ordered the same way one level
// down; inside an L3 domain, topology order, so that neighbouring threads share caches.
std::vector<unsigned> spread(const Topology& topology, const std::vector<unsigned>& cores,
                             int level) {
  if (level > 2 || cores.size() <= 1) return cores;
  std::vector<unsigned> keys;  // domains in order of first appearance
  std::map<unsigned, std::vector<unsigned>> groups;
  for (unsigned c : cores) {
    const unsigned key = level_key(topology.cores()[c], c, level);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) keys.push_back(key);
    it->second.push_back(c);
  }
  std::vector<std::vector<unsigned>> ordered;
  for (unsigned key : keys) ordered.push_back(spread(topology, groups[key], level + 1));
  std::vector<unsigned> out;
  for (std::size_t round = 0; out.size() < cores.size(); ++round)
    for (const auto& g : ordered)
      if (round < g.size()) out.push_back(g[round]);
  return out;
}

std::vector<Slot> slot_order(const Topology& topology, const std::vector<unsigned>& cores,
                             const UsablePus& pus) {
  std::vector<unsigned> by_core;
  for (unsigned kind = 0; kind < topology.num_core_kinds(); ++kind) {
    std::vector<unsigned> of_kind;
    for (unsigned c : cores)
      if (topology.cores()[c].kind == kind) of_kind.push_back(c);
    const auto spread_cores = spread(topology, of_kind, 0);
    by_core.insert(by_core.end(), spread_cores.begin(), spread_cores.end());
  }
  std::vector<Slot> slots;
  std::size_t max_pus = 0;
  for (unsigned c : by_core) max_pus = std::max(max_pus, pus[c].size());
  for (std::size_t lap = 0; lap < max_pus; ++lap)
    for (unsigned c : by_core)
      if (lap < pus[c].size()) slots.push_back({c, pus[c][lap]});
  return slots;
}

std::vector<unsigned> cpus_for(const Topology& topology, const Slot& slot, Pinning pinning,
                               const std::vector<unsigned>& cores, const UsablePus& pus) {
  switch (pinning) {
    case Pinning::none: return {};
    case Pinning::core: return pus[slot.core];
    case Pinning::pu: return {slot.pu};
    case Pinning::numa: {
      std::vector<unsigned> out;
      const unsigned node = topology.cores()[slot.core].numa_node;
      for (unsigned c : cores)
        if (topology.cores()[c].numa_node == node)
          out.insert(out.end(), pus[c].begin(), pus[c].end());
      std::sort(out.begin(), out.end());
      return out;
    }
  }
  return {};  // check_config ruled this out
}

struct PinningChoice {
  Pinning pinning;
  std::string reason;
};

// Config::pinning's rule: unset binds only when this process owns its CPUs. The quota
// does not count: it limits CPU time, not which cores, so quota-limited neighbours
// still share every core.
PinningChoice choose_pinning(const Topology& topology, const Config& config) {
  if (config.pinning) {
    return {*config.pinning, "Config::pinning (or WEFT_PINNING / OMP_PROC_BIND) is set"};
  }
  if (config.partition)
    return {Pinning::core, "the partition " + partition_text(*config.partition) +
                               " gives this process its own cores"};
  if (!config.cpuset.empty())
    return {Pinning::core, "the cpuset '" + config.cpuset + "' gives this process its own CPUs"};
  const CpuBudget& budget = topology.budget();
  const std::string machine = std::to_string(budget.machine_pus) + " CPUs";
  if (budget.allowed_pus.size() < budget.machine_pus)
    return {Pinning::core, "the affinity mask / cgroup cpuset (" +
                               detail::format_cpu_list(budget.allowed_pus) +
                               ") is narrower than the machine's " + machine};
  return {Pinning::none, "this process may run on all " + machine +
                             " of the machine, which other processes may share"};
}

unsigned distance(const WorkerPlacement& a, const WorkerPlacement& b) {
  if (a.core == b.core) return 0;
  if (a.l2 == b.l2) return 1;
  if (a.l3 == b.l3) return 2;
  if (a.numa_node == b.numa_node) return 3;
  if (a.package == b.package) return 4;
  return 5;
}

// Threads including the caller (before the at-least-one-worker rule).
std::size_t thread_count(const Config& config, std::size_t num_cores, std::size_t num_slots,
                         std::optional<double> quota) {
  if (config.num_threads != 0) {
    // Oversubscription is allowed, but a count far beyond the machine is a typo that
    // would otherwise create millions of threads.
    const std::size_t limit = std::max<std::size_t>(1024, 64 * num_slots);
    if (config.num_threads > limit)
      throw ConfigError("Config::num_threads: " + std::to_string(config.num_threads) +
                        " is more than 64 threads per usable PU (" + std::to_string(num_slots) +
                        " PUs)");
    return config.num_threads;
  }
  std::size_t threads = config.use_smt ? num_slots : num_cores;
  // 1.5 CPUs of quota -> 2 threads: the half CPU is worth a thread, and rounding down
  // would leave a 0.5-CPU container with none. The epsilon absorbs 2.0000001.
  if (quota)
    threads = std::min(threads, static_cast<std::size_t>(std::max(1.0, std::ceil(*quota - 1e-9))));
  return threads;
}

void fill_steal_orders(std::vector<WorkerPlacement>& workers) {
  for (unsigned i = 0; i < workers.size(); ++i) {
    std::vector<unsigned>& order = workers[i].steal_order;
    for (unsigned j = 0; j < workers.size(); ++j)
      if (j != i) order.push_back(j);
    std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
      return distance(workers[i], workers[a]) < distance(workers[i], workers[b]);
    });
  }
}

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

}  // namespace

Placement plan_placement(const Topology& topology, const Config& config) {
  if (topology.num_cores() == 0)
    throw TopologyError("plan_placement: the topology has no cores (a default-constructed "
                        "Topology; use probe, synthetic or from_xml)");
  detail::check_config(config);
  const PinningChoice pinning = choose_pinning(topology, config);

  const std::vector<unsigned> allowed = usable_pus(topology, config);
  UsablePus pus(topology.num_cores());
  std::vector<unsigned> cores;
  for (unsigned c = 0; c < topology.num_cores(); ++c) {
    pus[c] = detail::intersect_sorted(topology.cores()[c].pus, allowed);
    if (!pus[c].empty()) cores.push_back(c);
  }
  if (config.partition) {
    cores = partition_cores(topology, cores, *config.partition);
    UsablePus in_slice(topology.num_cores());
    for (unsigned c : cores) in_slice[c] = std::move(pus[c]);
    pus = std::move(in_slice);
  }

  Placement placement;
  std::size_t num_pus = 0;
  for (unsigned c : cores) num_pus += pus[c].size();
  const auto quota = topology.budget().quota;
  placement.cpu_budget = static_cast<double>(num_pus);
  if (quota) placement.cpu_budget = std::min(placement.cpu_budget, *quota);

  const std::vector<Slot> slots = slot_order(topology, cores, pus);
  const std::size_t threads = thread_count(config, cores.size(), slots.size(), quota);
  const std::size_t num_workers = std::max<std::size_t>(threads, 2) - 1;
  if (config.reserved_workers >= num_workers)
    throw ConfigError("Config::reserved_workers: " + std::to_string(config.reserved_workers) +
                      " leaves no worker for low and normal work (the placement has " +
                      std::to_string(num_workers) + " worker" + (num_workers == 1 ? "" : "s") +
                      ")");

  placement.loop_threads = static_cast<unsigned>(std::max<std::size_t>(threads, 1));
  placement.pinning = pinning.pinning;
  placement.pinning_reason = pinning.reason;
  placement.caller_cpus = cpus_for(topology, slots[0], pinning.pinning, cores, pus);
  for (std::size_t i = 1; i <= num_workers; ++i) {
    const Slot& slot = slots[i % slots.size()];
    const Core& core = topology.cores()[slot.core];
    WorkerPlacement w;
    w.cpus = cpus_for(topology, slot, pinning.pinning, cores, pus);
    w.core = slot.core;
    w.numa_node = core.numa_node;
    w.l3 = core.l3;
    w.l2 = core.l2;
    w.package = core.package;
    w.core_kind = core.kind;
    w.reserved = i > num_workers - config.reserved_workers;
    placement.workers.push_back(std::move(w));
  }
  fill_steal_orders(placement.workers);
  return placement;
}

std::string Placement::describe() const {
  std::ostringstream out;
  unsigned reserved = 0;
  for (const auto& w : workers) reserved += w.reserved ? 1 : 0;
  const auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  out << "Placement: ";
  if (num_threads() > workers.size())
    out << "loops run on " << count(num_threads(), "thread") << ", the caller and "
        << count(workers.size(), "worker");
  else  // one requested thread: the single worker exists only for submitted tasks
    out << "loops run on " << count(num_threads(), "thread") << " (the caller), "
        << count(workers.size(), "worker") << " for submitted tasks";
  out << (reserved ? " (" + std::to_string(reserved) + " reserved)" : "") << ", CPU budget "
      << format_number(cpu_budget) << "\n";
  out << "  pinning " << to_string(pinning) << ": " << pinning_reason << "\n";
  constexpr std::size_t shown_steals = 8;
  auto cpus_text = [](const std::vector<unsigned>& cpus) {
    return cpus.empty() ? std::string("(unbound)") : detail::format_cpu_list(cpus);
  };
  std::size_t cpus_width = 0;  // aligns the steal lists
  for (const WorkerPlacement& w : workers) cpus_width = std::max(cpus_width, cpus_text(w.cpus).size());
  out << "  caller     cpus " << cpus_text(caller_cpus) << "\n";
  for (std::size_t i = 0; i < workers.size(); ++i) {
    const WorkerPlacement& w = workers[i];
    char head[160];
    std::snprintf(head, sizeof head,
                  "  worker %-3zu core %-3u package %-2u numa %-2u l3 %-3u l2 %-3u kind %u", i,
                  w.core, w.package, w.numa_node, w.l3, w.l2, w.core_kind);
    const std::string cpus = cpus_text(w.cpus);
    out << head << "  cpus " << cpus << std::string(cpus_width - cpus.size(), ' ');
    out << (w.reserved ? "  reserved" : "") << "  steal ";
    for (std::size_t k = 0; k < std::min(shown_steals, w.steal_order.size()); ++k)
      out << (k ? "," : "") << w.steal_order[k];
    if (w.steal_order.size() > shown_steals) out << ",...";
    if (w.steal_order.empty()) out << "-";
    out << "\n";
  }
  return out.str();
}

std::string Placement::to_json() const {
  detail::JsonWriter json;
  json.begin_object();
  json.key("num_threads");
  json.number(num_threads());
  json.key("cpu_budget");
  json.number(cpu_budget);
  json.key("pinning");
  json.string(to_string(pinning));
  json.key("pinning_reason");
  json.string(pinning_reason);
  json.key("caller_cpus");
  json.numbers(caller_cpus);
  json.key("workers");
  json.begin_array();
  for (const WorkerPlacement& w : workers) {
    json.begin_object();
    json.key("cpus");
    json.numbers(w.cpus);
    const std::pair<const char*, unsigned> places[] = {
        {"core", w.core}, {"package", w.package}, {"numa_node", w.numa_node},
        {"l3", w.l3},     {"l2", w.l2},           {"core_kind", w.core_kind}};
    for (const auto& [name, index] : places) {
      json.key(name);
      json.number(index);
    }
    json.key("reserved");
    json.boolean(w.reserved);
    json.key("steal_order");
    json.numbers(w.steal_order);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.take();
}

}  // namespace weft
