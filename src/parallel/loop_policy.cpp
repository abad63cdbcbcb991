// The sizing policy of parallel_for / _2d / _3d / parallel_reduce
// (weft/detail/loop_policy.hpp): out of line so that retuning it is a library rebuild.
#include "weft/detail/loop_policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "weft/detail/checked.hpp"

namespace weft::detail {

// Thresholds of right-sized teams (docs/loops.md, "Right-sized teams"). Times are of the
// loop body as measured on the calling thread.
namespace loop_tuning {
namespace {
// The probe grows by 4x until it took this long, so that a clock read (~20 ns) is a
// small part of what it measures.
constexpr double probe_ns = 1000;
// A thread is invited only if it gets at least this much work: waking a worker and
// handing it a share costs about a microsecond, more when it sleeps. A loop with less
// than twice this much left after the probe finishes on the caller alone.
constexpr double min_ns_per_thread = 2000;
// A worker that is awake (spinning, or finishing other work) takes an invitation from
// its mailbox with no syscall on either side (~0.3 us when it spins), so it is worth
// inviting for less. If it does not come, the caller steals its share back.
constexpr double min_ns_per_awake_thread = 500;
// Chunks taken from a share are a quarter of what is left, but no shorter than this
// (so that a claim, one uncontended CAS, stays ~1% of the work)...
constexpr double min_chunk_ns = 1000;
// ...and no longer than this: the time after a body threw before the others stop,
// and for Priority::low the longest a loop keeps a worker from more urgent work (the
// preemption point of background loops: every chunk boundary).
constexpr double max_chunk_ns = 1'000'000;
constexpr double low_max_chunk_ns = 100'000;
// Shares follow each slot's measured rate (ShareHint) only in loops with at least this
// much work per thread: two clock reads per slot are then under 0.5% of it, and a
// shorter loop has too little to rebalance.
constexpr double min_ns_per_thread_to_adapt = 20'000;
}  // namespace
}  // namespace loop_tuning

std::size_t least_claim(std::size_t grain, std::size_t chunk) noexcept {
  if (chunk == 0) return grain;
  if (grain <= chunk) return chunk;
  std::size_t items;
  return checked_mul(ceil_div(grain, chunk), chunk, items) ? items : SIZE_MAX / chunk * chunk;
}

LoopShape shape_for(std::size_t items, std::size_t least) noexcept {
  LoopShape s;
  s.unit = least == 0 ? 1 : least;
  std::size_t units = ceil_div(items, s.unit);
  if (units > max_range_units) {
    // Cannot overflow: units > max_range_units means unit < items / max_range_units
    // (< 2^32), and per <= units / max_range_units + 1, so
    // unit * per <= (items + unit) / max_range_units + unit < 2^34.
    const std::size_t per = ceil_div(units, max_range_units);
    s.unit *= per;
    units = ceil_div(items, s.unit);  // = ceil(units / per) <= max_range_units
  }
  s.units = static_cast<std::uint32_t>(units);
  return s;
}

ChunkPolicy chunk_policy_for(double ns_per_unit, Priority priority) noexcept {
  const double ns = std::max(ns_per_unit, 0.01);
  const double max_ns = priority == Priority::low ? loop_tuning::low_max_chunk_ns
                                                  : loop_tuning::max_chunk_ns;
  auto units_for = [&](double t) {
    const double u = t / ns;
    return u < 1 ? std::uint32_t{1}
                 : static_cast<std::uint32_t>(std::min(u, double{max_range_units}));
  };
  return ChunkPolicy{units_for(loop_tuning::min_chunk_ns), units_for(max_ns)};
}

unsigned team_for(double ns_per_unit, std::uint32_t units, unsigned cap,
                  unsigned awake) noexcept {
  const double work = ns_per_unit * units;
  auto threads_for = [&](double ns_per_thread, double most) {
    const double want = work / ns_per_thread;
    return want >= most ? most : std::floor(want);
  };
  const double awake_team = threads_for(loop_tuning::min_ns_per_awake_thread,
                                        std::min<double>(cap, 1.0 + awake));
  const double any_team = threads_for(loop_tuning::min_ns_per_thread, cap);
  return std::max(1u, static_cast<unsigned>(std::max(awake_team, any_team)));
}

double probe_target_ns() noexcept { return loop_tuning::probe_ns; }

bool worth_adapting_shares(unsigned team, double work_ns) noexcept {
  return work_ns >= loop_tuning::min_ns_per_thread_to_adapt * team;
}

}  // namespace weft::detail
