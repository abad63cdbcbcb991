// The worksharing-loop engine both ABIs (long and unsigned long long) share (loop.cpp).
//
// A loop is kept as iterations 0..count-1 of `start + i * incr` in unsigned 64-bit
// arithmetic (two's complement makes that right for signed loops and for unsigned loops
// counting down); a chunk [b, e) goes back to the caller as start + b*incr and, for the
// last chunk, the loop's own end (start + count*incr could overflow the type).
#pragma once

#include <cstdint>

#include "gomp/runtime.hpp"

namespace weft::gomp {

using u64 = std::uint64_t;

struct LoopSpec {
  u64 start, end, incr;
  bool up;           // counting up (incr is then positive), else down
  Schedule kind;     // runtime already resolved
  u64 chunk;         // 0: the schedule's default
  bool ordered;
  bool is_signed;    // the long ABI: bounds compare as signed
};

// Enters the loop as the member's next worksharing construct and takes its first chunk.
bool loop_begin(ThreadState& ts, const LoopSpec& spec, u64* istart, u64* iend);
// The member's next chunk of the loop it is in; false when none is left.
bool loop_next(ThreadState& ts, u64* istart, u64* iend);
// Leaves the loop; with `wait`, then waits at the team barrier.
void loop_end(ThreadState& ts, bool wait);

// The loop spec for a GOMP_loop_*_start call of the signed-long ABI.
LoopSpec long_spec(long start, long end, long incr, Schedule kind, long chunk, bool ordered);
// Resolves schedule(runtime) and the GOMP_loop_start `sched` word (GFS_* | monotonic).
Schedule resolve_schedule(long sched, long& chunk);

}  // namespace weft::gomp
