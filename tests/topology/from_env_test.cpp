// Config::from_env: every WEFT_* variable, the partition a launcher implies, and
// errors naming the variable and its value.
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include "topology/config_env.hpp"
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::EnvGuard;
using test::throws_with;

TEST(TopologyConfigFromEnv, DefaultsWhenNothingIsSet) {
  EnvGuard env;
  const Config c = Config::from_env();
  const Config d;
  EXPECT_EQ(c.num_threads, d.num_threads);
  EXPECT_EQ(c.pinning, d.pinning);
  EXPECT_EQ(c.cpuset, d.cpuset);
  EXPECT_FALSE(c.partition.has_value());
  EXPECT_EQ(c.reserved_workers, d.reserved_workers);
  EXPECT_EQ(c.spin, d.spin);
  EXPECT_EQ(c.use_smt, d.use_smt);
}

TEST(TopologyConfigFromEnv, EachVariable) {
  EnvGuard env;
  env.set("WEFT_NUM_THREADS", "8");
  env.set("WEFT_PINNING", "numa");
  env.set("WEFT_CPUSET", "0-3,8");
  env.set("WEFT_PARTITION", "1/4");
  env.set("WEFT_RESERVED_WORKERS", "2");
  env.set("WEFT_SPIN_US", "0");
  env.set("WEFT_USE_SMT", "true");
  const Config c = Config::from_env();
  EXPECT_EQ(c.num_threads, 8u);
  EXPECT_EQ(c.pinning, Pinning::numa);
  EXPECT_EQ(c.cpuset, "0-3,8");
  ASSERT_TRUE(c.partition.has_value());
  EXPECT_EQ(c.partition->index, 1u);
  EXPECT_EQ(c.partition->count, 4u);
  EXPECT_EQ(c.reserved_workers, 2u);
  EXPECT_EQ(c.spin.count(), 0);
  EXPECT_TRUE(c.use_smt);
}

TEST(TopologyConfigFromEnv, PinningAndSmtSpellings) {
  EnvGuard env;
  for (const char* p : {"none", "core", "pu", "numa"}) {
    env.set("WEFT_PINNING", p);
    EXPECT_STREQ(to_string(Config::from_env().pinning.value()), p);
  }
  for (auto [text, value] : {std::pair{"1", true}, {"true", true}, {"0", false}, {"false", false}}) {
    env.set("WEFT_USE_SMT", text);
    EXPECT_EQ(Config::from_env().use_smt, value) << text;
  }
  env.set("WEFT_SPIN_US", "250");
  EXPECT_EQ(Config::from_env().spin.count(), 250);
  EXPECT_EQ(Config::from_env().spin_max.count(), 5000);  // the default
  env.set("WEFT_SPIN_MAX_US", "0");
  EXPECT_EQ(Config::from_env().spin_max.count(), 0);
  env.set("WEFT_SPIN_MAX_US", "3600000001");
  EXPECT_TRUE(throws_with<ConfigError>(
      [] { Config::from_env(); },
      "WEFT_SPIN_MAX_US: '3600000001'"));
}

TEST(TopologyConfigFromEnv, AdaptiveAndMinWorkers) {
  EnvGuard env;
  EXPECT_FALSE(Config::from_env().adaptive);
  EXPECT_EQ(Config::from_env().min_workers, 0u);
  env.set("WEFT_ADAPTIVE", "1");
  env.set("WEFT_MIN_WORKERS", "3");
  EXPECT_TRUE(Config::from_env().adaptive);
  EXPECT_EQ(Config::from_env().min_workers, 3u);
  env.set("WEFT_ADAPTIVE", "on");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "WEFT_ADAPTIVE: 'on'"));
  env.set("WEFT_ADAPTIVE", "0");
  env.set("WEFT_MIN_WORKERS", "-1");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "WEFT_MIN_WORKERS: '-1'"));
}

TEST(TopologyConfigFromEnv, BadNumbersNameTheVariable) {
  EnvGuard env;
  env.set("WEFT_NUM_THREADS", "-3");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_NUM_THREADS: '-3' is not a non-negative integer"));
  env.set("WEFT_NUM_THREADS", "four");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "WEFT_NUM_THREADS: 'four'"));
  env.set("WEFT_NUM_THREADS", "99999999999");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_NUM_THREADS: '99999999999'"));
  env.set("WEFT_NUM_THREADS", "4");
  env.set("WEFT_RESERVED_WORKERS", "-1");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_RESERVED_WORKERS: '-1' is not a non-negative integer"));
  env.set("WEFT_RESERVED_WORKERS", "1");
  env.set("WEFT_SPIN_US", "1.5");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_SPIN_US: '1.5' is not a non-negative integer"));
}

