// How a loop is sized: the shape of its range (units of the least claim), the team a
// measured cost is worth, and chunk sizes. The policy and its time thresholds are out
// of line (src/parallel/loop_policy.cpp, docs/loops.md "Right-sized teams"): each is
// called once per loop, not per chunk, so the call costs nothing measurable, and
// retuning it does not recompile users.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/detail/range_loop.hpp"
#include "weft/export.hpp"
#include "weft/options.hpp"

namespace weft::detail {

// Not tuning but part of parallel_reduce's contract (weft/parallel.hpp): the chunk of
// a deterministic reduce fixes its result bit for bit, so it stays a compile-time
// constant that the tests check against.
namespace loop_tuning {
// parallel_reduce with deterministic = true and chunk = 0 uses chunks of this many
// iterations, whatever the number of threads.
inline constexpr std::size_t deterministic_chunk = 1024;
// ...and holds the partials of at most this many chunks at a time: a range of more
// chunks runs as consecutive windows of them, each folded into the result before the
// next starts (the combine order, hence the result, is the same). Memory stays bounded
// whatever range and grain the caller picks; a window is one fork-join, so it is kept
// large enough (16 Ki chunks, 16 Mi iterations at the default chunk) to cost nothing.
inline constexpr std::size_t deterministic_window = std::size_t{1} << 14;
}  // namespace loop_tuning

// How one loop's range is cut: units of `unit` items, `units` of them.
struct LoopShape {
  std::size_t unit = 1;
  std::uint32_t units = 0;
};

// The items a thread claims at least (0: 1): `grain`, rounded up to whole chunks when
// `chunk` is set (ForOptions). Past SIZE_MAX it is the most whole chunks that fit.
WEFT_EXPORT std::size_t least_claim(std::size_t grain, std::size_t chunk) noexcept;
inline std::size_t least_claim(const ForOptions& options) noexcept {
  return least_claim(options.grain, options.chunk);
}

// Every range has a shape: a range of up to 2^32 - 1 claims of `least` items has one
// unit per claim; a larger one (up to SIZE_MAX items) makes each unit a whole number of
// them, so that every item is still covered exactly once with 32-bit unit indices.
WEFT_EXPORT LoopShape shape_for(std::size_t items, std::size_t least) noexcept;

// Chunk sizes (in units) for a body that costs `ns_per_unit`.
WEFT_EXPORT ChunkPolicy chunk_policy_for(double ns_per_unit, Priority priority) noexcept;

// Threads worth inviting for `units` units of `ns_per_unit` each, at most `cap`, when
// `awake` workers are not parked: those are cheap to add, parked ones cost a wake-up.
WEFT_EXPORT unsigned team_for(double ns_per_unit, std::uint32_t units, unsigned cap,
                              unsigned awake = 0) noexcept;

// How long the probe (the first units, run and timed on the caller) runs at least.
WEFT_EXPORT double probe_target_ns() noexcept;

// Whether a team of `team` threads with `work_ns` of work in all has enough per thread
// for its shares to follow the slots' measured rates (ShareHint).
WEFT_EXPORT bool worth_adapting_shares(unsigned team, double work_ns) noexcept;

}  // namespace weft::detail
