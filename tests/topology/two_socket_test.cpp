// A 2-package server ("pack:2 numa:2 l3:2 core:8 pu:2"): counts, thread count, spreading
// across domains, SMT and oversubscription order, steal order by distance.
#include <algorithm>
#include <set>

#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::threads;
using test::two_socket;

unsigned distance_class(const WorkerPlacement& a, const WorkerPlacement& b) {
  if (a.core == b.core) return 0;
  if (a.l2 == b.l2) return 1;
  if (a.l3 == b.l3) return 2;
  if (a.numa_node == b.numa_node) return 3;
  if (a.package == b.package) return 4;
  return 5;
}

TEST(TopologyTwoSocket, Counts) {
  const Topology t = Topology::synthetic(two_socket);
  EXPECT_EQ(t.num_packages(), 2u);
  EXPECT_EQ(t.num_numa_nodes(), 4u);
  EXPECT_EQ(t.num_l3(), 8u);
  EXPECT_EQ(t.num_l2(), 64u);  // no L2 in the description: each core is its own domain
  EXPECT_EQ(t.num_cores(), 64u);
  EXPECT_EQ(t.num_pus(), 128u);
  EXPECT_EQ(t.num_core_kinds(), 1u);
  EXPECT_EQ(t.budget().allowed_pus.size(), 128u);
  EXPECT_FALSE(t.budget().quota.has_value());
  EXPECT_EQ(t.source(), std::string("synthetic: ") + two_socket);
  // Topology order nests: 16 cores per NUMA node, 8 per L3, 2 PUs per core.
  for (unsigned i = 0; i < t.num_cores(); ++i) {
    const Core& c = t.cores()[i];
    EXPECT_EQ(c.package, i / 32);
    EXPECT_EQ(c.numa_node, i / 16);
    EXPECT_EQ(c.l3, i / 8);
    EXPECT_EQ(c.pus.size(), 2u);
  }
  EXPECT_NE(t.describe().find("2 package(s), 4 NUMA node(s), 8 L3"), std::string::npos)
      << t.describe();
}

TEST(TopologyTwoSocket, ZeroThreadsMeansOnePerCoreWithoutSmt) {
  const Topology t = Topology::synthetic(two_socket);
  const Placement p = plan_placement(t, threads(0));
  EXPECT_EQ(p.num_threads(), 64u);
  ASSERT_EQ(p.workers.size(), 63u);
  EXPECT_EQ(p.cpu_budget, 128.0);
  std::set<unsigned> cores{0};  // the caller's core comes first in placement order
  EXPECT_EQ(p.caller_cpus, (std::vector<unsigned>{0, 1}));
  for (const auto& w : p.workers) {
    EXPECT_TRUE(cores.insert(w.core).second) << "two threads on core " << w.core;
    EXPECT_EQ(w.cpus, t.cores()[w.core].pus);  // pinning core: both siblings
    EXPECT_FALSE(w.reserved);
  }
  EXPECT_EQ(cores.size(), 64u);
}

TEST(TopologyTwoSocket, UseSmtGivesOneThreadPerPu) {
  Config c = threads(0);
  c.use_smt = true;
  c.pinning = Pinning::pu;
  const Placement p = plan_placement(Topology::synthetic(two_socket), c);
  EXPECT_EQ(p.num_threads(), 128u);
  std::set<unsigned> pus(p.caller_cpus.begin(), p.caller_cpus.end());
  for (const auto& w : p.workers) {
    ASSERT_EQ(w.cpus.size(), 1u);
    EXPECT_TRUE(pus.insert(w.cpus[0]).second);
  }
  EXPECT_EQ(pus.size(), 128u);
}

TEST(TopologyTwoSocket, FewThreadsSpreadEvenlyAcrossDomains) {
  const Topology t = Topology::synthetic(two_socket);
  // 8 threads: one per L3 domain, hence 2 per NUMA node and 4 per package.
  const Placement p = plan_placement(t, threads(8));
  std::vector<unsigned> per_l3(8), per_numa(4), per_package(2);
  auto count = [&](unsigned core) {
    ++per_l3[t.cores()[core].l3];
    ++per_numa[t.cores()[core].numa_node];
    ++per_package[t.cores()[core].package];
  };
  count(0);  // the caller
  for (const auto& w : p.workers) count(w.core);
  EXPECT_EQ(per_l3, std::vector<unsigned>(8, 1));
  EXPECT_EQ(per_numa, std::vector<unsigned>(4, 2));
  EXPECT_EQ(per_package, std::vector<unsigned>(2, 4));
  // Any prefix is spread too: the first worker goes to the other package.
  EXPECT_EQ(p.workers[0].package, 1u);
}

