// Chrome trace-event JSON: parses, one track per worker with thread_name metadata,
// complete events in microseconds, clear errors when the file cannot be written.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "observe/observer.hpp"
#include "observe/trace_writer.hpp"
#include "temp_dir.hpp"

namespace weft::detail {

using json = nlohmann::json;

namespace {

std::vector<TraceTrack> three_tracks() {
  std::vector<TraceTrack> tracks(3);
  for (int i = 0; i < 3; ++i) {
    tracks[i].worker = i;
    tracks[i].core = i + 4;
    tracks[i].numa_node = i % 2;
  }
  tracks[0].spans.push_back(Span{"gemm \"tile\"", Priority::critical, SpanKind::loop, 1500, 4250});
  tracks[0].spans.push_back(Span{nullptr, Priority::low, SpanKind::task, 1000, 1200});
  tracks[2].spans.push_back(Span{nullptr, Priority::normal, SpanKind::loop, 900, 2000});  // before origin
  tracks[2].dropped = 7;
  return tracks;
}

TEST(ObserveTraceJson, OneLabelledTrackPerWorker) {
  const json doc = json::parse(trace_to_json(three_tracks(), 1000, 42));
  std::map<int, std::string> labels;
  std::map<int, int> spans;
  for (const json& e : doc.at("traceEvents")) {
    EXPECT_EQ(e.at("pid").get<double>(), 42.0);
    const std::string& ph = e.at("ph").get<std::string>();
    if (ph == "M" && e.at("name").get<std::string>() == "thread_name")
      labels[static_cast<int>(e.at("tid").get<double>())] = e.at("args").at("name").get<std::string>();
    if (ph == "X") ++spans[static_cast<int>(e.at("tid").get<double>())];
  }
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0], "worker 0 (core 4, node 0)");
  EXPECT_EQ(labels[1], "worker 1 (core 5, node 1)");
  EXPECT_EQ(spans[0], 2);
  EXPECT_EQ(spans[1], 0);
  EXPECT_EQ(spans[2], 1);
  EXPECT_EQ(doc.at("otherData").at("dropped_spans").get<double>(), 7.0);
}

TEST(ObserveTraceJson, CompleteEventsInMicroseconds) {
  const json doc = json::parse(trace_to_json(three_tracks(), 1000, 1));
  std::vector<const json*> x;
  for (const json& e : doc.at("traceEvents"))
    if (e.at("ph").get<std::string>() == "X" && e.at("tid").get<double>() == 0) x.push_back(&e);
  ASSERT_EQ(x.size(), 2u);
  // Sorted by start: the unnamed task first, named by its kind.
  EXPECT_EQ(x[0]->at("name").get<std::string>(), "task");
  EXPECT_EQ(x[0]->at("cat").get<std::string>(), "task");
  EXPECT_DOUBLE_EQ(x[0]->at("ts").get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(x[0]->at("dur").get<double>(), 0.2);
  EXPECT_EQ(x[0]->at("args").at("priority").get<std::string>(), "low");
  EXPECT_EQ(x[1]->at("name").get<std::string>(), "gemm \"tile\"");
  EXPECT_EQ(x[1]->at("cat").get<std::string>(), "loop");
  EXPECT_DOUBLE_EQ(x[1]->at("ts").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(x[1]->at("dur").get<double>(), 2.75);
  EXPECT_EQ(x[1]->at("args").at("priority").get<std::string>(), "critical");
}

TEST(ObserveTraceJson, DecisionsAreACounterTrackWithTheirReasons) {
  const std::vector<TraceDecision> decisions = {
      {1000, "adaptive loop threads", 4, ""},
      {3500, "adaptive loop threads", 3, "the cgroup CPU quota throttled the process 2 times"}};
  const json doc = json::parse(trace_to_json(three_tracks(), 1000, 9, decisions));
  std::vector<double> values, times;
  std::vector<std::string> reasons;
  for (const json& e : doc.at("traceEvents")) {
    const std::string& ph = e.at("ph").get<std::string>();
    if (ph == "C") {
      EXPECT_EQ(e.at("name").get<std::string>(), "adaptive loop threads");
      values.push_back(e.at("args").at("value").get<double>());
      times.push_back(e.at("ts").get<double>());
    }
    if (ph == "i") reasons.push_back(e.at("name").get<std::string>());
  }
  EXPECT_EQ(values, (std::vector<double>{4, 3}));
  EXPECT_EQ(times, (std::vector<double>{0.0, 2.5}));
  EXPECT_EQ(reasons, (std::vector<std::string>{"the cgroup CPU quota throttled the process 2 times"}));
}

TEST(ObserveTraceJson, SpanBeforeTheOriginIsClamped) {
  const json doc = json::parse(trace_to_json(three_tracks(), 1000, 1));
  for (const json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() != "X" || e.at("tid").get<double>() != 2) continue;
    EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), 1.0);
  }
}

TEST(ObserveTraceJson, NamesWithControlCharactersRoundTrip) {
  static const char name[] = "tab\there \x01 \\ \"q\" \xc3\xa9";
  std::vector<TraceTrack> tracks(1);
  tracks[0].spans.push_back(Span{name, Priority::high, SpanKind::task, 0, 1});
  const json doc = json::parse(trace_to_json(tracks, 0, 1));
  int found = 0;
  for (const json& e : doc.at("traceEvents"))
    if (e.at("ph").get<std::string>() == "X") {
      EXPECT_EQ(e.at("name").get<std::string>(), name);
      ++found;
    }
  EXPECT_EQ(found, 1);
}

TEST(ObserveTraceJson, EmptyTraceIsValid) {
  const json doc = json::parse(trace_to_json({}, 0, 1));
  EXPECT_EQ(doc.at("traceEvents").size(), 1u);  // the process name
}

TEST(ObserveTraceJson, WriteFailureNamesThePathAndTheReason) {
  const std::string path = "/nonexistent-weft-dir/trace.json";
  try {
    write_text_file(path, "{}");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
}

TEST(ObserveTraceJson, ObserverWritesAParsableFile) {
  weft::test::TempDir dir;
  Placement placement;
  placement.workers.resize(2);
  placement.workers[1].core = 3;
  ObserveOptions options;
  options.trace_capacity = 16;
  Observer observer(placement, options);
  { ObservedSpan s(&observer.worker(1), SpanKind::task, Priority::high, "step"); }
  const std::string path = (dir.path() / "trace.json").string();
  observer.write_trace(path);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const json doc = json::parse(text.str());
  int named = 0;
  for (const json& e : doc.at("traceEvents"))
    if (e.at("ph").get<std::string>() == "X") {
      EXPECT_EQ(e.at("name").get<std::string>(), "step");
      EXPECT_EQ(e.at("tid").get<double>(), 1.0);
      ++named;
    }
  EXPECT_EQ(named, 1);
}

}  // namespace
}  // namespace weft::detail
