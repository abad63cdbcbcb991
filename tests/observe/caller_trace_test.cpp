// Caller lanes (caller_trace.hpp): the spans of threads weft did not create (a loop's
// caller running slot 0, a waiter running tasks) get a trace track of their own,
// "caller (tid N)", that weft-plot draws as a lane. Timestamps are injected or only
// compared with each other: no wall-clock assertions.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/thread_id.hpp"
#include "observe/caller_trace.hpp"
#include "observe/observer.hpp"
#include "observe/trace_writer.hpp"
#include "temp_dir.hpp"

extern char** environ;

namespace weft::detail {

using json = nlohmann::json;

namespace {

using State = WorkerObserver::State;

Span span_at(std::uint64_t t, const char* name = "s") {
  return Span{name, Priority::normal, SpanKind::task, t, t + 1};
}

Placement placement(unsigned workers) {
  Placement p;
  p.cpu_budget = workers + 1;
  for (unsigned i = 0; i < workers; ++i) {
    WorkerPlacement w;
    w.core = i + 1;
    p.workers.push_back(w);
  }
  return p;
}

// --- CallerTraces ---

TEST(ObserveCallerTrace, OffRecordsNothing) {
  CallerTraces traces(0);
  EXPECT_FALSE(traces.enabled());
  traces.record(span_at(1));
  std::uint64_t lost = 7;
  EXPECT_TRUE(traces.snapshot(&lost).empty());
  EXPECT_EQ(lost, 0u);
  // The scheduler asks the Observer: with tracing off it hands out no caller traces, so
  // the spans of external threads cost nothing (ObservedSpan with both pointers null).
  Observer observer(placement(2), ObserveOptions{});
  EXPECT_EQ(observer.caller_traces(), nullptr);
  { ObservedSpan span(nullptr, observer.caller_traces(), SpanKind::loop, Priority::normal, "x"); }
  const json doc = json::parse(observer.trace_json());
  for (const json& e : doc.at("traceEvents")) EXPECT_NE(e.at("ph").get<std::string>(), "X");
}

TEST(ObserveCallerTrace, OneLanePerThreadWithItsTid) {
  CallerTraces traces(16);
  traces.record(span_at(1));
  traces.record(span_at(2));
  pid_t other = 0;
  std::thread t([&] {
    other = current_tid();
    for (std::uint64_t i = 0; i < 3; ++i) traces.record(span_at(10 + i));
  });
  t.join();
  traces.record(span_at(3));
  const auto lanes = traces.snapshot();
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[0].tid, current_tid());
  EXPECT_FALSE(lanes[0].shared);
  ASSERT_EQ(lanes[0].snapshot.spans.size(), 3u);
  EXPECT_EQ(lanes[0].snapshot.spans[2].begin_ns, 3u);
  EXPECT_EQ(lanes[1].tid, other);
  EXPECT_FALSE(lanes[1].shared);
  EXPECT_EQ(lanes[1].snapshot.spans.size(), 3u);
  EXPECT_EQ(lanes[1].snapshot.spans[0].begin_ns, 10u);
}

TEST(ObserveCallerTrace, AThreadKeepsItsLaneAcrossSchedulers) {
  // One thread alternating between two tracing schedulers: its one-entry lane cache
  // misses every time, and the lookup must find its lane again, not claim another.
  CallerTraces a(8), b(8);
  for (std::uint64_t i = 0; i < 3; ++i) {
    a.record(span_at(i));
    b.record(span_at(100 + i));
  }
  const auto la = a.snapshot();
  const auto lb = b.snapshot();
  ASSERT_EQ(la.size(), 1u);
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(la[0].snapshot.spans.size(), 3u);
  EXPECT_EQ(lb[0].snapshot.spans.size(), 3u);
  EXPECT_EQ(lb[0].snapshot.spans[0].begin_ns, 100u);
}

TEST(ObserveCallerTrace, ThreadsBeyondTheLimitShareOneLane) {
  // Concurrent writers (TSan checks the shared lane's lock and the lane claims) and a
  // concurrent reader; afterwards no span is lost, only the extra threads' attribution.
  constexpr std::size_t extra = 3, per_thread = 50;
  constexpr std::size_t threads = CallerTraces::max_lanes + extra;
  CallerTraces traces(256);
  std::atomic<bool> go{false};
  std::atomic<std::size_t> finished{0};
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t k = 0; k < per_thread; ++k) traces.record(span_at(i * 1000 + k));
      finished.fetch_add(1);
    });
  }
  go.store(true);
  while (finished.load() < threads) (void)traces.snapshot();
  for (auto& t : pool) t.join();

  std::uint64_t lost = 1;
  const auto lanes = traces.snapshot(&lost);
  EXPECT_EQ(lost, 0u);
  ASSERT_EQ(lanes.size(), CallerTraces::max_lanes + 1);
  for (std::size_t i = 0; i < CallerTraces::max_lanes; ++i) {
    EXPECT_FALSE(lanes[i].shared);
    EXPECT_GT(lanes[i].tid, 0);
    EXPECT_EQ(lanes[i].snapshot.spans.size(), per_thread);
    EXPECT_EQ(lanes[i].snapshot.dropped, 0u);
  }
  EXPECT_TRUE(lanes.back().shared);
  EXPECT_EQ(lanes.back().snapshot.spans.size(), extra * per_thread);
  EXPECT_EQ(lanes.back().snapshot.dropped, 0u);
}

