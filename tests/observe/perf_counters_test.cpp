// Hardware counters: the unavailable path (forced, or refused by the machine) gives
// nullopt everywhere; the available path gives consistent counts. Both are fine on a
// given machine; a crash or a made-up number is not.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "common/thread_id.hpp"
#include "observe/observer.hpp"
#include "observe/perf_counters.hpp"

namespace weft::detail {
namespace {

// Sets an environment variable for one test. Tests in this binary run one at a time
// and no other thread reads the environment meanwhile.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
      had_ = true;
    }
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Keeps the work from being optimised away; atomic because two threads may run it.
std::atomic<std::uint64_t> sink{0};

void some_work() {
  std::uint64_t x = 1;
  for (int i = 0; i < 200000; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  sink.store(x, std::memory_order_relaxed);  // relaxed: nobody reads it
}

TEST(ObservePerf, ForcedUnavailableByEnvironment) {
  ScopedEnv env("WEFT_PERF_EVENTS", "0");
  EXPECT_FALSE(perf_events_allowed_by_env());
  PerfCounters perf;
  EXPECT_FALSE(perf.open(current_tid(), /*enabled=*/true));
  EXPECT_FALSE(perf.available());
  EXPECT_FALSE(perf.read().has_value());
  EXPECT_NE(perf.unavailable_reason().find("WEFT_PERF_EVENTS"), std::string::npos);
}

TEST(ObservePerf, DisabledByConfigIsUnavailable) {
  PerfCounters perf;
  EXPECT_FALSE(perf.open(current_tid(), /*enabled=*/false));
  EXPECT_FALSE(perf.read().has_value());
  EXPECT_NE(perf.unavailable_reason().find("hardware_counters"), std::string::npos);
}

TEST(ObservePerf, AvailablePathCountsOrSaysWhyNot) {
  PerfCounters perf;
  const bool available = perf.open(current_tid(), true);
  EXPECT_EQ(available, perf.available());
  if (!available) {
    EXPECT_FALSE(perf.read().has_value());
    EXPECT_FALSE(perf.unavailable_reason().empty());
    std::printf("perf events unavailable here: %s\n", perf.unavailable_reason().c_str());
    return;
  }
  EXPECT_TRUE(perf.unavailable_reason().empty());
  some_work();
  const auto first = perf.read();
  some_work();
  const auto second = perf.read();
  // A group that did not get on the PMU (all counters taken) reads nullopt, never zero.
  if (!first || !second) return;
  EXPECT_GE(second->instructions, first->instructions);
  EXPECT_GE(second->cache_references, first->cache_references);
  EXPECT_GE(second->cache_misses, first->cache_misses);
}

// The group-reading path with kernel software events (no PMU needed), opened for one
// thread and read from another, as the Observer does.
TEST(ObservePerf, GroupReadsFromAnotherThread) {
  PerfCounters perf;
  std::atomic<int> step{0};
  std::thread worker([&] {
    perf.open(current_tid(), true, PerfEvents::software_for_tests);
    step.store(1);
    while (step.load() != 2) some_work();
  });
  while (step.load() != 1) std::this_thread::yield();
  const auto first = perf.read();
  some_work();
  const auto second = perf.read();
  step.store(2);
  worker.join();
  if (!perf.available()) {
    EXPECT_FALSE(first.has_value());
    EXPECT_FALSE(perf.unavailable_reason().empty());
    GTEST_SKIP() << "software perf events unavailable: " << perf.unavailable_reason();
  }
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  // task-clock (ns the worker ran) lands in the first field and only grows.
  EXPECT_GE(second->cache_references, first->cache_references);
  EXPECT_GT(second->cache_references, 0u);
  EXPECT_GE(second->cache_misses, first->cache_misses);
  perf.close();
  EXPECT_FALSE(perf.read().has_value());
}

TEST(ObservePerf, WorkerMetricsAreAllSetOrAllUnavailable) {
  for (const bool forced_off : {true, false}) {
    std::optional<ScopedEnv> env;
    if (forced_off) env.emplace("WEFT_PERF_EVENTS", "0");
    Placement placement;
    placement.workers.resize(1);
    ObserveOptions options;
    options.hardware_counters = true;
    Observer observer(placement, options);
    std::thread worker([&] {
      observer.worker(0).thread_started();
      some_work();
      const Metrics m = observer.metrics();  // while the thread is alive
      const WorkerMetrics& w = m.workers[0];
      EXPECT_EQ(w.instructions.has_value(), w.cache_misses.has_value());
      EXPECT_EQ(w.instructions.has_value(), w.cache_references.has_value());
      EXPECT_EQ(w.instructions.has_value(), m.totals.instructions.has_value());
      if (forced_off) {
        EXPECT_FALSE(w.instructions.has_value());
      }
      if (w.instructions) {
        EXPECT_GT(*w.instructions, 0u);
      }
    });
    worker.join();
  }
}

}  // namespace
}  // namespace weft::detail
