// The value parsers from_env shares with the tools, and the one Config check: every
// error names the field and the value, and every consumer (plan_placement, Scheduler)
// reports the same field-level errors.
#include "topology/config_check.hpp"
#include "topology/topology_test_util.hpp"
#include "weft/scheduler.hpp"

namespace weft {
namespace {

using test::throws_with;

TEST(TopologyConfigParsers, NumberAcceptsDigitsOnlyAndNamesTheField) {
  EXPECT_EQ(parse_number("42", "--threads"), 42u);
  EXPECT_EQ(parse_number("007", "--threads"), 7u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3"})
    EXPECT_TRUE(throws_with<ConfigError>([&] { parse_number(bad, "F"); },
                                         std::string("F: '") + bad + "' is not a non-negative integer"))
        << bad;
  EXPECT_TRUE(throws_with<ConfigError>([] { parse_number("20", "WEFT_BACKGROUND_NICE", 19); },
                                       "WEFT_BACKGROUND_NICE: '20' is not a non-negative integer "
                                       "in range (at most 19)"));
  EXPECT_TRUE(throws_with<ConfigError>([] { parse_number("99999999999999999999999", "F"); },
                                       "F: '99999999999999999999999' is not a non-negative integer in range"));
  EXPECT_TRUE(throws_with<ConfigError>([] { parse_number("4294967296", "F"); }, "in range"));
}

TEST(TopologyConfigParsers, BoolTakesZeroOneTrueFalseInAnyCase) {
  for (const char* yes : {"1", "true", "TRUE", "True"}) EXPECT_TRUE(parse_bool(yes, "F")) << yes;
  for (const char* no : {"0", "false", "FALSE", "False"}) EXPECT_FALSE(parse_bool(no, "F")) << no;
  for (const char* bad : {"", "on", "off", "yes", "no", "2", " 1"})
    EXPECT_TRUE(throws_with<ConfigError>([&] { parse_bool(bad, "WEFT_ADAPTIVE"); },
                                         std::string("WEFT_ADAPTIVE: '") + bad +
                                             "' is not one of 0, 1, true, false"))
        << bad;
}

TEST(TopologyConfigParsers, PartitionIsIndexSlashCount) {
  const Partition p = parse_partition("1/4", "F");
  EXPECT_EQ(p.index, 1u);
  EXPECT_EQ(p.count, 4u);
  for (const char* bad : {"", "1", "1-4", "a/4", "1/b", "/4", "1/", "-1/4", "1/4/2"})
    EXPECT_TRUE(throws_with<ConfigError>([&] { parse_partition(bad, "--partition"); },
                                         std::string("--partition: '") + bad +
                                             "' is not a partition (expected I/N, e.g. 1/4)"))
        << bad;
  for (const char* bad : {"4/4", "0/0", "5/4"})
    EXPECT_TRUE(throws_with<ConfigError>([&] { parse_partition(bad, "WEFT_PARTITION"); },
                                         std::string("WEFT_PARTITION: '") + bad +
                                             "' is not a partition (need index < count, count > 0)"))
        << bad;
}

TEST(TopologyConfigParsers, PinningInAnyCase) {
  EXPECT_EQ(parse_pinning("NUMA", "F"), Pinning::numa);
  EXPECT_TRUE(throws_with<ConfigError>([] { parse_pinning("socket", "--pinning"); },
                                       "--pinning: 'socket' is not one of none, core, pu, numa"));
}

// Each field check, raised the same way by plan_placement and by a Scheduler built on a
// hand-made placement (neither plans nor starts anything before it).
TEST(TopologyConfigCheck, EachFieldErrorNamesFieldAndValue) {
  struct Case {
    void (*set)(Config&);
    const char* message;
  };
  const Case cases[] = {
      {[](Config& c) { c.pinning = static_cast<Pinning>(42); },
       "Config::pinning: 42 is not one of none, core, pu, numa"},
      {[](Config& c) { c.cpuset = "0-"; }, "Config::cpuset: '0-' is not a CPU list"},
      {[](Config& c) { c.partition = Partition{3, 2}; },
       "Config::partition: 3/2 is not a partition (need index < count, count > 0)"},
      {[](Config& c) { c.spin = std::chrono::microseconds(-5); },
       "Config::spin: -5us is not in 0..3600000000us"},
      {[](Config& c) { c.spin_max = std::chrono::microseconds(3'600'000'001); },
       "Config::spin_max: 3600000001us is not in 0..3600000000us"},
      {[](Config& c) { c.background_workers = 1025u; },
       "Config::background_workers: 1025 exceeds 1024"},
      {[](Config& c) { c.background_nice = 20; }, "Config::background_nice: 20 is not in 0..19"},
      {[](Config& c) { c.background_nice = -1; }, "Config::background_nice: -1 is not in 0..19"},
      {[](Config& c) { c.trace_capacity = max_trace_capacity + 1; },
       "Config::trace_capacity: 16777217 exceeds 16777216"},
      {[](Config& c) { c.max_queued = 3; },
       "Config::max_queued: 3 has no effect with QueuePolicy::unbounded"},
      {[](Config& c) { c.queue_policy = QueuePolicy::reject; },
       "Config::max_queued: 0 with QueuePolicy::reject would admit no task"},
      {[](Config& c) { c.queue_policy = static_cast<QueuePolicy>(9); },
       "Config::queue_policy: 9 is not a QueuePolicy"},
  };
  const Topology machine = Topology::synthetic("pack:1 core:4 pu:1");
  Placement hand_made;
  hand_made.workers.resize(2);
  for (const Case& c : cases) {
    Config config;
    config.pinning = Pinning::none;
    c.set(config);
    EXPECT_TRUE(throws_with<ConfigError>([&] { detail::check_config(config); }, c.message));
    EXPECT_TRUE(throws_with<ConfigError>([&] { plan_placement(machine, config); }, c.message));
    EXPECT_TRUE(throws_with<ConfigError>([&] { Scheduler s(hand_made, config); }, c.message));
  }
}

TEST(TopologyConfigCheck, EffectiveConfigResolvesWhatThePlacementDecides) {
  Placement p;
  p.workers.resize(3);
  p.workers[2].reserved = true;
  Config c;
  c.background_workers.reset();  // auto
  const Config e = detail::effective_config(c, p);
  EXPECT_EQ(e.num_threads, 4u);
  EXPECT_EQ(e.reserved_workers, 1u);
  ASSERT_TRUE(e.background_workers.has_value());
  EXPECT_EQ(*e.background_workers, 4u);
  c.min_workers = 4;
  EXPECT_TRUE(throws_with<ConfigError>([&] { detail::effective_config(c, p); },
                                       "Config::min_workers: 4 is more than this scheduler's 3 workers"));
  // Auto past the limit names the field, the count and where it came from.
  p.workers.resize(1100);
  c.min_workers = 0;
  EXPECT_TRUE(throws_with<ConfigError>([&] { detail::effective_config(c, p); },
                                       "Config::background_workers: 1101 (auto) exceeds 1024"));
}

// Scheduler::config(): what the scheduler runs with, round-tripped from what it was given.
TEST(TopologyConfigCheck, SchedulerConfigRoundTrip) {
  const Topology machine = Topology::synthetic("pack:1 core:4 pu:1");
  Config c;
  c.pinning = Pinning::none;  // no binding: this is not the machine the test runs on
  c.num_threads = 3;
  c.spin = std::chrono::microseconds(7);
  c.aging_period = 5;
  c.reserved_workers = 1;
  c.trace_capacity = 128;
  c.queue_policy = QueuePolicy::block;
  c.max_queued = 9;
  c.background_workers.reset();  // auto: one per loop thread
  {
    Scheduler s(plan_placement(machine, c), c);
    const Config& e = s.config();
    EXPECT_EQ(e.num_threads, 3u);
    EXPECT_EQ(e.pinning, Pinning::none);
    EXPECT_EQ(e.spin, std::chrono::microseconds(7));
    EXPECT_EQ(e.aging_period, 5u);
    EXPECT_EQ(e.reserved_workers, 1u);
    EXPECT_EQ(e.trace_capacity, 128u);
    EXPECT_EQ(e.queue_policy, QueuePolicy::block);
    EXPECT_EQ(e.max_queued, 9u);
    ASSERT_TRUE(e.background_workers.has_value());
    EXPECT_EQ(*e.background_workers, 3u);
    EXPECT_EQ(s.background_workers(), 3u);
    EXPECT_EQ(e.num_threads, s.num_threads());
    // Feeding the effective config back gives the same scheduler shape.
    Scheduler again(plan_placement(machine, e), e);
    EXPECT_EQ(again.config().num_threads, e.num_threads);
    EXPECT_EQ(again.config().background_workers, e.background_workers);
    EXPECT_EQ(again.config().reserved_workers, e.reserved_workers);
    EXPECT_EQ(again.placement().workers.size(), s.placement().workers.size());
  }
  // num_threads 0: the planned width; background workers off stay off.
  c.num_threads = 0;
  c.reserved_workers = 0;
  c.background_workers = 0u;
  Scheduler s(plan_placement(machine, c), c);
  EXPECT_EQ(s.config().num_threads, 4u);
  EXPECT_EQ(s.config().background_workers, std::optional<unsigned>(0u));
}

}  // namespace
}  // namespace weft
