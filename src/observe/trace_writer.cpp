#include "observe/trace_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string_view>

#include "common/json_writer.hpp"

namespace weft::detail {

namespace {

// Microseconds with nanosecond precision, the unit the trace-event format uses.
void write_us(JsonWriter& json, std::uint64_t ns) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%" PRIu64 ".%03u", ns / 1000,
                static_cast<unsigned>(ns % 1000));
  json.raw_value(digits);
}

// The members every event starts with; the caller closes the object.
void begin_event(JsonWriter& json, const char* phase, std::string_view name) {
  json.begin_object();
  json.key("ph");
  json.string(phase);
  json.key("name");
  json.string(name);
}

void write_thread(JsonWriter& json, int pid, long tid) {
  json.key("pid");
  json.number(pid);
  json.key("tid");
  json.number(tid);
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
  JsonWriter json;
  json.begin_object();
  json.key("displayTimeUnit");
  json.string("ns");
  json.key("traceEvents");
  json.begin_array(JsonWriter::Layout::one_per_line);
  begin_event(json, "M", "process_name");
  write_thread(json, pid, 0);
  json.key("args");
  json.begin_object();
  json.key("name");
  json.string("weft");
  json.end_object();
  json.end_object();
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
    begin_event(json, "M", "thread_name");
    write_thread(json, pid, tid);
    json.key("args");
    json.begin_object();
    json.key("name");
    json.string(track_label(track));
    json.end_object();
    json.end_object();
    begin_event(json, "M", "thread_sort_index");
    write_thread(json, pid, tid);
    json.key("args");
    json.begin_object();
    json.key("sort_index");
    json.number(sort);
    json.end_object();
    json.end_object();
    // Viewers nest complete events on one track by start time, outer (longer) first.
    std::vector<Span> spans = track.spans;
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.begin_ns != b.begin_ns ? a.begin_ns < b.begin_ns : a.end_ns > b.end_ns;
    });
    for (const Span& s : spans) {
      const std::uint64_t begin = std::max(s.begin_ns, origin_ns);
      const std::uint64_t end = std::max(s.end_ns, begin);
      const char* kind = s.kind == SpanKind::task ? "task" : "loop";
      begin_event(json, "X", s.name != nullptr ? s.name : kind);
      json.key("cat");
      json.string(kind);
      write_thread(json, pid, tid);
      json.key("ts");
      write_us(json, begin - origin_ns);
      json.key("dur");
      write_us(json, end - begin);
      json.key("args");
      json.begin_object();
      json.key("priority");
      json.string(to_string(s.priority));
      json.end_object();
      json.end_object();
    }
  }
  // Decisions: a counter (its own track in the viewer) and an instant event with why.
  for (const TraceDecision& d : decisions) {
    const std::uint64_t ts = std::max(d.time_ns, origin_ns) - origin_ns;
    begin_event(json, "C", d.name);
    write_thread(json, pid, 0);
    json.key("ts");
    write_us(json, ts);
    json.key("args");
    json.begin_object();
    json.key("value");
    json.number(d.value);
    json.end_object();
    json.end_object();
    if (d.why.empty()) continue;
    begin_event(json, "i", d.why);
    json.key("s");
    json.string("p");  // process scope: the line spans every track
    json.key("cat");
    json.string("decision");
    write_thread(json, pid, 0);
    json.key("ts");
    write_us(json, ts);
    json.end_object();
  }
  json.end_array();
  json.key("otherData");
  json.begin_object();
  json.key("dropped_spans");
  json.number(dropped);
  json.end_object();
  json.end_object();
  return json.take() + "\n";
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
