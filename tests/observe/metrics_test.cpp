// build_metrics (windows, totals, imbalance, optional fields) and the Metrics
// exporters: to_json parses back with nlohmann/json, to_string has a row per worker.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "observe/metrics_builder.hpp"
#include "weft/metrics.hpp"

namespace weft::detail {

using json = nlohmann::json;

namespace {

WorkerSample busy_worker(std::uint64_t busy, std::uint64_t spin, std::uint64_t parked) {
  WorkerSample s;
  s.counters.time_ns = {busy, spin, parked};
  return s;
}

Metrics two_workers() {
  MetricsSample baseline{100, {WorkerSample{}, WorkerSample{}}, CpuStat{5, 1000}};
  MetricsSample current{1100, {busy_worker(100, 400, 500), busy_worker(300, 0, 700)}, CpuStat{7, 4000}};
  current.workers[0].counters.tasks_run = {1, 2, 3, 4};
  current.workers[0].counters.steals_attempted = 9;
  current.workers[0].counters.steals_succeeded = 2;
  current.workers[0].counters.steals_by_distance = {1, 0, 1};
  current.workers[0].counters.last_cpu = 6;
  current.workers[1].counters.loop_chunks = 11;
  current.workers[1].counters.spin_cut_ns = 250;
  current.workers[1].counters.spin_extended_ns = 4000;
  current.workers[0].counters.steps_aside = 3;
  current.workers[1].counters.pulls = 5;
  current.workers[0].switches = ContextSwitches{10, 2};
  current.workers[1].switches = ContextSwitches{4, 1};
  baseline.workers[1].switches = ContextSwitches{1, 1};
  return build_metrics(baseline, current, {{0, 0}, {4, 1}}, 2.5, {{0, 1, 0, 0}, {0, 0, 0, 3}});
}

TEST(ObserveMetrics, WindowTotalsAndPlacement) {
  const Metrics m = two_workers();
  EXPECT_EQ(m.window_ns, 1000u);
  EXPECT_DOUBLE_EQ(m.cpu_budget, 2.5);
  ASSERT_EQ(m.workers.size(), 2u);
  EXPECT_EQ(m.workers[1].worker, 1);
  EXPECT_EQ(m.workers[1].core, 4);
  EXPECT_EQ(m.workers[1].numa_node, 1);
  EXPECT_EQ(m.workers[0].last_cpu, 6);
  EXPECT_EQ(m.workers[0].tasks_total(), 10u);
  EXPECT_EQ(m.totals.tasks_total(), 10u);
  EXPECT_EQ(m.totals.loop_chunks, 11u);
  EXPECT_EQ(m.totals.steals_remote, 1u);
  EXPECT_EQ(m.totals.busy_ns, 400u);
  EXPECT_EQ(m.totals.busy_ns + m.totals.spinning_ns + m.totals.parked_ns, 2 * m.window_ns);
  EXPECT_EQ(m.totals.queue_depth[1], 1u);
  EXPECT_EQ(m.totals.queue_depth[3], 3u);
  EXPECT_EQ(m.spin_cut_ns, 250u);
  EXPECT_EQ(m.spin_extended_ns, 4000u);
  EXPECT_EQ(m.steps_aside, 3u);
  EXPECT_EQ(m.stragglers_pulled, 5u);
  EXPECT_EQ(m.totals.worker, -1);
  EXPECT_EQ(m.totals.core, -1);
}

TEST(ObserveMetrics, ImbalanceIsMaxOverMeanBusy) {
  EXPECT_DOUBLE_EQ(two_workers().imbalance, 300.0 / 200.0);
  const Metrics idle = build_metrics({0, {WorkerSample{}}, {}}, {10, {busy_worker(0, 0, 10)}, {}}, {}, 1);
  EXPECT_DOUBLE_EQ(idle.imbalance, 1.0);
}

TEST(ObserveMetrics, ThrottlingIsADeltaOrUnavailable) {
  const Metrics m = two_workers();
  ASSERT_TRUE(m.throttled_periods.has_value());
  EXPECT_EQ(*m.throttled_periods, 2u);
  EXPECT_EQ(*m.throttled_ns, 3000u);
  const Metrics none = build_metrics({0, {}, {}}, {10, {}, CpuStat{1, 1}}, {}, 1);
  EXPECT_FALSE(none.throttled_periods.has_value());
  EXPECT_FALSE(none.throttled_ns.has_value());
}

TEST(ObserveMetrics, OptionalCountersCountFromZeroWhenTheyAppearInTheWindow) {
  const Metrics m = two_workers();
  EXPECT_EQ(m.workers[0].voluntary_switches, std::optional<std::uint64_t>(10));  // no baseline
  EXPECT_EQ(m.workers[1].voluntary_switches, std::optional<std::uint64_t>(3));
  EXPECT_EQ(m.workers[1].involuntary_switches, std::optional<std::uint64_t>(0));
  EXPECT_EQ(m.totals.voluntary_switches, std::optional<std::uint64_t>(13));
  // Hardware counters unavailable everywhere: nullopt, totals too.
  EXPECT_FALSE(m.workers[0].instructions.has_value());
  EXPECT_FALSE(m.totals.cache_misses.has_value());
}

TEST(ObserveMetrics, TotalsOfAnOptionalNeedEveryWorker) {
  MetricsSample current{10, {WorkerSample{}, WorkerSample{}}, {}};
  current.workers[0].hardware = HardwareCounts{10, 1, 100};
  const Metrics m = build_metrics({0, {}, {}}, current, {}, 1);
  EXPECT_EQ(m.workers[0].instructions, std::optional<std::uint64_t>(100));
  EXPECT_FALSE(m.workers[1].instructions.has_value());
  EXPECT_FALSE(m.totals.instructions.has_value());
}

TEST(ObserveMetrics, ToJsonParsesAndCarriesTheNumbers) {
  const Metrics m = two_workers();
  const json doc = json::parse(m.to_json());
  EXPECT_EQ(doc.at("window_ns").get<double>(), 1000.0);
  EXPECT_EQ(doc.at("cpu_budget").get<double>(), 2.5);
  EXPECT_EQ(doc.at("throttled_periods").get<double>(), 2.0);
  EXPECT_EQ(doc.at("imbalance").get<double>(), 1.5);
  const auto& workers = doc.at("workers");
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].at("tasks_run").at("critical").get<double>(), 4.0);
  EXPECT_EQ(workers[0].at("tasks_total").get<double>(), 10.0);
  EXPECT_TRUE(workers[0].at("instructions").is_null());
  EXPECT_EQ(workers[1].at("core").get<double>(), 4.0);
  EXPECT_EQ(workers[1].at("queue_depth").at("critical").get<double>(), 3.0);
  EXPECT_EQ(doc.at("totals").at("voluntary_switches").get<double>(), 13.0);
  EXPECT_EQ(doc.at("totals").at("worker").get<double>(), -1.0);
}

