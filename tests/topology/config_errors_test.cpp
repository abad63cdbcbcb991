// Every bad input fails loudly with a message that names the field and the value.
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::throws_with;

const Topology& machine() {
  static const Topology t = Topology::synthetic(test::two_socket);
  return t;
}

TEST(TopologyConfigErrors, CpusetIsNotACpuList) {
  Config c;
  c.cpuset = "0-";
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); },
                                       "Config::cpuset: '0-' is not a CPU list"));
}

TEST(TopologyConfigErrors, CpusetWithNoAllowedCpu) {
  Config c;
  c.cpuset = "200-300";
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); },
                                       "Config::cpuset: '200-300' holds no CPU this process may use"));
  // Also when the CPUs exist but the mask excludes them.
  c.cpuset = "0-3";
  EXPECT_TRUE(throws_with<ConfigError>(
      [&] { plan_placement(machine().with_allowed_pus(test::range(64, 127)), c); },
      "Config::cpuset: '0-3' holds no CPU"));
}

TEST(TopologyConfigErrors, PartitionOutOfRange) {
  Config c;
  c.partition = Partition{4, 4};
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); }, "Config::partition: 4/4"));
  c.partition = Partition{0, 0};
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); }, "Config::partition: 0/0"));
  c.partition = Partition{0, 65};
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); },
                                       "Config::partition: 0/65 asks for 65 slices but only 64 cores"));
}

TEST(TopologyConfigErrors, ReservedWorkersLeaveNone) {
  Config c = test::threads(4);  // 3 workers
  c.reserved_workers = 3;
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); },
                                       "Config::reserved_workers: 3 leaves no worker"));
  c.reserved_workers = 2;
  EXPECT_NO_THROW(plan_placement(machine(), c));
}

TEST(TopologyConfigErrors, AbsurdThreadCount) {
  EXPECT_TRUE(throws_with<ConfigError>([] { plan_placement(machine(), test::threads(4000000)); },
                                       "Config::num_threads: 4000000 is more than 64 threads per usable PU"));
}

TEST(TopologyConfigErrors, PinningOutOfRange) {
  Config c;
  c.pinning = static_cast<Pinning>(42);
  EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine(), c); }, "Config::pinning: 42"));
}

TEST(TopologyConfigErrors, MalformedSynthetic) {
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic("pack:two core:4"); },
                                         "synthetic topology 'pack:two core:4' is malformed"));
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic(""); }, "is empty"));
}

TEST(TopologyConfigErrors, UnreadableXml) {
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::from_xml("/nonexistent/machine.xml"); },
                                         "XML topology '/nonexistent/machine.xml' cannot be read"));
  test::TempDir dir;
  dir.write("bad.xml", "this is not XML\n");
  const std::string bad = (dir.path() / "bad.xml").string();
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(bad); },
                                         "XML topology '" + bad + "' is not a valid hwloc XML"));
}

TEST(TopologyConfigErrors, InconsistentHandBuiltTopology) {
  CpuBudget budget;
  budget.allowed_pus = {0};
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology({}, budget, "test"); },
                                         "test: the machine has no cores"));
  Core core;
  core.pus = {0, 1};
  budget.allowed_pus = {0, 7};
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology({core}, budget, "test"); },
                                         "test: allowed PUs 7 are not in the machine"));
  budget.allowed_pus = {0};
  core.numa_node = 3;
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology({core}, budget, "test"); },
                                         "NUMA node indices are not 0..0"));
}

TEST(TopologyConfigErrors, EmptyTopology) {
  EXPECT_TRUE(throws_with<TopologyError>([] { plan_placement(Topology{}, Config{}); },
                                         "the topology has no cores"));
}

TEST(TopologyConfigErrors, TopologyErrorIsAConfigError) {
  EXPECT_TRUE(throws_with<ConfigError>([] { Topology::synthetic("nonsense"); }, "nonsense"));
}

}  // namespace
}  // namespace weft
