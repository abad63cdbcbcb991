// Chrome trace-event JSON from the span rings: opens in ui.perfetto.dev and
// chrome://tracing. One track per worker (tid = worker index) labelled
// "worker N (core C, node M)", then one per calling thread that ran weft work
// (tid = its OS thread id) labelled "caller (tid N)", by thread_name metadata, in that
// order (thread_sort_index); each span is a complete event (ph "X") with ts and dur in
// microseconds since the scheduler started.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observe/trace_buffer.hpp"

namespace weft::detail {

enum class TrackKind : unsigned char {
  worker,   // one of the scheduler's workers
  caller,   // a thread weft did not create: a loop's caller, a waiter that helped
  callers,  // the shared lane of callers beyond CallerTraces::max_lanes
};

struct TraceTrack {
  int worker = 0;
  int core = -1;       // -1: unknown (not shown)
  int numa_node = -1;
  bool background = false;  // a background worker (labelled so)
  TrackKind kind = TrackKind::worker;
  long caller_tid = 0;  // TrackKind::caller: the thread's OS id
  std::vector<Span> spans;
  std::uint64_t dropped = 0;  // spans lost to a full ring
};

// A scheduler-wide decision at one time, e.g. the adaptive loop width changing: a
// counter track `name` with `value`, and an instant event saying `why`.
struct TraceDecision {
  std::uint64_t time_ns = 0;
  const char* name = "";  // a string literal
  double value = 0;
  std::string why;
};

// `origin_ns` is the time that becomes ts 0 (spans starting earlier are clamped).
// A caller track's tid is its OS thread id, moved up by caller_tid_offset if it equals
// a worker track's index (small tids exist: PID 1 in a container); the shared lane's
// tid is shared_callers_tid. Both lie above any OS thread id (PID_MAX_LIMIT is 2^22).
inline constexpr long caller_tid_offset = 1L << 22;
inline constexpr long shared_callers_tid = 1L << 23;
std::string trace_to_json(const std::vector<TraceTrack>& tracks, std::uint64_t origin_ns, int pid,
                          const std::vector<TraceDecision>& decisions = {});

// Writes `text` to `path`, replacing it. Raises std::runtime_error naming the path and
// the errno text when the file cannot be created or written.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace weft::detail
