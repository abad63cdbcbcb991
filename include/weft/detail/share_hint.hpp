// Shares that follow throughput: per loop site, each slot's rate in the last calls
// (units per nanosecond in the loop), smoothed, so that a slot whose thread runs slower
// (a core shared with another process, a throttled or efficiency core) starts the next
// call with a smaller share and range stealing has less to fix. A rate, not a count of
// units: a worker that joined late (woken from a park) did fewer units but is not slow. The policy is out of line
// (src/parallel/share_hint.cpp): retuning it does not recompile users.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "weft/detail/range_loop.hpp"
#include "weft/export.hpp"

namespace weft::detail {

// Relaxed atomics throughout: a hint, never a contract. Calls of one site racing from
// several threads only blur it.
class ShareHint {
 public:
  // Teams up to this size adapt; larger ones split equally.
  static constexpr unsigned max_slots = 16;

  // Each slot's weight for a team of `team` (1 = an equal share) into `weights`; false
  // when the split should be equal: no history for this team size, or every weight
  // within the dead band of 1 (a quiet machine keeps stable shares, and their cache
  // reuse, exactly).
  WEFT_EXPORT bool weights(unsigned team, float (&weights)[max_slots]) const noexcept;
  // After a call with `team` slots that completed: what slot k ran, `runs[k]`. Slots
  // that ran nothing (their thread never came) say nothing and keep their weight.
  WEFT_EXPORT void learn(unsigned team, const SlotRun* runs) noexcept;

 private:
  std::atomic<std::uint32_t> team_{0};
  // Weights in 1/1024ths; 0 stands for 1024 (constant-initialized storage).
  std::array<std::atomic<std::uint16_t>, max_slots> weight_{};
};

// One ShareHint per loop body type, like CostHint.
template <class Exec>
ShareHint& share_hint_for() noexcept {
  static ShareHint hint;  // constant-initialized: no guard on the hot path
  return hint;
}

}  // namespace weft::detail