TEST(TopologyConfigFromEnv, BadWordsNameTheVariable) {
  EnvGuard env;
  env.set("WEFT_PINNING", "socket");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_PINNING: 'socket' is not one of none, core, pu, numa"));
  env.set("WEFT_PINNING", "core");
  env.set("WEFT_USE_SMT", "yes");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "WEFT_USE_SMT: 'yes'"));
  env.set("WEFT_USE_SMT", "0");
  env.set("WEFT_CPUSET", "0-");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_CPUSET: '0-' is not a CPU list"));
  env.set("WEFT_CPUSET", "0-3");
  for (const char* bad : {"4/4", "1/0", "1", "a/b", "-1/4"}) {
    env.set("WEFT_PARTITION", bad);
    EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                         std::string("WEFT_PARTITION: '") + bad + "'"));
  }
}

TEST(TopologyConfigFromEnv, EmptyMeansUnset) {
  EnvGuard env;
  env.set("WEFT_NUM_THREADS", "");
  EXPECT_EQ(Config::from_env().num_threads, 0u);
}

TEST(TopologyConfigFromEnv, PartitionFromLaunchers) {
  const std::pair<const char*, const char*> launchers[] = {
      {"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
      {"SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
      {"LOCAL_RANK", "LOCAL_WORLD_SIZE"},
  };
  for (auto [rank, size] : launchers) {
    EnvGuard env;
    env.set(rank, "2");
    env.set(size, "4");
    const Config c = Config::from_env();
    ASSERT_TRUE(c.partition.has_value()) << rank;
    EXPECT_EQ(c.partition->index, 2u) << rank;
    EXPECT_EQ(c.partition->count, 4u) << rank;
    env.set(rank, "0");
    env.set(size, "1");  // one rank per node: the whole machine
    EXPECT_FALSE(Config::from_env().partition.has_value()) << rank;
  }
}

TEST(TopologyConfigFromEnv, ExplicitPartitionBeatsLauncher) {
  EnvGuard env;
  env.set("LOCAL_RANK", "1");
  env.set("LOCAL_WORLD_SIZE", "2");
  env.set("WEFT_PARTITION", "3/8");
  EXPECT_EQ(Config::from_env().partition->count, 8u);
}

TEST(TopologyConfigFromEnv, OpenMpiBeatsTorchrun) {
  EnvGuard env;
  env.set("LOCAL_RANK", "1");
  env.set("LOCAL_WORLD_SIZE", "2");
  env.set("OMPI_COMM_WORLD_LOCAL_RANK", "5");
  env.set("OMPI_COMM_WORLD_LOCAL_SIZE", "6");
  EXPECT_EQ(Config::from_env().partition->index, 5u);
}

TEST(TopologyConfigFromEnv, BadLauncherValuesNameTheVariable) {
  EnvGuard env;
  env.set("SLURM_LOCALID", "x");
  env.set("SLURM_NTASKS_PER_NODE", "4");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "SLURM_LOCALID: 'x'"));
  env.set("SLURM_LOCALID", "4");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "SLURM_LOCALID: '4' is not below SLURM_NTASKS_PER_NODE"));
}

// The observability variables (EnvGuard above does not know them).
class ObserveEnvGuard {
 public:
  ObserveEnvGuard() {
    for (const char* name : names) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      unsetenv(name);
    }
  }
  ~ObserveEnvGuard() {
    for (const char* name : names) {
      auto it = saved_.find(name);
      if (it == saved_.end()) unsetenv(name);
      else setenv(name, it->second.c_str(), 1);
    }
  }
  ObserveEnvGuard(const ObserveEnvGuard&) = delete;
  ObserveEnvGuard& operator=(const ObserveEnvGuard&) = delete;
  void set(const char* name, const char* value) { setenv(name, value, 1); }

 private:
  static constexpr const char* names[] = {"WEFT_METRICS_ENABLED", "WEFT_HARDWARE_COUNTERS",
                                          "WEFT_TRACE_CAPACITY", "WEFT_TRACE"};
  std::map<std::string, std::string> saved_;
};

