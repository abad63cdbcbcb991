// Every pinning mode: which cpus each worker (and the caller's slot) is bound to.
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

Placement plan(Pinning pinning) {
  Config c = test::threads(8);
  c.pinning = pinning;
  return plan_placement(Topology::synthetic(test::two_socket), c);
}

TEST(TopologyPinning, NoneLeavesThreadsUnbound) {
  const Placement p = plan(Pinning::none);
  EXPECT_TRUE(p.caller_cpus.empty());
  for (const auto& w : p.workers) EXPECT_TRUE(w.cpus.empty());
  EXPECT_NE(p.describe().find("(unbound)"), std::string::npos);
}

TEST(TopologyPinning, CoreBindsToBothSiblings) {
  const Topology t = Topology::synthetic(test::two_socket);
  const Placement p = plan(Pinning::core);
  EXPECT_EQ(p.caller_cpus, (std::vector<unsigned>{0, 1}));
  for (const auto& w : p.workers) EXPECT_EQ(w.cpus, t.cores()[w.core].pus);
}

TEST(TopologyPinning, PuBindsToOnePu) {
  const Topology t = Topology::synthetic(test::two_socket);
  const Placement p = plan(Pinning::pu);
  EXPECT_EQ(p.caller_cpus, std::vector<unsigned>{0});
  for (const auto& w : p.workers) EXPECT_EQ(w.cpus, std::vector<unsigned>{t.cores()[w.core].pus[0]});
}

TEST(TopologyPinning, NumaBindsToTheWholeNode) {
  const Placement p = plan(Pinning::numa);
  EXPECT_EQ(p.caller_cpus, test::range(0, 31));
  for (const auto& w : p.workers)
    EXPECT_EQ(w.cpus, test::range(32 * w.numa_node, 32 * w.numa_node + 31));
}

TEST(TopologyPinning, NamesRoundTrip) {
  EXPECT_STREQ(to_string(Pinning::none), "none");
  EXPECT_STREQ(to_string(Pinning::core), "core");
  EXPECT_STREQ(to_string(Pinning::pu), "pu");
  EXPECT_STREQ(to_string(Pinning::numa), "numa");
  EXPECT_STREQ(to_string(Priority::low), "low");
  EXPECT_STREQ(to_string(Priority::normal), "normal");
  EXPECT_STREQ(to_string(Priority::high), "high");
  EXPECT_STREQ(to_string(Priority::critical), "critical");
}

// The default (Config::pinning unset) pins only where this process owns its CPUs.
Placement plan_default(const Topology& t, Config c = {}) {
  c.num_threads = 8;
  return plan_placement(t, c);
}

bool unbound(const Placement& p) {
  bool all = p.caller_cpus.empty();
  for (const auto& w : p.workers) all = all && w.cpus.empty();
  return all;
}

TEST(TopologyPinningDefault, WholeMachineStaysUnbound) {
  const Placement p = plan_default(Topology::synthetic(test::two_socket));
  EXPECT_EQ(p.pinning, Pinning::none);
  EXPECT_TRUE(unbound(p));
  EXPECT_NE(p.pinning_reason.find("may run on all 128 CPUs"), std::string::npos)
      << p.pinning_reason;
  EXPECT_NE(p.describe().find("pinning none: this process may run on all 128 CPUs"),
            std::string::npos)
      << p.describe();
}

TEST(TopologyPinningDefault, QuotaAloneDoesNotPin) {
  // A quota limits CPU time, not which cores: quota-limited neighbours share every core.
  const Placement p = plan_default(Topology::synthetic(test::two_socket).with_quota(4.0));
  EXPECT_EQ(p.pinning, Pinning::none);
}

TEST(TopologyPinningDefault, NarrowerMaskPinsToCores) {
  // As under taskset, numactl or Kubernetes' static CPU manager.
  const Topology t = Topology::synthetic(test::two_socket).with_allowed_pus(test::range(16, 31));
  EXPECT_EQ(t.budget().machine_pus, 128u);
  const Placement p = plan_default(t);
  EXPECT_EQ(p.pinning, Pinning::core);
  EXPECT_EQ(p.caller_cpus, (std::vector<unsigned>{16, 17}));
  for (const auto& w : p.workers) EXPECT_EQ(w.cpus, t.cores()[w.core].pus);
  EXPECT_NE(p.pinning_reason.find("(16-31) is narrower than the machine's 128 CPUs"),
            std::string::npos)
      << p.pinning_reason;
}

TEST(TopologyPinningDefault, PartitionOrCpusetPinsToCores) {
  const Topology t = Topology::synthetic(test::two_socket);
  Config slice;
  slice.partition = Partition{1, 2};
  const Placement by_partition = plan_default(t, slice);
  EXPECT_EQ(by_partition.pinning, Pinning::core);
  EXPECT_NE(by_partition.pinning_reason.find("partition 1/2"), std::string::npos);
  EXPECT_FALSE(unbound(by_partition));
  Config cpus;
  cpus.cpuset = "0-15";
  const Placement by_cpuset = plan_default(t, cpus);
  EXPECT_EQ(by_cpuset.pinning, Pinning::core);
  EXPECT_NE(by_cpuset.pinning_reason.find("cpuset '0-15'"), std::string::npos);
}

TEST(TopologyPinningDefault, ASetFieldForcesEitherWay) {
  Config pinned;
  pinned.pinning = Pinning::core;
  const Placement forced_on = plan_default(Topology::synthetic(test::two_socket), pinned);
  EXPECT_EQ(forced_on.pinning, Pinning::core);
  EXPECT_FALSE(unbound(forced_on));
  Config loose;
  loose.pinning = Pinning::none;
  loose.partition = Partition{0, 2};
  const Placement forced_off = plan_default(Topology::synthetic(test::two_socket), loose);
  EXPECT_EQ(forced_off.pinning, Pinning::none);
  EXPECT_TRUE(unbound(forced_off));
}

TEST(TopologyPinningDefault, ParsedInAnyCase) {
  EXPECT_EQ(parse_pinning("NUMA", "WEFT_PINNING"), Pinning::numa);
  EXPECT_EQ(parse_pinning("Core", "WEFT_PINNING"), Pinning::core);
  EXPECT_TRUE(test::throws_with<ConfigError>([] { parse_pinning("socket", "WEFT_PINNING"); },
                                             "WEFT_PINNING: 'socket' is not one of none, core"));
}

}  // namespace
}  // namespace weft