TEST(ObserveMetrics, ToJsonWritesNullForUnavailableHealth) {
  const Metrics m = build_metrics({0, {}, {}}, {10, {}, {}}, {}, 1);
  const json doc = json::parse(m.to_json());
  EXPECT_TRUE(doc.at("throttled_periods").is_null());
  EXPECT_TRUE(doc.at("throttled_ns").is_null());
  EXPECT_EQ(doc.at("workers").size(), 0u);
}

TEST(ObserveMetrics, ToStringHasOneRowPerWorkerAndTotals) {
  MetricsSample current{1000, {}, {}};
  for (int i = 0; i < 5; ++i) current.workers.push_back(busy_worker(100, 100, 800));
  const Metrics m = build_metrics({0, {}, {}}, current, {}, 5);
  const std::string text = m.to_string();
  std::istringstream lines(text);
  std::string line;
  int worker_rows = 0, total_rows = 0, header_rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("worker ", 0) == 0) ++header_rows;
    if (line.rfind("total ", 0) == 0) ++total_rows;
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') ++worker_rows;
  }
  EXPECT_EQ(header_rows, 1) << text;
  EXPECT_EQ(worker_rows, 5) << text;
  EXPECT_EQ(total_rows, 1) << text;
  EXPECT_NE(text.find("10.0"), std::string::npos) << text;  // busy% of each worker
  EXPECT_NE(text.find("unavailable"), std::string::npos) << text;  // no cgroup
}

}  // namespace
}  // namespace weft::detail
