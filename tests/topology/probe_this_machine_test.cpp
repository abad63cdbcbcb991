// Topology::probe on the machine running the tests: it works, is self-consistent, and
// plans a usable placement. Asserts only what holds on any Linux box.
#include "topology/cpu_budget.hpp"
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

TEST(TopologyProbe, ReadsThisMachine) {
  const Topology t = Topology::probe();
  EXPECT_EQ(t.source(), "probe");
  EXPECT_GE(t.num_cores(), 1u);
  EXPECT_GE(t.num_pus(), t.num_cores());
  EXPECT_GE(t.num_packages(), 1u);
  EXPECT_GE(t.num_numa_nodes(), 1u);
  EXPECT_GE(t.num_core_kinds(), 1u);
  EXPECT_GT(t.budget().cpus(), 0.0);
  EXPECT_NE(t.describe().find("Machine (probe)"), std::string::npos);
}

TEST(TopologyProbe, AllowedPusAreTheAffinityMask) {
  const Topology t = Topology::probe();
  const std::vector<unsigned> mask = detail::read_affinity_mask();
  // Restricted like tbbbind: every PU of the probed machine is one the process may use.
  EXPECT_EQ(t.budget().allowed_pus.size(), t.num_pus());
  for (unsigned pu : t.budget().allowed_pus)
    EXPECT_TRUE(std::binary_search(mask.begin(), mask.end(), pu)) << pu;
}

TEST(TopologyProbe, IsStable) {
  const Topology a = Topology::probe();
  const Topology b = Topology::probe();
  ASSERT_EQ(a.num_cores(), b.num_cores());
  for (unsigned i = 0; i < a.num_cores(); ++i) EXPECT_EQ(a.cores()[i].pus, b.cores()[i].pus);
}

TEST(TopologyProbe, DefaultPlacementFitsTheBudget) {
  const Topology t = Topology::probe();
  const Placement p = plan_placement(t, Config{});
  EXPECT_GE(p.workers.size(), 1u);
  EXPECT_LE(p.num_threads(), std::max(2u, t.num_cores()));
  EXPECT_EQ(p.cpu_budget, t.budget().cpus());
  for (const auto& w : p.workers)
    for (unsigned cpu : w.cpus)
      EXPECT_TRUE(std::binary_search(t.budget().allowed_pus.begin(),
                                     t.budget().allowed_pus.end(), cpu));
}

}  // namespace
}  // namespace weft
