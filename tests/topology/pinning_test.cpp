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

}  // namespace
}  // namespace weft