// --- the trace JSON ---

std::map<long, std::string> labels_of(const json& doc) {
  std::map<long, std::string> labels;
  for (const json& e : doc.at("traceEvents"))
    if (e.at("ph").get<std::string>() == "M" && e.at("name").get<std::string>() == "thread_name")
      labels[static_cast<long>(e.at("tid").get<double>())] = e.at("args").at("name").get<std::string>();
  return labels;
}

std::map<long, long> sort_indexes_of(const json& doc) {
  std::map<long, long> order;
  for (const json& e : doc.at("traceEvents"))
    if (e.at("ph").get<std::string>() == "M" && e.at("name").get<std::string>() == "thread_sort_index")
      order[static_cast<long>(e.at("tid").get<double>())] =
          static_cast<long>(e.at("args").at("sort_index").get<double>());
  return order;
}

TEST(ObserveCallerTrace, JsonTracksFollowTheWorkers) {
  std::vector<TraceTrack> tracks(5);
  tracks[0].worker = 0;
  tracks[1].worker = 1;
  tracks[2].kind = TrackKind::caller;
  tracks[2].caller_tid = 4242;
  tracks[2].spans.push_back(Span{"slot0", Priority::high, SpanKind::loop, 1100, 1300});
  tracks[3].kind = TrackKind::caller;
  tracks[3].caller_tid = 1;  // a small tid (PID 1 in a container) equal to worker 1's
  tracks[4].kind = TrackKind::callers;
  tracks[4].dropped = 2;
  const json doc = json::parse(trace_to_json(tracks, 1000, 7));
  const auto labels = labels_of(doc);
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_EQ(labels.at(4242), "caller (tid 4242)");
  EXPECT_EQ(labels.at(1 + caller_tid_offset), "caller (tid 1)");
  EXPECT_EQ(labels.at(1).rfind("worker 1", 0), 0u);
  EXPECT_EQ(labels.at(shared_callers_tid), "other callers (shared lane)");
  const auto order = sort_indexes_of(doc);
  EXPECT_EQ(order.at(0), 0);
  EXPECT_EQ(order.at(1), 1);
  EXPECT_EQ(order.at(4242), 2);
  EXPECT_EQ(order.at(1 + caller_tid_offset), 3);
  EXPECT_EQ(order.at(shared_callers_tid), 4);
  int caller_spans = 0;
  for (const json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() != "X") continue;
    EXPECT_EQ(e.at("tid").get<double>(), 4242.0);
    EXPECT_EQ(e.at("name").get<std::string>(), "slot0");
    EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), 0.1);
    ++caller_spans;
  }
  EXPECT_EQ(caller_spans, 1);
  EXPECT_EQ(doc.at("otherData").at("dropped_spans").get<double>(), 2.0);
}