TEST(TopologyConfigFromEnv, ObserveDefaults) {
  EnvGuard env;
  ObserveEnvGuard observe;
  const Config c = Config::from_env();
  EXPECT_TRUE(c.metrics);
  EXPECT_FALSE(c.hardware_counters);
  EXPECT_EQ(c.trace_capacity, 0u);
}

TEST(TopologyConfigFromEnv, ObserveVariables) {
  EnvGuard env;
  ObserveEnvGuard observe;
  observe.set("WEFT_METRICS_ENABLED", "0");
  observe.set("WEFT_HARDWARE_COUNTERS", "true");
  observe.set("WEFT_TRACE_CAPACITY", "4096");
  Config c = Config::from_env();
  EXPECT_FALSE(c.metrics);
  EXPECT_TRUE(c.hardware_counters);
  EXPECT_EQ(c.trace_capacity, 4096u);
  // WEFT_TRACE (a trace written at exit) needs spans: a default capacity, unless set.
  observe.set("WEFT_TRACE", "/tmp/weft-trace.json");
  EXPECT_EQ(Config::from_env().trace_capacity, 4096u);
  unsetenv("WEFT_TRACE_CAPACITY");
  EXPECT_EQ(Config::from_env().trace_capacity, 65536u);
  observe.set("WEFT_TRACE_CAPACITY", "0");
  EXPECT_EQ(Config::from_env().trace_capacity, 0u);
}

TEST(TopologyConfigFromEnv, BadObserveValuesNameTheVariable) {
  EnvGuard env;
  ObserveEnvGuard observe;
  observe.set("WEFT_METRICS_ENABLED", "on");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_METRICS_ENABLED: 'on' is not one of 0, 1, true, false"));
  observe.set("WEFT_METRICS_ENABLED", "1");
  observe.set("WEFT_HARDWARE_COUNTERS", "2");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); }, "WEFT_HARDWARE_COUNTERS: '2'"));
  observe.set("WEFT_HARDWARE_COUNTERS", "0");
  observe.set("WEFT_TRACE_CAPACITY", "-1");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_TRACE_CAPACITY: '-1' is not a non-negative integer"));
  observe.set("WEFT_TRACE_CAPACITY", "16777217");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_TRACE_CAPACITY: '16777217' is not a non-negative integer in range"));
  observe.set("WEFT_TRACE_CAPACITY", "16777216");
  EXPECT_EQ(Config::from_env().trace_capacity, std::size_t{1} << 24);
}

TEST(TopologyConfigFromEnv, OmpNumThreadsWhenWeftIsUnset) {
  EnvGuard env;
  env.set("OMP_NUM_THREADS", "1");  // what torchrun sets per worker
  EXPECT_EQ(Config::from_env().num_threads, 1u);
  env.set("OMP_NUM_THREADS", "4,2,1");  // nested levels: weft takes the outermost
  EXPECT_EQ(Config::from_env().num_threads, 4u);
  env.set("WEFT_NUM_THREADS", "3");
  EXPECT_EQ(Config::from_env().num_threads, 3u);
  env.set("WEFT_NUM_THREADS", "");
  for (const char* bad : {"0", "-2", "two", ",4"}) {
    env.set("OMP_NUM_THREADS", bad);
    EXPECT_TRUE(throws_with<ConfigError>(
        [] { Config::from_env(); },
        std::string("OMP_NUM_THREADS: '") + bad + "' is not a positive integer"));
  }
}

TEST(TopologyConfigFromEnv, OmpProcBindWhenWeftPinningIsUnset) {
  EnvGuard env;
  EXPECT_FALSE(Config::from_env().pinning.has_value());  // the default rule decides
  env.set("OMP_PROC_BIND", "false");
  EXPECT_EQ(Config::from_env().pinning, Pinning::none);
  for (const char* bound : {"true", "TRUE", "spread", "close,spread", "primary"}) {
    env.set("OMP_PROC_BIND", bound);
    EXPECT_EQ(Config::from_env().pinning, Pinning::core) << bound;
  }
  env.set("WEFT_PINNING", "NUMA");
  EXPECT_EQ(Config::from_env().pinning, Pinning::numa);
  env.set("WEFT_PINNING", "");
  env.set("OMP_PROC_BIND", "sometimes");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "OMP_PROC_BIND: 'sometimes' is not one of false, true"));
}

