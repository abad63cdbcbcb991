// A restricted affinity mask (taskset, a container's cpuset) or a Config::cpuset: only
// the allowed PUs count, and cores with none of them are not used.
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::range;
using test::threads;

std::vector<unsigned> all_cpus(const Placement& p) {
  std::vector<unsigned> out = p.caller_cpus;
  for (const auto& w : p.workers) out.insert(out.end(), w.cpus.begin(), w.cpus.end());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TopologyRestrictedAffinity, OnlyAllowedCoresGetThreads) {
  std::vector<unsigned> allowed = range(0, 7);  // cores 0-3 of package 0
  for (unsigned pu : range(64, 71)) allowed.push_back(pu);  // cores 32-35 of package 1
  const Topology t = Topology::synthetic(test::two_socket).with_allowed_pus(allowed);
  EXPECT_EQ(t.budget().cpus(), 16.0);
  EXPECT_EQ(t.num_cores(), 64u);  // the machine is the same; the budget is smaller
  const Placement p = plan_placement(t, threads(0));
  EXPECT_EQ(p.num_threads(), 8u);
  EXPECT_EQ(p.cpu_budget, 16.0);
  EXPECT_EQ(all_cpus(p), allowed);
}

TEST(TopologyRestrictedAffinity, PartlyAllowedCoresPinToTheirAllowedPus) {
  std::vector<unsigned> even;
  for (unsigned pu = 0; pu < 16; pu += 2) even.push_back(pu);  // one PU of cores 0-7
  const Topology t = Topology::synthetic(test::two_socket).with_allowed_pus(even);
  const Placement p = plan_placement(t, threads(0));
  EXPECT_EQ(p.num_threads(), 8u);
  for (const auto& w : p.workers) EXPECT_EQ(w.cpus.size(), 1u);
  EXPECT_EQ(all_cpus(p), even);
}

TEST(TopologyRestrictedAffinity, ConfigCpusetIntersectsTheMask) {
  const Topology t = Topology::synthetic(test::two_socket).with_allowed_pus(range(0, 63));
  Config c = threads(0);
  c.cpuset = "60-70";  // 64-70 are outside the mask: only cores 30 and 31 remain
  const Placement p = plan_placement(t, c);
  EXPECT_EQ(p.num_threads(), 2u);
  EXPECT_EQ(all_cpus(p), range(60, 63));
  EXPECT_EQ(p.cpu_budget, 4.0);
}

TEST(TopologyRestrictedAffinity, PusOutsideTheMachineAreRejected) {
  const Topology t = Topology::synthetic(test::two_socket);
  EXPECT_TRUE(test::throws_with<TopologyError>([&] { t.with_allowed_pus({3, 500, 501}); },
                                               "allowed PUs 500-501 are not in the machine"));
  EXPECT_TRUE(test::throws_with<TopologyError>([&] { t.with_allowed_pus({}); }, "no allowed PU"));
}

}  // namespace
}  // namespace weft
