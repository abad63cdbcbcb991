// Config::adaptive in the scheduler: the monitor's thread (elastic_monitor.cpp) decides
// a loop width from the pressure on the workers; here it is applied and reported.
// Loops read the width with one relaxed load (num_threads); nothing else changes, so a
// narrower width means fewer invitations, and the workers left out park when idle.
#include <string>
#include <vector>

#include "sched/elastic_monitor.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {
constexpr std::chrono::milliseconds elastic_period{100};
// The trace's counter track of the adaptive width (its changes carry the reason).
constexpr const char* loop_threads_track = "adaptive loop threads";
}  // namespace

void SchedulerCore::start_elastic() {
  if (!config_.adaptive) return;
  // The loop threads: the caller and the placement's workers (background workers run
  // low loops only, at the idle class, where waiting for a CPU is their purpose).
  const unsigned capacity = static_cast<unsigned>(placement_.workers.size()) + 1;
  // relaxed: nothing is published with the width (see num_threads()).
  elastic_threads_.store(capacity, std::memory_order_relaxed);
  auto tids = [this] {
    std::vector<int> out;
    for (std::size_t i = 0; i < placement_.workers.size(); ++i)
      out.push_back(observer_.worker(i).tid());
    return out;
  };
  elastic_ = std::make_unique<ElasticMonitor>(
      ElasticPolicy(capacity, config_.min_workers + 1), elastic_period,
      proc_pressure_sampler(tids), [this](const WidthDecision& decision) {
        elastic_threads_.store(decision.width, std::memory_order_relaxed);
        if (decision.reason.empty()) return;
        observer_.record_decision(loop_threads_track, decision.width, decision.reason);
        std::lock_guard<std::mutex> lock(elastic_mutex_);
        ++elastic_changes_;
        elastic_reason_ = decision.reason;
      });
  observer_.record_decision(loop_threads_track, capacity, "");
}

void SchedulerCore::stop_elastic() noexcept { elastic_.reset(); }

void SchedulerCore::add_elastic_metrics(Metrics& m) const {
  if (!config_.adaptive) return;
  m.adaptive_threads = elastic_threads_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(elastic_mutex_);
  m.adaptive_changes = elastic_changes_;
  m.adaptive_reason = elastic_reason_;
}

}  // namespace weft::detail
