// A single-core machine: num_threads counts the caller, yet there is always one worker
// so that submitted tasks run without a waiting thread.
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::threads;

TEST(TopologySingleCore, Counts) {
  const Topology t = Topology::synthetic("core:1 pu:1");
  EXPECT_EQ(t.num_cores(), 1u);
  EXPECT_EQ(t.num_pus(), 1u);
  EXPECT_EQ(t.num_packages(), 1u);
  EXPECT_EQ(t.num_numa_nodes(), 1u);
  EXPECT_EQ(t.num_l3(), 1u);  // no L3: the package is the domain
  EXPECT_EQ(t.budget().cpus(), 1.0);
}

TEST(TopologySingleCore, AlwaysAtLeastOneWorker) {
  const Topology t = Topology::synthetic("core:1 pu:1");
  for (unsigned n : {0u, 1u, 2u}) {
    const Placement p = plan_placement(t, threads(n));
    ASSERT_EQ(p.workers.size(), 1u) << "num_threads " << n;
    EXPECT_EQ(p.caller_cpus, std::vector<unsigned>{0});
    EXPECT_EQ(p.workers[0].cpus, std::vector<unsigned>{0});  // shares the only core
    EXPECT_TRUE(p.workers[0].steal_order.empty());
    // One thread asked for (or one core): loops run on the caller alone; the worker
    // exists only so that submitted tasks run without a waiter.
    EXPECT_EQ(p.num_threads(), n == 2 ? 2u : 1u) << "num_threads " << n;
  }
}

TEST(TopologySingleCore, ExplicitThreadsOversubscribe) {
  const Placement p = plan_placement(Topology::synthetic("core:1 pu:1"), threads(3));
  ASSERT_EQ(p.workers.size(), 2u);
  EXPECT_EQ(p.workers[1].cpus, std::vector<unsigned>{0});
  EXPECT_EQ(p.workers[0].steal_order, std::vector<unsigned>{1});
}

TEST(TopologySingleCore, NoWorkerCanBeReserved) {
  Config c = threads(0);
  c.reserved_workers = 1;
  EXPECT_TRUE(test::throws_with<ConfigError>([&] { plan_placement(Topology::synthetic("core:1 pu:1"), c); },
                                             "reserved_workers: 1 leaves no worker"));
}

}  // namespace
}  // namespace weft
