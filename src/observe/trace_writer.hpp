// Chrome trace-event JSON from the workers' span rings: opens in ui.perfetto.dev and
// chrome://tracing. One track per worker (tid = worker index) labelled
// "worker N (core C, node M)" by thread_name metadata; each span is a complete event
// (ph "X") with ts and dur in microseconds since the scheduler started.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observe/trace_buffer.hpp"

namespace weft::detail {

struct TraceTrack {
  int worker = 0;
  int core = -1;       // -1: unknown (not shown)
  int numa_node = -1;
  std::vector<Span> spans;
  std::uint64_t dropped = 0;  // spans lost to a full ring
};

// `origin_ns` is the time that becomes ts 0 (spans starting earlier are clamped).
std::string trace_to_json(const std::vector<TraceTrack>& tracks, std::uint64_t origin_ns, int pid);

// Writes `text` to `path`, replacing it. Raises std::runtime_error naming the path and
// the errno text when the file cannot be created or written.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace weft::detail
