// A hybrid 8P+8E laptop read from tests/data/hybrid_8p8e.xml: hwloc's cpukinds become
// core kinds (0 = P-cores), and workers fill the P-cores before the E-cores.
// The file: P-cores 0-7 have 2 PUs each (OS ids 0-15) and a private 1.25 MB L2; E-cores
// 8-15 have 1 PU each (OS ids 16-23) and share a 2 MB L2 per cluster of 4; one L3, one
// NUMA node; its cpukind section ranks the P-cores as the more performant kind. It holds
// no comment, so hwloc's built-in XML parser reads it (the tests run with that parser).
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::threads;

const std::string xml_path = std::string(WEFT_TEST_DATA_DIR) + "/hybrid_8p8e.xml";

TEST(TopologyHybridXml, KindsFromCpukinds) {
  const Topology t = Topology::from_xml(xml_path);
  EXPECT_EQ(t.source(), "xml: " + xml_path);
  EXPECT_EQ(t.num_cores(), 16u);
  EXPECT_EQ(t.num_pus(), 24u);
  EXPECT_EQ(t.num_core_kinds(), 2u);
  EXPECT_EQ(t.num_l3(), 1u);
  EXPECT_EQ(t.num_l2(), 10u);  // 8 private P-core L2s, 2 shared by 4 E-cores each
  for (const Core& c : t.cores()) {
    const bool p_core = c.pus[0] < 16;
    EXPECT_EQ(c.kind, p_core ? 0u : 1u) << "core with PU " << c.pus[0];
    EXPECT_EQ(c.pus.size(), p_core ? 2u : 1u);
  }
  EXPECT_NE(t.describe().find("core kind 0 (most performant): 8 cores, 16 PUs"),
            std::string::npos)
      << t.describe();
}

TEST(TopologyHybridXml, WorkersFillPerformanceCoresFirst) {
  const Topology t = Topology::from_xml(xml_path);
  const Placement few = plan_placement(t, threads(8));
  for (const auto& w : few.workers) EXPECT_EQ(w.core_kind, 0u);

  const Placement all = plan_placement(t, threads(0));
  ASSERT_EQ(all.num_threads(), 16u);
  EXPECT_EQ(all.caller_cpus, (std::vector<unsigned>{0, 1}));
  for (std::size_t i = 0; i < all.workers.size(); ++i)
    EXPECT_EQ(all.workers[i].core_kind, i < 7 ? 0u : 1u) << "worker " << i;
}

TEST(TopologyHybridXml, SiblingsOfPerformanceCoresAfterAllCores) {
  Config c = threads(17);
  c.pinning = Pinning::pu;
  const Placement p = plan_placement(Topology::from_xml(xml_path), c);
  // Thread 16 (worker 15) is the first beyond one per core: the caller core's sibling.
  EXPECT_EQ(p.workers[15].cpus, std::vector<unsigned>{1});
}

TEST(TopologyHybridXml, EfficiencyCoresShareTheirL2InStealOrder) {
  const Placement p = plan_placement(Topology::from_xml(xml_path), threads(0));
  // Worker 7 is the first E-core; its nearest victims are the 3 others of its cluster.
  const auto& w = p.workers[7];
  for (unsigned k = 0; k < 3; ++k) EXPECT_EQ(p.workers[w.steal_order[k]].l2, w.l2);
  EXPECT_NE(p.workers[w.steal_order[3]].l2, w.l2);
}

}  // namespace
}  // namespace weft
