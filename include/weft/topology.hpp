// What the machine looks like (Topology) and where each worker goes (Placement).
//
// Both are plain values: tests build them from hwloc synthetic descriptions or XML
// files without running threads, and the scheduler only consumes a Placement.
// hwloc itself stays inside one source file; nothing here mentions it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "weft/config.hpp"
#include "weft/export.hpp"

namespace weft {

// Raised when the machine cannot be read or reads as inconsistent (no cores, an
// allowed set outside the machine, an unreadable XML file, a malformed synthetic
// description). Derives from ConfigError because the bad input is usually ours to fix.
class WEFT_EXPORT TopologyError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// One physical core. Indices are logical (0..n-1 in topology order), not OS ids.
struct Core {
  unsigned package = 0;
  unsigned numa_node = 0;
  unsigned l3 = 0;         // L3 cache domain (the package when there is no L3)
  unsigned l2 = 0;         // L2 cache domain (the core when there is no L2)
  unsigned kind = 0;       // 0 = most performant kind (P-cores), higher = more efficient
  std::vector<unsigned> pus;  // OS processor ids of its hardware threads
};

// Where the process's CPU budget comes from.
struct WEFT_EXPORT CpuBudget {
  std::vector<unsigned> allowed_pus;  // OS ids in the affinity mask (and cpuset cgroup)
  std::optional<double> quota;        // cgroup CPU quota in CPUs (1.5 = 150 ms per 100 ms)
  // PUs the whole machine has online. More than allowed_pus: this process was given a
  // part of the machine (taskset, numactl, a container's cpuset), so it may pin there.
  // 0 when building a Topology: taken as the topology's own PU count.
  std::size_t machine_pus = 0;
  double cpus() const;                // min(allowed_pus.size(), quota)
};

struct ProbeOptions {
  // Where the cgroup filesystem is mounted; tests point this at a fake directory.
  std::string cgroup_root = "/sys/fs/cgroup";
  // Read /proc/self/cgroup to find this process's cgroup below cgroup_root. When false,
  // cgroup_root is taken to be this process's own cgroup directory.
  bool resolve_self = true;
};

class WEFT_EXPORT Topology {
 public:
  // Reads this machine: hwloc topology restricted to the affinity mask, plus the cgroup
  // quota. Raises TopologyError saying what went wrong; never falls back silently.
  static Topology probe(const ProbeOptions& options = {});
  // An hwloc synthetic description, e.g. "pack:2 numa:2 l3:2 core:8 pu:2".
  static Topology synthetic(const std::string& description);
  // An hwloc XML export (lstopo machine.xml), including cpukinds for hybrid CPUs.
  static Topology from_xml(const std::string& path);

  unsigned num_packages() const { return num_packages_; }
  unsigned num_numa_nodes() const { return num_numa_nodes_; }
  unsigned num_l3() const { return num_l3_; }
  unsigned num_l2() const { return num_l2_; }
  unsigned num_cores() const { return static_cast<unsigned>(cores_.size()); }
  unsigned num_pus() const;
  unsigned num_core_kinds() const { return num_core_kinds_; }
  const std::vector<Core>& cores() const { return cores_; }
  const CpuBudget& budget() const { return budget_; }
  const std::string& source() const { return source_; }  // "probe", "synthetic: ...", "xml: ..."

  // The same machine under another affinity mask or quota: what a container or a
  // taskset'ed process sees. Raises TopologyError when a PU is not in the machine.
  Topology with_allowed_pus(std::vector<unsigned> pus) const;
  Topology with_quota(std::optional<double> cpus) const;

  // A readable multi-line summary: counts, core kinds, budget, one line per package.
  std::string describe() const;

  // Builds a topology from parts; checks consistency (raises TopologyError).
  Topology(std::vector<Core> cores, CpuBudget budget, std::string source);
  Topology() = default;

 private:
  std::vector<Core> cores_;
  CpuBudget budget_;
  std::string source_;
  unsigned num_packages_ = 0, num_numa_nodes_ = 0, num_l3_ = 0, num_l2_ = 0,
           num_core_kinds_ = 0;
};

// Where one worker thread runs.
struct WorkerPlacement {
  std::vector<unsigned> cpus;  // OS processor ids the worker is bound to (empty: unbound)
  unsigned core = 0, numa_node = 0, l3 = 0, l2 = 0, package = 0;  // logical indices
  unsigned core_kind = 0;      // 0 = most performant kind
  bool reserved = false;       // runs only high/critical work
  // A background worker (Config::background_workers): runs only low work, at the OS's
  // idle class. plan_placement never makes one; the Scheduler adds them after the
  // placement's workers (Metrics rows and trace tracks show them with this set).
  bool background = false;
  std::vector<unsigned> steal_order;  // the other workers, nearest first
};

struct WEFT_EXPORT Placement {
  std::vector<WorkerPlacement> workers;  // the threads weft creates: num_threads - 1 (>= 1)
  std::vector<unsigned> caller_cpus;     // the core left for the thread that calls into weft
  double cpu_budget = 0;                 // CPUs this process may use
  Pinning pinning = Pinning::none;       // how the threads are bound (Config::pinning's rule)
  std::string pinning_reason;            // why, in words (weft-probe prints it)
  // Threads a parallel loop runs on, the caller included: workers + 1, except that one
  // requested thread (num_threads = 1, or a one-core budget) means loops run on the
  // caller alone while the single worker still runs submitted tasks.
  unsigned loop_threads = 0;  // 0: workers.size() + 1 (a hand-made placement)
  unsigned num_threads() const {
    return loop_threads != 0 ? loop_threads : static_cast<unsigned>(workers.size()) + 1;
  }
  std::string describe() const;          // one line per worker
  std::string to_json() const;
};

// Decides which worker runs where. Pure: the same inputs give the same placement.
// Raises ConfigError for a bad config (naming the field and value).
WEFT_EXPORT Placement plan_placement(const Topology& topology, const Config& config);

// Parses "0-3,8,10-11" into sorted, unique ids. Raises ConfigError naming `field`.
WEFT_EXPORT std::vector<unsigned> parse_cpu_list(const std::string& text, const std::string& field);

}  // namespace weft
