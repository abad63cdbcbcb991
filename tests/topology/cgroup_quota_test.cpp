// cgroup CPU quotas from fake cgroup directories (v2 cpu.max, v1 cfs files): 1.5 CPUs
// of quota give 2 threads (caller + 1 worker).
#include "topology/cpu_budget.hpp"
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using detail::read_cgroup_dir_quota;
using detail::read_cgroup_quota;
using test::TempDir;

TEST(TopologyCgroupQuota, V2CpuMax) {
  TempDir dir;
  dir.write("cpu.max", "150000 100000\n");
  EXPECT_EQ(read_cgroup_dir_quota(dir.path().string()), 1.5);
  dir.write("cpu.max", "max 100000\n");
  EXPECT_EQ(read_cgroup_dir_quota(dir.path().string()), std::nullopt);
}

TEST(TopologyCgroupQuota, V1CfsQuota) {
  TempDir dir;
  dir.write("cpu.cfs_quota_us", "150000\n");
  dir.write("cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(read_cgroup_dir_quota(dir.path().string()), 1.5);
  dir.write("cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(read_cgroup_dir_quota(dir.path().string()), std::nullopt);
}

TEST(TopologyCgroupQuota, NoFilesMeansNoQuota) {
  TempDir dir;
  EXPECT_EQ(read_cgroup_dir_quota(dir.path().string()), std::nullopt);
  EXPECT_EQ(read_cgroup_dir_quota((dir.path() / "missing").string()), std::nullopt);
}

TEST(TopologyCgroupQuota, MalformedFilesFailLoudly) {
  TempDir dir;
  dir.write("cpu.max", "lots\n");
  EXPECT_TRUE(test::throws_with<TopologyError>(
      [&] { read_cgroup_dir_quota(dir.path().string()); },
      "cgroup: '" + (dir.path() / "cpu.max").string() + "' holds 'lots'"));
  TempDir v1;
  v1.write("cpu.cfs_quota_us", "150000\n");
  v1.write("cpu.cfs_period_us", "0\n");
  EXPECT_TRUE(test::throws_with<TopologyError>([&] { read_cgroup_dir_quota(v1.path().string()); },
                                               "cpu.cfs_period_us' holds '0'"));
}

TEST(TopologyCgroupQuota, V2TightestOfOwnAndParentCgroups) {
  TempDir root;
  root.write("cgroup.controllers", "cpu memory\n");
  root.write("kubepods/cpu.max", "150000 100000\n");
  root.write("kubepods/pod1/cpu.max", "max 100000\n");
  root.write("kubepods/pod1/ctr/cpu.max", "400000 100000\n");
  EXPECT_EQ(read_cgroup_quota(root.path().string(), "0::/kubepods/pod1/ctr\n"), 1.5);
  // In a cgroup namespace the recorded path is not below the mount: the mount is ours.
  root.write("cpu.max", "250000 100000\n");
  EXPECT_EQ(read_cgroup_quota(root.path().string(), "0::/elsewhere/ctr\n"), 2.5);
}

TEST(TopologyCgroupQuota, V1ResolvedThroughProcSelfCgroup) {
  TempDir root;
  root.write("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n");
  root.write("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  root.write("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  root.write("memory/docker/abc/memory.limit_in_bytes", "1\n");
  const std::string self = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
  EXPECT_EQ(read_cgroup_quota(root.path().string(), self), 1.5);
}

TEST(TopologyCgroupQuota, ProbeReadsInjectedCgroupDirectory) {
  for (const bool v2 : {true, false}) {
    TempDir dir;
    if (v2) {
      dir.write("cpu.max", "150000 100000\n");
    } else {
      dir.write("cpu.cfs_quota_us", "150000\n");
      dir.write("cpu.cfs_period_us", "100000\n");
    }
    ProbeOptions options;
    options.cgroup_root = dir.path().string();
    options.resolve_self = false;
    const Topology t = Topology::probe(options);
    EXPECT_EQ(t.budget().quota, 1.5) << (v2 ? "v2" : "v1");
    EXPECT_LE(t.budget().cpus(), 1.5);
  }
}

TEST(TopologyCgroupQuota, OneAndAHalfCpusGiveTwoThreads) {
  const Topology t = Topology::synthetic(test::two_socket).with_quota(1.5);
  const Placement p = plan_placement(t, test::threads(0));
  EXPECT_EQ(p.num_threads(), 2u);
  EXPECT_EQ(p.workers.size(), 1u);
  EXPECT_EQ(p.cpu_budget, 1.5);
  // An explicit thread count is the user's choice, quota or not.
  EXPECT_EQ(plan_placement(t, test::threads(6)).num_threads(), 6u);
  // A quota below one CPU: loops run on the caller alone, and one worker still exists
  // so that submitted tasks run without a waiter.
  const Placement half = plan_placement(t.with_quota(0.5), test::threads(0));
  EXPECT_EQ(half.num_threads(), 1u);
  EXPECT_EQ(half.workers.size(), 1u);
}

TEST(TopologyCgroupQuota, NonPositiveQuotaIsRejected) {
  const Topology t = Topology::synthetic("core:2 pu:1");
  EXPECT_TRUE(test::throws_with<TopologyError>([&] { t.with_quota(0.0); },
                                               "is not a positive number of CPUs"));
}

}  // namespace
}  // namespace weft
