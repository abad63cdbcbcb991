#include "sched/elastic_policy.hpp"

#include <algorithm>
#include <cstdio>

namespace weft::detail {

ElasticPolicy::ElasticPolicy(unsigned capacity, unsigned min_threads)
    : capacity_(std::max(1u, capacity)),
      min_threads_(std::clamp(min_threads, 1u, capacity_)),
      ceiling_(capacity_),
      width_(capacity_) {}

WidthDecision ElasticPolicy::next(const PressureSample& sample) {
  const unsigned before = width_;
  std::string reason;
  // The budget first: it bounds everything else and is followed at once, both ways.
  if (sample.budget_threads) {
    const unsigned ceiling = std::clamp(*sample.budget_threads, min_threads_, capacity_);
    if (ceiling != ceiling_) {
      ceiling_ = ceiling;
      width_ = ceiling;
      calm_seen_ = 0;
      reason = "the CPU budget (affinity mask, cgroup quota) now covers " +
               std::to_string(*sample.budget_threads) + " threads";
    }
  }
  const bool throttled = sample.throttled_periods.value_or(0) > 0;
  const double delay = sample.workers == 0 || sample.window_ns <= 0
                           ? 0
                           : sample.run_delay_ns / (sample.window_ns * sample.workers);
  if (throttled || delay > oversubscribed) {
    if (just_grew_) calm_needed_ = std::min(calm_needed_ * 2, max_calm_windows);
    just_grew_ = false;
    calm_seen_ = 0;
    if (width_ > min_threads_) {
      --width_;
      char percent[16];
      std::snprintf(percent, sizeof percent, "%.0f%%", delay * 100);
      reason = throttled ? "the cgroup CPU quota throttled the process " +
                               std::to_string(*sample.throttled_periods) + " times"
                         : std::string("workers waited ") + percent +
                               " of the time for a CPU (oversubscribed)";
    }
  } else if (delay < calm) {
    just_grew_ = false;
    if (width_ < ceiling_ && ++calm_seen_ >= calm_needed_) {
      ++width_;
      calm_seen_ = 0;
      just_grew_ = true;
      reason = "no throttling and little waiting for a CPU for " + std::to_string(calm_needed_) +
               " periods";
    }
  } else {
    calm_seen_ = 0;  // between the thresholds: hold
  }
  return {width_, width_ != before ? reason : std::string()};
}

}  // namespace weft::detail
