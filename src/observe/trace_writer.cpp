#include "observe/trace_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "observe/json_escape.hpp"

namespace weft::detail {

namespace {

// Microseconds with nanosecond precision, the unit the trace-event format uses.
void append_us(std::string& out, std::uint64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%" PRIu64 ".%03u", ns / 1000,
                static_cast<unsigned>(ns % 1000));
  out += buffer;
}

std::string track_label(const TraceTrack& t) {
  if (t.kind == TrackKind::caller) return "caller (tid " + std::to_string(t.caller_tid) + ")";
  if (t.kind == TrackKind::callers) return "other callers (shared lane)";
  std::string label = (t.background ? "background worker " : "worker ") + std::to_string(t.worker);
  if (t.core >= 0 || t.numa_node >= 0) {
    label += " (";
    if (t.core >= 0) label += "core " + std::to_string(t.core);
    if (t.core >= 0 && t.numa_node >= 0) label += ", ";
    if (t.numa_node >= 0) label += "node " + std::to_string(t.numa_node);
    label += ")";
  }
  return label;
}

}  // namespace

std::string trace_to_json(const std::vector<TraceTrack>& tracks, std::uint64_t origin_ns, int pid,
                          const std::vector<TraceDecision>& decisions) {
  const std::string pid_text = std::to_string(pid);
  std::string out;
  out += "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + pid_text +
         ",\"tid\":0,\"args\":{\"name\":\"weft\"}}";
  std::uint64_t dropped = 0;
  std::set<long> worker_tids;
  long last_worker = -1;
  for (const TraceTrack& track : tracks) {
    if (track.kind != TrackKind::worker) continue;
    worker_tids.insert(track.worker);
    last_worker = std::max<long>(last_worker, track.worker);
  }
  long next_sort = last_worker + 1;  // callers after the workers, in the order given
  for (const TraceTrack& track : tracks) {
    dropped += track.dropped;
    long tid = track.worker;
    long sort = track.worker;
    if (track.kind != TrackKind::worker) {
      tid = track.kind == TrackKind::callers ? shared_callers_tid
            : worker_tids.count(track.caller_tid) != 0 ? track.caller_tid + caller_tid_offset
                                                       : track.caller_tid;
      sort = next_sort++;
    }
    const std::string tid_text = std::to_string(tid);
    out += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" + pid_text + ",\"tid\":" + tid_text +
           ",\"args\":{\"name\":";
    append_json_string(out, track_label(track));
    out += "}}";
    out += ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" + pid_text +
           ",\"tid\":" + tid_text + ",\"args\":{\"sort_index\":" + std::to_string(sort) + "}}";
    // Viewers nest complete events on one track by start time, outer (longer) first.
    std::vector<Span> spans = track.spans;
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.begin_ns != b.begin_ns ? a.begin_ns < b.begin_ns : a.end_ns > b.end_ns;
    });
    for (const Span& s : spans) {
      const std::uint64_t begin = std::max(s.begin_ns, origin_ns);
      const std::uint64_t end = std::max(s.end_ns, begin);
      const char* kind = s.kind == SpanKind::task ? "task" : "loop";
      out += ",\n{\"ph\":\"X\",\"name\":";
      append_json_string(out, s.name != nullptr ? s.name : kind);
      out += ",\"cat\":\"";
      out += kind;
      out += "\",\"pid\":" + pid_text + ",\"tid\":" + tid_text + ",\"ts\":";
      append_us(out, begin - origin_ns);
      out += ",\"dur\":";
      append_us(out, end - begin);
      out += ",\"args\":{\"priority\":\"";
      out += to_string(s.priority);
      out += "\"}}";
    }
  }
  // Decisions: a counter (its own track in the viewer) and an instant event with why.
  for (const TraceDecision& d : decisions) {
    const std::uint64_t ts = std::max(d.time_ns, origin_ns) - origin_ns;
    out += ",\n{\"ph\":\"C\",\"name\":";
    append_json_string(out, d.name);
    out += ",\"pid\":" + pid_text + ",\"tid\":0,\"ts\":";
    append_us(out, ts);
    char value[32];
    std::snprintf(value, sizeof value, "%g", d.value);
    out += ",\"args\":{\"value\":";
    out += value;
    out += "}}";
    if (d.why.empty()) continue;
    out += ",\n{\"ph\":\"i\",\"s\":\"p\",\"name\":";
    append_json_string(out, d.why);
    out += ",\"cat\":\"decision\",\"pid\":" + pid_text + ",\"tid\":0,\"ts\":";
    append_us(out, ts);
    out += "}";
  }
  out += "\n],\"otherData\":{\"dropped_spans\":" + std::to_string(dropped) + "}}\n";
  return out;
}

void write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
  }
  const std::size_t written = std::fwrite(text.data(), 1, text.size(), f);
  const int write_errno = errno;
  const bool flushed = std::fflush(f) == 0;
  const int flush_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (written != text.size() || !flushed || !closed) {
    const int err = written != text.size() ? write_errno : flush_errno;
    throw std::runtime_error("cannot write '" + path + "': " + std::strerror(err ? err : EIO));
  }
}

}  // namespace weft::detail