TEST(TopologyConfigFromEnv, OriginsSayWhichVariableDecided) {
  EnvGuard env;
  EXPECT_TRUE(Config::env_origins().empty());
  env.set("OMP_NUM_THREADS", "1");
  env.set("OMP_PROC_BIND", "false");
  env.set("LOCAL_RANK", "1");
  env.set("LOCAL_WORLD_SIZE", "2");
  const std::vector<std::string> expected{
      "num_threads = 1 (OMP_NUM_THREADS=1, WEFT_NUM_THREADS unset)",
      "pinning = none (OMP_PROC_BIND=false, WEFT_PINNING unset)",
      "partition = 1/2 (LOCAL_RANK=1, LOCAL_WORLD_SIZE=2, WEFT_PARTITION unset)"};
  EXPECT_EQ(Config::env_origins(), expected);
  env.set("WEFT_NUM_THREADS", "2");
  EXPECT_EQ(Config::env_origins()[0], "num_threads = 2 (WEFT_NUM_THREADS=2)");
}

// The backpressure variables (EnvGuard above does not know them).
class QueueEnvGuard {
 public:
  QueueEnvGuard() {
    for (const char* name : names) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      unsetenv(name);
    }
  }
  ~QueueEnvGuard() {
    for (const char* name : names) {
      auto it = saved_.find(name);
      if (it == saved_.end()) unsetenv(name);
      else setenv(name, it->second.c_str(), 1);
    }
  }
  QueueEnvGuard(const QueueEnvGuard&) = delete;
  QueueEnvGuard& operator=(const QueueEnvGuard&) = delete;
  void set(const char* name, const char* value) { setenv(name, value, 1); }

 private:
  static constexpr const char* names[] = {"WEFT_MAX_QUEUED", "WEFT_QUEUE_POLICY"};
  std::map<std::string, std::string> saved_;
};

TEST(TopologyConfigFromEnv, QueueLimitVariables) {
  EnvGuard env;
  QueueEnvGuard queue;
  EXPECT_EQ(Config::from_env().queue_policy, QueuePolicy::unbounded);
  EXPECT_EQ(Config::from_env().max_queued, 0u);
  // A limit alone blocks (keeps every task).
  queue.set("WEFT_MAX_QUEUED", "100000");
  Config c = Config::from_env();
  EXPECT_EQ(c.max_queued, 100000u);
  EXPECT_EQ(c.queue_policy, QueuePolicy::block);
  EXPECT_EQ(Config::env_origins(),
            (std::vector<std::string>{
                "max_queued = 100000 (WEFT_MAX_QUEUED=100000)",
                "queue_policy = block (WEFT_MAX_QUEUED=100000, WEFT_QUEUE_POLICY unset)"}));
  for (auto [text, policy] : {std::pair{"reject", QueuePolicy::reject},
                              {"Block", QueuePolicy::block}, {"REJECT", QueuePolicy::reject}}) {
    queue.set("WEFT_QUEUE_POLICY", text);
    EXPECT_EQ(Config::from_env().queue_policy, policy) << text;
  }
  EXPECT_EQ(Config::env_origins()[1], "queue_policy = reject (WEFT_QUEUE_POLICY=REJECT)");
  queue.set("WEFT_QUEUE_POLICY", "unbounded");
  unsetenv("WEFT_MAX_QUEUED");
  EXPECT_EQ(Config::from_env().queue_policy, QueuePolicy::unbounded);
  EXPECT_STREQ(to_string(QueuePolicy::block), "block");
}

TEST(TopologyConfigFromEnv, BadQueueLimitsNameTheVariable) {
  EnvGuard env;
  QueueEnvGuard queue;
  queue.set("WEFT_QUEUE_POLICY", "sometimes");
  EXPECT_TRUE(throws_with<ConfigError>(
      [] { Config::from_env(); },
      "WEFT_QUEUE_POLICY: 'sometimes' is not one of unbounded, block, reject"));
  queue.set("WEFT_QUEUE_POLICY", "block");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_QUEUE_POLICY: 'block' needs a limit"));
  queue.set("WEFT_MAX_QUEUED", "0");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_MAX_QUEUED: '0' is not a positive integer"));
  for (const char* bad : {"-3", "1k", " 5"}) {
    queue.set("WEFT_MAX_QUEUED", bad);
    EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                         std::string("WEFT_MAX_QUEUED: '") + bad + "'"));
  }
  queue.set("WEFT_MAX_QUEUED", "10");
  queue.set("WEFT_QUEUE_POLICY", "unbounded");
  EXPECT_TRUE(throws_with<ConfigError>(
      [] { Config::from_env(); },
      "WEFT_MAX_QUEUED: '10' has no effect with WEFT_QUEUE_POLICY=unbounded"));
}

