#include "weft/detail/share_hint.hpp"

#include <algorithm>
#include <cmath>

namespace weft::detail {

namespace {
constexpr float unit_weight = 1024;
// A slot's weight moves a quarter of the way to what the last call measured: a core
// that got slow is followed within a few calls, one noisy call moves little.
constexpr float follow = 0.25f;
// Weights within this of 1 count as equal (see weights()).
constexpr float dead_band = 0.1f;
// No slot's share goes below a tenth or above four times an equal one, so a slow
// slot keeps a share and is measured again.
constexpr float min_weight = 0.1f, max_weight = 4.0f;

float load(const std::atomic<std::uint16_t>& w) {
  const std::uint16_t v = w.load(std::memory_order_relaxed);
  return v == 0 ? 1.0f : static_cast<float>(v) / unit_weight;
}
}  // namespace

bool ShareHint::weights(unsigned team, float (&out)[max_slots]) const noexcept {
  if (team < 2 || team > max_slots || team_.load(std::memory_order_relaxed) != team) return false;
  bool even = true;
  for (unsigned k = 0; k < team; ++k) {
    out[k] = load(weight_[k]);
    even = even && std::fabs(out[k] - 1.0f) < dead_band;
  }
  return !even;
}

void ShareHint::learn(unsigned team, const SlotRun* runs) noexcept {
  if (team < 2 || team > max_slots) return;
  double rates[max_slots], total = 0;
  unsigned measured_slots = 0;
  for (unsigned k = 0; k < team; ++k) {
    rates[k] = runs[k].units > 0 && runs[k].ns > 0
                   ? static_cast<double>(runs[k].units) / static_cast<double>(runs[k].ns)
                   : 0;
    total += rates[k];
    measured_slots += rates[k] > 0;
  }
  if (measured_slots < 2) return;  // nothing to compare
  if (team_.load(std::memory_order_relaxed) != team) {
    for (auto& w : weight_) w.store(0, std::memory_order_relaxed);
    team_.store(team, std::memory_order_relaxed);
  }
  const double mean = total / measured_slots;
  for (unsigned k = 0; k < team; ++k) {
    if (rates[k] == 0) continue;
    const float measured = static_cast<float>(rates[k] / mean);
    const float w = std::clamp(load(weight_[k]) + follow * (measured - load(weight_[k])),
                               min_weight, max_weight);
    const auto v = static_cast<std::uint16_t>(std::lround(w * unit_weight));
    // Stored only when it changed: many callers of one site then share the line clean.
    if (weight_[k].load(std::memory_order_relaxed) != v) weight_[k].store(v, std::memory_order_relaxed);
  }
}

}  // namespace weft::detail