// What the scheduler does on a thread that is not one of its workers: the span goes to
// the thread's caller lane, labelled with its tid, and is not counted in the metrics.
std::string observer_trace_with_a_caller(Observer& observer) {
  std::thread worker([&observer] {
    WorkerObserver& w = observer.worker(0);
    w.thread_started();
    { ObservedSpan span(&w, SpanKind::task, Priority::low, "worker-task"); }
    w.enter(State::parked);
  });
  worker.join();
  {
    ObservedSpan span(nullptr, observer.caller_traces(), SpanKind::loop, Priority::high,
                      "caller-slot");
  }
  return observer.trace_json();
}

long json_tid_of(pid_t tid, long workers) {
  return tid < workers ? tid + caller_tid_offset : tid;
}

TEST(ObserveCallerTrace, ObserverTraceHasTheCallersTrack) {
  ObserveOptions options;
  options.trace_capacity = 64;
  Observer observer(placement(2), options);
  const json doc = json::parse(observer_trace_with_a_caller(observer));
  const long me = json_tid_of(current_tid(), 2);
  const auto labels = labels_of(doc);
  ASSERT_EQ(labels.size(), 3u);
  ASSERT_EQ(labels.count(me), 1u);
  EXPECT_EQ(labels.at(me), "caller (tid " + std::to_string(current_tid()) + ")");
  EXPECT_EQ(sort_indexes_of(doc).at(me), 2);
  std::map<long, std::vector<std::string>> spans;
  for (const json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() != "X") continue;
    const long tid = static_cast<long>(e.at("tid").get<double>());
    spans[tid].push_back(e.at("name").get<std::string>());
    if (tid == me) {
      EXPECT_EQ(e.at("cat").get<std::string>(), "loop");
      EXPECT_EQ(e.at("args").at("priority").get<std::string>(), "high");
    }
  }
  EXPECT_EQ(spans[me], std::vector<std::string>{"caller-slot"});
  EXPECT_EQ(spans[0], std::vector<std::string>{"worker-task"});
  // Metrics have rows for workers only: the caller's loop part is not a worker's chunk.
  const Metrics m = observer.metrics();
  EXPECT_EQ(m.totals.loop_chunks, 0u);
  EXPECT_EQ(m.totals.tasks_total(), 1u);
}

// weft-plot draws the caller's lane, labelled, with its span.
TEST(ObservePlot, DrawsACallerLane) {
#ifndef WEFT_PLOT_EXE
  GTEST_SKIP() << "weft-plot is not built";
#else
  ObserveOptions options;
  options.trace_capacity = 64;
  Observer observer(placement(2), options);
  const std::string trace = observer_trace_with_a_caller(observer);
  test::TempDir dir;
  const std::string in = dir.write("trace.json", trace);
  const std::string out = (dir.path() / "plot.svg").string();
  std::string exe = WEFT_PLOT_EXE;
  std::vector<char*> argv{exe.data(), const_cast<char*>(in.c_str()), const_cast<char*>(out.c_str()),
                          nullptr};
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, exe.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::ifstream file(out);
  std::stringstream text;
  text << file.rdbuf();
  const std::string svg = text.str();

  const std::string label = "caller (tid " + std::to_string(current_tid()) + ")";
  const std::size_t label_at = svg.find(">" + label + "</text>");
  ASSERT_NE(label_at, std::string::npos) << svg;
  // The label sits in a lane of kind caller, drawn after both workers' lanes, and that
  // lane holds the caller's span.
  const std::size_t lane_at = svg.rfind("<g class=\"lane\"", label_at);
  ASSERT_NE(lane_at, std::string::npos);
  const std::size_t lane_end = svg.find("</g>", label_at);
  const std::string lane = svg.substr(lane_at, lane_end - lane_at);
  EXPECT_NE(lane.find("data-kind=\"caller\""), std::string::npos) << lane;
  EXPECT_NE(lane.find("<title>caller-slot (high"), std::string::npos) << lane;
  EXPECT_NE(svg.rfind(">worker 1 (core 2", lane_at), std::string::npos);
  EXPECT_NE(svg.find("2 workers, 1 caller,"), std::string::npos);
#endif
}

}  // namespace
}  // namespace weft::detail