TEST(TopologyConfigFromEnv, OmpPlacesWhenWeftPinningIsUnset) {
  EnvGuard env;
  for (auto [places, pinning] : {std::pair{"cores", Pinning::core}, {"ll_caches", Pinning::core},
                                 {"THREADS", Pinning::pu}, {"sockets", Pinning::numa},
                                 {"numa_domains", Pinning::numa}}) {
    env.set("OMP_PLACES", places);
    EXPECT_EQ(Config::from_env().pinning, pinning) << places;
  }
  // OMP_PROC_BIND=false unbinds whatever the places; a policy binds to the places' unit.
  env.set("OMP_PLACES", "threads");
  env.set("OMP_PROC_BIND", "false");
  EXPECT_EQ(Config::from_env().pinning, Pinning::none);
  env.set("OMP_PROC_BIND", "spread");
  EXPECT_EQ(Config::from_env().pinning, Pinning::pu);
  const std::vector<std::string> origins = Config::env_origins();
  ASSERT_EQ(origins.size(), 1u);
  EXPECT_EQ(origins[0], "pinning = pu (OMP_PLACES=threads, OMP_PROC_BIND=spread, WEFT_PINNING unset)");
  // An explicit list is not followed: OMP_PROC_BIND decides alone.
  env.set("OMP_PLACES", "{0:4},{4:4}");
  EXPECT_EQ(Config::from_env().pinning, Pinning::core);
  env.set("WEFT_PINNING", "numa");
  EXPECT_EQ(Config::from_env().pinning, Pinning::numa);
}

TEST(TopologyConfigFromEnv, OverridesApplyToGivenDefaults) {
  EnvGuard env;
  Config defaults;
  defaults.spin = std::chrono::microseconds(1000);
  defaults.aging_period = 3;
  EXPECT_EQ(Config::from_env(defaults).spin.count(), 1000);
  EXPECT_EQ(Config::from_env(defaults).aging_period, 3u);
  env.set("WEFT_SPIN_US", "7");
  EXPECT_EQ(Config::from_env(defaults).spin.count(), 7);
  EXPECT_EQ(Config::from_env(defaults).aging_period, 3u);
}

TEST(TopologyConfigFromEnv, BooleansInAnyCaseAndPerfEventsChecked) {
  EnvGuard env;
  env.set("WEFT_ADAPTIVE", "TRUE");
  EXPECT_TRUE(Config::from_env().adaptive);
  env.set("WEFT_PERF_EVENTS", "False");
  EXPECT_NO_THROW(Config::from_env());
  EXPECT_FALSE(detail::perf_events_allowed_by_env());
  env.set("WEFT_PERF_EVENTS", "1");
  EXPECT_TRUE(detail::perf_events_allowed_by_env());
  // A typo is an error where it can be reported, and keeps the counters off where not.
  env.set("WEFT_PERF_EVENTS", "off");
  EXPECT_TRUE(throws_with<ConfigError>([] { Config::from_env(); },
                                       "WEFT_PERF_EVENTS: 'off' is not one of 0, 1, true, false"));
  EXPECT_FALSE(detail::perf_events_allowed_by_env());
}

// tests/fuzz/env_vars.hpp lists what config.cpp reads: compare the list with every
// variable name quoted in config.cpp (WEFT_METRICS aside: setting it makes a process
// write a file at exit, which the fuzz targets must not do).
TEST(TopologyConfigFromEnv, EnvNamesListEveryVariable) {
  std::ifstream in(std::string(WEFT_TEST_DATA_DIR) + "/../../src/topology/config.cpp");
  ASSERT_TRUE(in) << "config.cpp not found";
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::regex quoted("\"((?:WEFT|OMP|OMPI|SLURM|LOCAL)_[A-Z_]+)\"");
  std::set<std::string> read;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), quoted);
       it != std::sregex_iterator(); ++it)
    read.insert((*it)[1]);
  read.erase("WEFT_METRICS");
  const std::set<std::string> listed(std::begin(fuzz::env_names), std::end(fuzz::env_names));
  EXPECT_EQ(read, listed);
}

}  // namespace
}  // namespace weft