TEST(TopologyTwoSocket, CompactWithinAnL3Domain) {
  const Topology t = Topology::synthetic(two_socket);
  // 16 threads: 2 per L3, and the two of an L3 are neighbouring cores.
  const Placement p = plan_placement(t, threads(16));
  std::vector<std::vector<unsigned>> by_l3(8);
  by_l3[0].push_back(0);
  for (const auto& w : p.workers) by_l3[w.l3].push_back(w.core);
  for (unsigned l3 = 0; l3 < 8; ++l3) {
    ASSERT_EQ(by_l3[l3].size(), 2u) << "L3 " << l3;
    std::sort(by_l3[l3].begin(), by_l3[l3].end());
    EXPECT_EQ(by_l3[l3][0], l3 * 8);
    EXPECT_EQ(by_l3[l3][1], l3 * 8 + 1);
  }
}

TEST(TopologyTwoSocket, StealOrderNearestFirst) {
  const Placement p = plan_placement(Topology::synthetic(two_socket), threads(0));
  for (unsigned i = 0; i < p.workers.size(); ++i) {
    const auto& order = p.workers[i].steal_order;
    ASSERT_EQ(order.size(), p.workers.size() - 1);
    EXPECT_EQ(std::count(order.begin(), order.end(), i), 0);
    for (std::size_t k = 1; k < order.size(); ++k) {
      const unsigned prev = distance_class(p.workers[i], p.workers[order[k - 1]]);
      const unsigned next = distance_class(p.workers[i], p.workers[order[k]]);
      EXPECT_LE(prev, next) << "worker " << i << " position " << k;
      if (prev == next) {
        EXPECT_LT(order[k - 1], order[k]) << "ties go by index";
      }
    }
  }
  // Every class shows up for a worker in the middle of a package: its L3 (7 other
  // workers, or 6 in the caller's L3), its NUMA node, its package, the other package.
  const WorkerPlacement& w = p.workers[0];
  std::vector<unsigned> classes;
  for (unsigned j : w.steal_order) classes.push_back(distance_class(w, p.workers[j]));
  EXPECT_EQ(std::count(classes.begin(), classes.end(), 2u), 7);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), 3u), 8);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), 4u), 16);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), 5u), 31);  // the caller's package
  EXPECT_EQ(classes.front(), 2u);
  EXPECT_EQ(classes.back(), 5u);
}

TEST(TopologyTwoSocket, MoreThreadsThanCoresWrapOntoSiblingsThenOversubscribe) {
  const Topology t = Topology::synthetic(two_socket);
  Config c = threads(200);
  c.pinning = Pinning::pu;
  const Placement p = plan_placement(t, c);
  ASSERT_EQ(p.workers.size(), 199u);
  // Threads 0..63 take the first PU of each core, 64..127 the second, then the order
  // repeats: thread 128 shares the caller's PU.
  std::set<unsigned> first_lap;
  for (unsigned i = 1; i < 128; ++i) {
    const auto& w = p.workers[i - 1];
    ASSERT_EQ(w.cpus.size(), 1u);
    EXPECT_EQ(w.cpus[0] == t.cores()[w.core].pus[1], i >= 64) << "thread " << i;
    first_lap.insert(w.cpus[0]);
  }
  first_lap.insert(p.caller_cpus[0]);
  EXPECT_EQ(first_lap.size(), 128u);
  EXPECT_EQ(p.workers[127].cpus, p.caller_cpus);
  EXPECT_EQ(p.workers[128].cpus, p.workers[0].cpus);
}

TEST(TopologyTwoSocket, PlanningIsDeterministic) {
  const Topology t = Topology::synthetic(two_socket);
  EXPECT_EQ(plan_placement(t, threads(12)).to_json(), plan_placement(t, threads(12)).to_json());
}

TEST(TopologyTwoSocket, DescribeAndJsonNameEveryWorker) {
  Config c = threads(4);
  c.reserved_workers = 1;
  const Placement p = plan_placement(Topology::synthetic(two_socket), c);
  const std::string text = p.describe();
  EXPECT_NE(text.find("loops run on 4 threads, the caller and 3 workers (1 reserved)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pinning core: Config::pinning"), std::string::npos) << text;
  EXPECT_NE(text.find("worker 2"), std::string::npos) << text;
  EXPECT_TRUE(p.workers[2].reserved);
  EXPECT_FALSE(p.workers[1].reserved);
  const std::string json = p.to_json();
  EXPECT_EQ(json.rfind("{\"num_threads\":4,\"cpu_budget\":128,\"pinning\":\"core\",", 0), 0u)
      << json;
  EXPECT_NE(json.find("\"reserved\":true"), std::string::npos);
}

}  // namespace
}  // namespace weft
