// Partitions: N processes on one box each take a disjoint, contiguous slice of the
// usable cores, cut along package / NUMA / L3 boundaries where that stays balanced.
#include <set>

#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

std::vector<unsigned> cores_of(const Placement& p, const Topology& t) {
  std::set<unsigned> cores;
  for (const Core& c : t.cores())
    if (c.pus == p.caller_cpus) cores.insert(static_cast<unsigned>(&c - t.cores().data()));
  for (const auto& w : p.workers) cores.insert(w.core);
  return {cores.begin(), cores.end()};
}

Config slice(unsigned index, unsigned count) {
  Config c;
  c.partition = Partition{index, count};
  return c;
}

TEST(TopologyPartition, FourSlicesAreTheFourNumaNodes) {
  const Topology t = Topology::synthetic(test::two_socket);
  std::set<unsigned> seen;
  for (unsigned i = 0; i < 4; ++i) {
    const Placement p = plan_placement(t, slice(i, 4));
    EXPECT_EQ(p.num_threads(), 16u);
    EXPECT_EQ(p.cpu_budget, 32.0);
    const auto cores = cores_of(p, t);
    EXPECT_EQ(cores, test::range(16 * i, 16 * i + 15)) << "slice " << i;
    for (unsigned c : cores) {
      EXPECT_EQ(t.cores()[c].numa_node, i);
      EXPECT_TRUE(seen.insert(c).second) << "core " << c << " in two slices";
    }
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(TopologyPartition, TwoSlicesAreThePackages) {
  const Topology t = Topology::synthetic(test::two_socket);
  for (unsigned i = 0; i < 2; ++i)
    for (const auto& w : plan_placement(t, slice(i, 2)).workers) EXPECT_EQ(w.package, i);
}

TEST(TopologyPartition, UnevenCountsStayBalancedAndDisjoint) {
  const Topology t = Topology::synthetic(test::two_socket);
  std::set<unsigned> seen;
  for (unsigned i = 0; i < 3; ++i) {
    const auto cores = cores_of(plan_placement(t, slice(i, 3)), t);
    EXPECT_GE(cores.size(), 21u);
    EXPECT_LE(cores.size(), 22u);
    for (unsigned c : cores) EXPECT_TRUE(seen.insert(c).second);
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(TopologyPartition, NumaPinningStaysInsideTheSlice) {
  const Topology t = Topology::synthetic("pack:1 numa:1 core:8 pu:2");
  Config c = slice(1, 2);
  c.pinning = Pinning::numa;
  const Placement p = plan_placement(t, c);
  EXPECT_EQ(p.caller_cpus, test::range(8, 15));
  for (const auto& w : p.workers) EXPECT_EQ(w.cpus, test::range(8, 15));
}

TEST(TopologyPartition, ThreadCountWithinASlice) {
  Config c = slice(0, 4);
  c.num_threads = 4;
  const Placement p = plan_placement(Topology::synthetic(test::two_socket), c);
  EXPECT_EQ(p.num_threads(), 4u);
  for (const auto& w : p.workers) EXPECT_EQ(w.numa_node, 0u);
}

}  // namespace
}  // namespace weft
