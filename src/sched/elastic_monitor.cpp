#include "sched/elastic_monitor.hpp"

#include <sys/types.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "observe/cgroup_stats.hpp"
#include "observe/clock.hpp"
#include "observe/thread_stats.hpp"
#include "topology/cpu_budget.hpp"

namespace weft::detail {

ElasticMonitor::ElasticMonitor(ElasticPolicy policy, std::chrono::milliseconds period,
                               Sampler sample, Apply apply)
    : policy_(policy), period_(period), sample_(std::move(sample)), apply_(std::move(apply)) {
  if (period_.count() > 0) thread_ = std::thread([this] { run(); });
}

ElasticMonitor::~ElasticMonitor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ElasticMonitor::tick() {
  const bool reread_budget = ++ticks_ % budget_every == 0;
  apply_(policy_.next(sample_(reread_budget)));
}

void ElasticMonitor::run() {
  sample_(false);  // the first window starts now
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_cv_.wait_for(lock, period_, [this] { return stop_; })) {
    lock.unlock();
    tick();
    lock.lock();
  }
}

namespace {

// Threads the budget covers, caller included: the CPUs in the affinity mask, capped by
// the quota rounded up (as plan_placement counts them: 1.5 CPUs are worth 2 threads).
// nullopt when the mask cannot be read.
std::optional<unsigned> budget_threads() {
  try {
    double threads = static_cast<double>(read_affinity_mask().size());
    ProbeOptions options;
    if (const auto quota = read_cgroup_quota(options))
      threads = std::min(threads, std::max(1.0, std::ceil(*quota - 1e-9)));
    return static_cast<unsigned>(threads);
  } catch (const std::exception&) {
    return std::nullopt;  // a malformed cgroup file: keep the width the budget had
  }
}

}  // namespace

ElasticMonitor::Sampler proc_pressure_sampler(std::function<std::vector<int>()> tids) {
  struct State {
    std::function<std::vector<int>()> tids;
    std::optional<std::string> cpu_stat_dir = find_cpu_stat_dir();
    std::uint64_t last_ns = now_ns();
    std::unordered_map<int, std::uint64_t> last_delay;  // per tid
    std::optional<std::uint64_t> last_throttled;
  };
  auto state = std::make_shared<State>();
  state->tids = std::move(tids);
  return [state](bool reread_budget) {
    PressureSample sample;
    const std::uint64_t now = now_ns();
    sample.window_ns = static_cast<double>(now - state->last_ns);
    state->last_ns = now;
    for (const int tid : state->tids()) {
      const auto delay = read_run_delay_ns(static_cast<pid_t>(tid));
      if (tid <= 0 || !delay) continue;
      const auto last = state->last_delay.find(tid);
      if (last != state->last_delay.end()) {
        sample.run_delay_ns += static_cast<double>(*delay - std::min(*delay, last->second));
        ++sample.workers;
      }
      state->last_delay[tid] = *delay;
    }
    if (state->cpu_stat_dir) {
      if (const auto stat = read_cpu_stat(*state->cpu_stat_dir)) {
        if (state->last_throttled)
          sample.throttled_periods =
              stat->nr_throttled - std::min(stat->nr_throttled, *state->last_throttled);
        state->last_throttled = stat->nr_throttled;
      }
    }
    if (reread_budget) sample.budget_threads = budget_threads();
    return sample;
  };
}

}  // namespace weft::detail
