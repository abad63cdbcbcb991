// cgroup cpu.stat throttling numbers from fake v1 / v2 directories.
#include <gtest/gtest.h>

#include "observe/cgroup_stats.hpp"
#include "observe/observer.hpp"
#include "temp_dir.hpp"

namespace weft::detail {
namespace {

using weft::test::TempDir;

constexpr const char* v2_stat =
    "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\nnr_periods 40\nnr_throttled 3\n"
    "throttled_usec 4500\nnr_bursts 0\nburst_usec 0\n";
constexpr const char* v1_stat = "nr_periods 10\nnr_throttled 2\nthrottled_time 123456\n";

TEST(ObserveCgroup, ReadsV2CpuStat) {
  TempDir dir;
  dir.write("cpu.stat", v2_stat);
  const auto stat = read_cpu_stat(dir.path().string());
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->nr_throttled, 3u);
  EXPECT_EQ(stat->throttled_ns, 4500u * 1000u);
}

TEST(ObserveCgroup, ReadsV1CpuStat) {
  TempDir dir;
  dir.write("cpu.stat", v1_stat);
  const auto stat = read_cpu_stat(dir.path().string());
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->nr_throttled, 2u);
  EXPECT_EQ(stat->throttled_ns, 123456u);
}

TEST(ObserveCgroup, MissingOrIncompleteIsUnavailable) {
  TempDir dir;
  EXPECT_FALSE(read_cpu_stat(dir.path().string()).has_value());
  EXPECT_FALSE(read_cpu_stat((dir.path() / "nope").string()).has_value());
  dir.write("cpu.stat", "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n");  // v2 root
  EXPECT_FALSE(read_cpu_stat(dir.path().string()).has_value());
  dir.write("cpu.stat", "nr_throttled x\nthrottled_usec 5\n");
  EXPECT_FALSE(read_cpu_stat(dir.path().string()).has_value());
}

TEST(ObserveCgroup, V2FindsTheCgroupThatSetsTheQuota) {
  TempDir root;
  root.write("cgroup.controllers", "cpu memory\n");
  root.write("pod/cpu.max", "50000 100000\n");
  root.write("pod/cpu.stat", v2_stat);
  root.write("pod/app/cpu.max", "max 100000\n");
  root.write("pod/app/cpu.stat", v2_stat);
  const auto dir = find_cpu_stat_dir(root.path().string(), "0::/pod/app\n");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, (root.path() / "pod").string());
}

TEST(ObserveCgroup, V2WithoutQuotaUsesItsOwnCgroup) {
  TempDir root;
  root.write("cgroup.controllers", "cpu\n");
  root.write("app/cpu.stat", v2_stat);
  const auto dir = find_cpu_stat_dir(root.path().string(), "0::/app\n");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, (root.path() / "app").string());
}

TEST(ObserveCgroup, V1UsesTheCpuControllerMount) {
  TempDir root;
  root.write("cpu,cpuacct/job/cpu.stat", v1_stat);
  root.write("cpu,cpuacct/job/cpu.cfs_quota_us", "200000\n");
  root.write("cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
  const auto dir =
      find_cpu_stat_dir(root.path().string(), "4:memory:/job\n2:cpu,cpuacct:/job\n0::/\n");
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, (root.path() / "cpu,cpuacct" / "job").string());
}

TEST(ObserveCgroup, NoCgroupIsUnavailable) {
  TempDir root;
  EXPECT_FALSE(find_cpu_stat_dir(root.path().string(), "0::/\n").has_value());
  EXPECT_FALSE(find_cpu_stat_dir(root.path().string(), "").has_value());
}

TEST(ObserveCgroup, ObserverReportsThrottlingDuringTheWindow) {
  TempDir dir;
  dir.write("cpu.stat", v1_stat);
  Placement placement;
  placement.workers.resize(2);
  ObserveOptions options;
  options.cgroup_dir = dir.path().string();
  Observer observer(placement, options, 0);
  dir.write("cpu.stat", "nr_periods 20\nnr_throttled 7\nthrottled_time 200000\n");
  const Metrics m = observer.metrics({}, 100);
  EXPECT_EQ(m.throttled_periods, std::optional<std::uint64_t>(5));
  EXPECT_EQ(m.throttled_ns, std::optional<std::uint64_t>(200000 - 123456));
  observer.reset(100);
  EXPECT_EQ(observer.metrics({}, 200).throttled_periods, std::optional<std::uint64_t>(0));
}

TEST(ObserveCgroup, ObserverWithoutCpuStatSaysUnavailable) {
  TempDir dir;
  Placement placement;
  placement.workers.resize(1);
  ObserveOptions options;
  options.cgroup_dir = (dir.path() / "missing").string();
  Observer observer(placement, options, 0);
  const Metrics m = observer.metrics({}, 10);
  EXPECT_FALSE(m.throttled_periods.has_value());
  EXPECT_FALSE(m.throttled_ns.has_value());
}

}  // namespace
}  // namespace weft::detail
