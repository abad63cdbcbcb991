// Scheduler::metrics(), reset_metrics() and the trace of a real scheduler: the counts
// match the work done exactly, the time adds up to the window, the trace parses.
//
// Timing: a worker counts a task just after the task's waiter was released, so a test
// that checks counts first waits (no time limit: CTest's timeout catches a hang) until
// the counters reach the work done, then checks them for equality. Loop parts are
// counted before run_loop returns, so loop counts need no waiting.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/thread_id.hpp"
#include "observe/trace_writer.hpp"
#include "sched_test_support.hpp"
#include "weft/metrics.hpp"
#include "weft/scheduler.hpp"

namespace {

using weft::Metrics;
using weft::Priority;
using weft::test::make_placement;
// Rows and tracks here are the placement's workers: no background workers (their rows
// and tracks are checked in sched_background_test.cpp).
weft::Config unpinned(std::chrono::microseconds spin = std::chrono::microseconds{50}) {
  return weft::test::without_background(spin);
}
using json = nlohmann::json;

constexpr std::chrono::microseconds no_spin{0};

template <class Pred>
Metrics wait_for(const weft::Scheduler& s, Pred pred) {
  for (;;) {
    Metrics m = s.metrics();
    if (pred(m)) return m;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

// Every worker asleep, in a window that began when all of them were asleep too (after
// reset_metrics() at quiescence): it went to sleep as often as it woke up. In the first
// window (from construction, workers start awake) a sleeping worker parked once more.
bool all_parked(const Metrics& m, bool first_window) {
  for (const auto& w : m.workers) {
    if (w.parks != w.wakeups + (first_window ? 1 : 0)) return false;
  }
  return true;
}

// A fresh sample once the workers are asleep: each one parked before this sample's
// clock read (the earlier sample saw it parked), so no transition overlaps the sample.
Metrics quiescent_metrics(const weft::Scheduler& s, bool first_window) {
  for (;;) {
    wait_for(s, [&](const Metrics& m) { return all_parked(m, first_window); });
    Metrics m = s.metrics();
    if (all_parked(m, first_window)) return m;
  }
}

std::uint64_t total_time(const weft::WorkerMetrics& w) {
  return w.busy_ns + w.spinning_ns + w.parked_ns;
}

// The calling thread's track id in a trace of `workers` workers: its OS thread id,
// unless that equals a worker index (trace_writer.hpp).
long caller_json_tid(unsigned workers) {
  const pid_t tid = weft::detail::current_tid();
  return tid < static_cast<pid_t>(workers) ? tid + weft::detail::caller_tid_offset : tid;
}

struct Track {
  std::string label;
  std::vector<std::string> task_names, loop_names;
};

std::map<long, Track> tracks_of(const std::string& trace_json) {
  const json trace = json::parse(trace_json);
  std::map<long, Track> tracks;
  for (const auto& e : trace.at("traceEvents")) {
    const std::string& ph = e.at("ph").get<std::string>();
    const long tid = static_cast<long>(e.at("tid").get<double>());
    if (ph == "M" && e.at("name").get<std::string>() == "thread_name") {
      tracks[tid].label = e.at("args").at("name").get<std::string>();
    } else if (ph == "X") {
      auto& names = e.at("cat").get<std::string>() == "task" ? tracks[tid].task_names : tracks[tid].loop_names;
      names.push_back(e.at("name").get<std::string>());
    }
  }
  return tracks;
}

// Runs `slot + 1` chunks in each slot and reports them; remembers which worker ran what.
class ChunkJob final : public weft::detail::LoopJob {
 public:
  ChunkJob(weft::Scheduler& s, bool report) : sched_(s), report_(report) {
    for (auto& c : chunks_) c.store(0);
    for (auto& c : slots_) c.store(0);
  }
  void run_slot(unsigned slot) noexcept override {
    const int w = sched_.current_worker();
    const std::uint64_t chunks = slot + 1;
    if (w >= 0) {
      chunks_[static_cast<unsigned>(w)].fetch_add(chunks);
      slots_[static_cast<unsigned>(w)].fetch_add(1);
    }
    if (report_) weft::detail::report_loop_chunks(chunks);
  }
  std::uint64_t chunks(unsigned worker) const { return chunks_[worker].load(); }
  std::uint64_t slots(unsigned worker) const { return slots_[worker].load(); }

 private:
  weft::Scheduler& sched_;
  bool report_;
  std::array<std::atomic<std::uint64_t>, 8> chunks_;
  std::array<std::atomic<std::uint64_t>, 8> slots_;
};

TEST(SchedMetrics, TasksRunPerPriorityMatchStrictHints) {
  constexpr unsigned workers = 3;
  weft::Scheduler s(make_placement(workers), unpinned());
  std::vector<weft::Future<void>> futures;
  std::uint64_t total = 0;
  for (unsigned w = 0; w < workers; ++w) {
    for (unsigned p = 0; p < weft::num_priorities; ++p) {
      for (unsigned k = 0; k < (w + 1) * (p + 1); ++k) {
        weft::TaskOptions o;
        o.priority = static_cast<Priority>(p);
        o.worker = static_cast<int>(w);
        o.strict = true;
        futures.push_back(s.submit([] {}, o));
        ++total;
      }
    }
  }
  for (auto& f : futures) f.get();
  const Metrics m = wait_for(s, [&](const Metrics& x) { return x.totals.tasks_total() >= total; });
  ASSERT_EQ(m.workers.size(), workers);
  for (unsigned w = 0; w < workers; ++w) {
    EXPECT_EQ(m.workers[w].worker, static_cast<int>(w));
    EXPECT_EQ(m.workers[w].core, static_cast<int>(w + 1));  // make_placement's cores
    for (unsigned p = 0; p < weft::num_priorities; ++p) {
      EXPECT_EQ(m.workers[w].tasks_run[p], (w + 1) * (p + 1)) << "worker " << w << " priority " << p;
    }
    EXPECT_EQ(m.workers[w].loop_chunks, 0u);
  }
  EXPECT_EQ(m.totals.tasks_total(), total);
}

TEST(SchedMetrics, StealsFromABlockedWorkersInbox) {
  constexpr unsigned workers = 3;
  const std::uint64_t tasks = weft::test::scaled(200, 4);
  weft::Scheduler s(make_placement(workers), unpinned());
  std::atomic<bool> started{false}, release{false};
  weft::TaskOptions pin;
  pin.worker = 0;
  pin.strict = true;
  auto blocker = s.submit(
      [&] {
        started = true;
        while (!release.load()) std::this_thread::yield();
      },
      pin);
  weft::test::spin_until(s, "the blocking task's start", started);

  // Queued at worker 0 (not strict): only other workers' steals can run them. The main
  // thread waits without helping, so every one of them is a counted steal.
  std::atomic<std::uint64_t> done{0};
  weft::TaskOptions hint;
  hint.worker = 0;
  for (std::uint64_t i = 0; i < tasks; ++i) s.submit([&] { done.fetch_add(1); }, hint);
  while (done.load() != tasks) std::this_thread::yield();
  const Metrics m = wait_for(s, [&](const Metrics& x) {
    return x.workers[1].tasks_total() + x.workers[2].tasks_total() >= tasks;
  });
  release = true;
  blocker.get();

  EXPECT_EQ(m.workers[0].tasks_total(), 0u);  // the blocker is still running
  EXPECT_EQ(m.workers[0].steals_succeeded, 0u);
  EXPECT_EQ(m.workers[1].tasks_total() + m.workers[2].tasks_total(), tasks);
  EXPECT_EQ(m.totals.steals_succeeded, tasks);
  EXPECT_GE(m.totals.steals_attempted, m.totals.steals_succeeded);
  // make_placement: one NUMA node, one L3.
  EXPECT_EQ(m.totals.steals_same_l3, tasks);
  EXPECT_EQ(m.totals.steals_same_numa, 0u);
  EXPECT_EQ(m.totals.steals_remote, 0u);
}

TEST(SchedMetrics, QueueDepthCountsWaitingTasks) {
  weft::Scheduler s(make_placement(2), unpinned());
  std::atomic<bool> started{false}, release{false};
  weft::TaskOptions pin;
  pin.worker = 0;
  pin.strict = true;
  auto blocker = s.submit(
      [&] {
        started = true;
        while (!release.load()) std::this_thread::yield();
      },
      pin);
  weft::test::spin_until(s, "the blocking task's start", started);
  std::vector<weft::Future<void>> queued;
  pin.priority = Priority::high;
  for (int i = 0; i < 5; ++i) queued.push_back(s.submit([] {}, pin));
  pin.priority = Priority::low;
  for (int i = 0; i < 2; ++i) queued.push_back(s.submit([] {}, pin));
  const Metrics m = s.metrics();
  release = true;
  blocker.get();
  for (auto& f : queued) f.get();
  EXPECT_EQ(m.workers[0].queue_depth[static_cast<unsigned>(Priority::high)], 5u);
  EXPECT_EQ(m.workers[0].queue_depth[static_cast<unsigned>(Priority::low)], 2u);
  EXPECT_EQ(m.workers[0].queue_depth[static_cast<unsigned>(Priority::normal)], 0u);
  EXPECT_EQ(m.workers[1].queue_depth[static_cast<unsigned>(Priority::high)], 0u);
}

TEST(SchedMetrics, LoopChunksAsReportedByTheJob) {
  constexpr unsigned workers = 3;
  weft::Scheduler s(make_placement(workers), unpinned());
  ChunkJob reporting(s, true), silent(s, false);
  for (int i = 0; i < 20; ++i) {
    s.run_loop(reporting, 0, Priority::normal);
    s.run_loop(silent, 0, Priority::high);
  }
  // No wait: a worker's loop part is counted before run_loop returns.
  const Metrics m = s.metrics();
  for (unsigned w = 0; w < workers; ++w) {
    // A job that does not report counts one chunk per slot a worker ran.
    EXPECT_EQ(m.workers[w].loop_chunks, reporting.chunks(w) + silent.slots(w)) << "worker " << w;
    EXPECT_EQ(m.workers[w].tasks_total(), 0u);
  }
}

TEST(SchedMetrics, ParallelForChunksMatchBodyCallsOnWorkers) {
  // With exact chunks and a chunk body, every chunk is one body call, so the
  // loop family's reported chunks must equal the calls each worker made.
  constexpr unsigned workers = 3;
  weft::Scheduler s(make_placement(workers), unpinned());
  std::array<std::atomic<std::uint64_t>, workers> calls{};
  weft::ForOptions o;
  o.chunk = 7;
  for (int pass = 0; pass < 30; ++pass) {
    s.parallel_for(0, 1000, [&](std::size_t b, std::size_t e) {
      volatile std::size_t x = 0;
      for (std::size_t i = b; i < e; ++i) x = x + i;
      const int w = s.current_worker();
      if (w >= 0) calls[static_cast<unsigned>(w)].fetch_add(1);
    }, o);
  }
  const Metrics m = s.metrics();  // loop parts are counted before parallel_for returns
  for (unsigned w = 0; w < workers; ++w) {
    EXPECT_EQ(m.workers[w].loop_chunks, calls[w].load()) << "worker " << w;
  }
}

TEST(SchedMetrics, TimeAddsUpToTheWindow) {
  // The counters add each state's time at transitions from the same clock the window
  // is measured with, so at quiescence (no transition overlaps a sample) the sum is
  // exact: the tolerance is zero clock ticks. With spinning and without.
  for (auto spin : {no_spin, std::chrono::microseconds{100}}) {
    weft::Scheduler s(make_placement(2), unpinned(spin));
    const Metrics first = quiescent_metrics(s, /*first_window=*/true);
    for (const auto& w : first.workers) EXPECT_EQ(total_time(w), first.window_ns);
    s.reset_metrics();
    std::vector<weft::Future<void>> futures;
    for (int w = 0; w < 2; ++w) {
      weft::TaskOptions o;
      o.worker = w;
      o.strict = true;
      for (int k = 0; k < 10; ++k) {
        futures.push_back(s.submit(
            [] {
              volatile std::uint64_t x = 0;
              for (int i = 0; i < 20000; ++i) x = x + static_cast<std::uint64_t>(i);
            },
            o));
      }
    }
    for (auto& f : futures) f.get();
    const Metrics m = quiescent_metrics(s, /*first_window=*/false);
    for (const auto& w : m.workers) {
      EXPECT_EQ(total_time(w), m.window_ns) << "spin " << spin.count() << "us, worker " << w.worker;
      EXPECT_GT(w.busy_ns, 0u);
      EXPECT_GE(w.parks, 1u);
      EXPECT_EQ(w.tasks_total(), 10u);
      if (spin == no_spin) {
        EXPECT_EQ(w.spinning_ns, 0u);
      }
    }
  }
}

TEST(SchedMetrics, ResetStartsANewWindow) {
  weft::Scheduler s(make_placement(2), unpinned());
  weft::TaskOptions o;
  o.worker = 1;
  o.strict = true;
  for (int i = 0; i < 7; ++i) s.submit([] {}, o).get();
  const Metrics before = wait_for(s, [](const Metrics& m) { return m.totals.tasks_total() >= 7; });
  EXPECT_EQ(before.workers[1].tasks_total(), 7u);
  s.reset_metrics();
  const Metrics after = s.metrics();
  EXPECT_EQ(after.totals.tasks_total(), 0u);
  EXPECT_EQ(after.totals.loop_chunks, 0u);
  for (int i = 0; i < 3; ++i) s.submit([] {}, o).get();
  const Metrics later = wait_for(s, [](const Metrics& m) { return m.totals.tasks_total() >= 3; });
  EXPECT_EQ(later.workers[1].tasks_total(), 3u);
  EXPECT_LE(after.window_ns, later.window_ns);
}

TEST(SchedMetrics, MetricsOffCountsNothing) {
  weft::Config c = unpinned();
  c.metrics = false;
  c.trace_capacity = 64;  // ignored when metrics are off
  weft::Scheduler s(make_placement(2), c);
  weft::TaskOptions o;
  o.worker = 0;
  o.strict = true;
  for (int i = 0; i < 5; ++i) s.submit([] {}, o).get();
  ChunkJob job(s, true);
  s.run_loop(job, 0, Priority::normal);
  const Metrics m = s.metrics();
  EXPECT_EQ(m.totals.tasks_total(), 0u);
  EXPECT_EQ(m.totals.loop_chunks, 0u);
  EXPECT_EQ(m.totals.parks, 0u);
  for (const auto& w : m.workers) EXPECT_EQ(w.busy_ns, m.window_ns);
  const json trace = json::parse(s.trace_json());
  for (const auto& e : trace.at("traceEvents")) EXPECT_NE(e.at("ph").get<std::string>(), "X");
}

TEST(SchedMetrics, HardwareCountersUnavailableWhenDisabled) {
  // WEFT_PERF_EVENTS=0 forces the unavailable path (as a VM without a PMU would).
  const char* saved = std::getenv("WEFT_PERF_EVENTS");
  const std::string saved_value = saved ? saved : "";
  setenv("WEFT_PERF_EVENTS", "0", 1);
  weft::Config c = unpinned();
  c.hardware_counters = true;
  {
    weft::Scheduler s(make_placement(2), c);
    s.submit([] {}).get();
    const Metrics m = s.metrics();
    for (const auto& w : m.workers) {
      EXPECT_FALSE(w.cache_references.has_value());
      EXPECT_FALSE(w.cache_misses.has_value());
      EXPECT_FALSE(w.instructions.has_value());
    }
  }
  if (saved) setenv("WEFT_PERF_EVENTS", saved_value.c_str(), 1);
  else unsetenv("WEFT_PERF_EVENTS");
}

TEST(SchedMetrics, TraceCapacityIsChecked) {
  weft::Config c = unpinned();
  c.trace_capacity = (std::size_t{1} << 24) + 1;
  try {
    weft::Scheduler s(make_placement(2), c);
    ADD_FAILURE() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    EXPECT_STREQ(e.what(), "Config::trace_capacity: 16777217 exceeds 16777216");
  }
}

TEST(SchedMetrics, TraceOfARealRunParsesWithBalancedSpans) {
  constexpr unsigned workers = 3;
  weft::Config c = unpinned(no_spin);
  c.trace_capacity = 1024;
  weft::Scheduler s(make_placement(workers), c);
  std::vector<weft::Future<void>> futures;
  for (unsigned w = 0; w < workers; ++w) {
    for (unsigned k = 0; k < 4 + w; ++k) {
      weft::TaskOptions o;
      o.worker = static_cast<int>(w);
      o.strict = true;
      o.priority = k % 2 == 0 ? Priority::critical : Priority::low;
      o.name = k % 2 == 0 ? "decode" : nullptr;
      futures.push_back(s.submit([] {}, o));
    }
  }
  for (auto& f : futures) f.get();
  ChunkJob job(s, true);
  job.name = "gemm";
  for (int i = 0; i < 5; ++i) s.run_loop(job, 0, Priority::high);
  const Metrics m = quiescent_metrics(s, /*first_window=*/true);

  const json trace = json::parse(s.trace_json());
  std::map<int, std::string> labels;
  std::map<int, std::vector<std::pair<std::int64_t, std::int64_t>>> spans;  // ns
  std::map<int, std::uint64_t> tasks, loops, named_decode, named_gemm;
  for (const auto& e : trace.at("traceEvents")) {
    const std::string& ph = e.at("ph").get<std::string>();
    const int tid = static_cast<int>(e.at("tid").get<double>());
    if (ph == "M" && e.at("name").get<std::string>() == "thread_name") {
      labels[tid] = e.at("args").at("name").get<std::string>();
    } else if (ph == "X") {
      const auto begin = static_cast<std::int64_t>(e.at("ts").get<double>() * 1000.0 + 0.5);
      const auto dur = static_cast<std::int64_t>(e.at("dur").get<double>() * 1000.0 + 0.5);
      ASSERT_GE(dur, 0);
      spans[tid].push_back({begin, begin + dur});
      const std::string& cat = e.at("cat").get<std::string>();
      const std::string& name = e.at("name").get<std::string>();
      if (cat == "task") {
        ++tasks[tid];
        if (name == "decode") {
          ++named_decode[tid];
          EXPECT_EQ(e.at("args").at("priority").get<std::string>(), "critical");
        } else {
          EXPECT_EQ(name, "task");
          EXPECT_EQ(e.at("args").at("priority").get<std::string>(), "low");
        }
      } else {
        ASSERT_EQ(cat, "loop");
        EXPECT_EQ(name, "gemm");
        EXPECT_EQ(e.at("args").at("priority").get<std::string>(), "high");
        ++loops[tid];
      }
    }
  }
  EXPECT_EQ(trace.at("otherData").at("dropped_spans").get<double>(), 0.0);
  // The workers' tracks and the test thread's: it ran slot 0 of each loop.
  ASSERT_EQ(labels.size(), workers + 1);
  const int me = static_cast<int>(caller_json_tid(workers));
  EXPECT_EQ(labels[me], "caller (tid " + std::to_string(weft::detail::current_tid()) + ")");
  EXPECT_EQ(loops[me], 5u);
  EXPECT_EQ(tasks[me], 0u);
  for (unsigned w = 0; w < workers; ++w) {
    const int tid = static_cast<int>(w);
    EXPECT_EQ(labels[tid].rfind("worker " + std::to_string(w), 0), 0u) << labels[tid];
    EXPECT_NE(labels[tid].find("core " + std::to_string(w + 1)), std::string::npos) << labels[tid];
    EXPECT_EQ(tasks[tid], 4 + w);
    EXPECT_EQ(named_decode[tid], (4 + w + 1) / 2);
    EXPECT_EQ(loops[tid], job.slots(w));
    EXPECT_EQ(tasks[tid], m.workers[w].tasks_total());
    // Balanced: on one worker, spans are disjoint or nested (a task that waits runs
    // others inside it), never partly overlapping. Rounding to 1 ns allows 1 ns slack.
    auto& v = spans[tid];
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::vector<std::int64_t> open;
    for (const auto& [b, e] : v) {
      while (!open.empty() && open.back() <= b + 1) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(e, open.back() + 1) << "worker " << w << " span at " << b;
      }
      open.push_back(e);
    }
  }
}

TEST(SchedMetrics, FreshSchedulerWorkersAreNotBusy) {
  // A worker that has run nothing has not been busy: neither before its thread started
  // nor while it looked for work and went to sleep (it used to count as busy from
  // construction to its first idle transition: ~100% busy right after construction).
  for (auto spin : {no_spin, std::chrono::microseconds{100}}) {
    weft::Scheduler s(make_placement(2), unpinned(spin));
    const Metrics at_once = s.metrics();
    for (const auto& w : at_once.workers) {
      EXPECT_EQ(w.tasks_total(), 0u);
      EXPECT_EQ(w.loop_chunks, 0u);
      EXPECT_EQ(w.busy_ns, 0u) << "spin " << spin.count() << "us, worker " << w.worker;
    }
    EXPECT_EQ(at_once.totals.busy_ns, 0u);
    const Metrics settled = quiescent_metrics(s, /*first_window=*/true);
    for (const auto& w : settled.workers) {
      EXPECT_EQ(w.tasks_total(), 0u);
      EXPECT_EQ(w.loop_chunks, 0u);
      EXPECT_EQ(w.busy_ns, 0u) << "spin " << spin.count() << "us, worker " << w.worker;
      EXPECT_EQ(w.spinning_ns + w.parked_ns, settled.window_ns);
      EXPECT_EQ(w.parks, 1u);    // it went to sleep once...
      EXPECT_EQ(w.wakeups, 0u);  // ...and starting was not a wake-up
      if (spin == no_spin) {
        EXPECT_EQ(w.spinning_ns, 0u);
      }
    }
    EXPECT_DOUBLE_EQ(settled.imbalance, 1.0);
    // The table says so too: a busy% of 0.0 in each worker row.
    const json doc = json::parse(settled.to_json());
    for (const auto& w : doc.at("workers")) EXPECT_EQ(w.at("busy_ns").get<double>(), 0.0);
  }
}

TEST(SchedMetrics, CallerLaneHoldsTheCallersLoopParts) {
  constexpr unsigned workers = 2;
  weft::Config c = unpinned(no_spin);
  c.trace_capacity = 1024;
  weft::Scheduler s(make_placement(workers), c);
  std::vector<double> v(4096, 1.0);
  weft::ForOptions fo;
  fo.name = "caller-loop";
  fo.priority = Priority::high;
  // Exact chunks: every call runs through run_loop (an automatic sizing may run a
  // small loop on the caller alone, outside any loop, which the trace does not show).
  fo.chunk = 256;
  constexpr int passes = 6;
  for (int pass = 0; pass < passes; ++pass) {
    s.parallel_for(0, v.size(), [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) v[i] = v[i] * 1.5 + 1.0;
    }, fo);
  }
  // No wait: slot 0 on the calling thread is recorded before parallel_for returns.
  auto tracks = tracks_of(s.trace_json());
  const long me = caller_json_tid(workers);
  ASSERT_EQ(tracks.count(me), 1u);
  EXPECT_EQ(tracks[me].label, "caller (tid " + std::to_string(weft::detail::current_tid()) + ")");
  EXPECT_EQ(tracks[me].loop_names, std::vector<std::string>(passes, "caller-loop"));
  EXPECT_TRUE(tracks[me].task_names.empty());
  std::size_t labelled = 0;
  for (const auto& [tid, t] : tracks) labelled += t.label.empty() ? 0 : 1;
  EXPECT_EQ(labelled, workers + 1);

  // With tracing off the caller has no lane (and pays nothing for one).
  weft::Scheduler quiet(make_placement(workers), unpinned(no_spin));
  quiet.parallel_for(0, v.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) v[i] = v[i] * 0.5;
  }, fo);
  EXPECT_EQ(tracks_of(quiet.trace_json()).count(me), 0u);
}

TEST(SchedMetrics, CallerLaneHoldsTasksItRanWhileWaiting) {
  // The one worker is held by a strict task, so the task the test thread then waits
  // for can only run on the test thread itself: as it waits.
  weft::Config c = unpinned(no_spin);
  c.trace_capacity = 256;
  weft::Scheduler s(make_placement(1), c);
  std::atomic<bool> started{false}, release{false};
  weft::TaskOptions pin;
  pin.worker = 0;
  pin.strict = true;
  pin.name = "blocker";
  auto blocker = s.submit(
      [&] {
        started = true;
        while (!release.load()) std::this_thread::yield();
      },
      pin);
  weft::test::spin_until(s, "the blocking task's start", started);
  weft::TaskOptions o;
  o.name = "helped";
  o.priority = Priority::critical;
  s.submit([] {}, o).get();
  auto tracks = tracks_of(s.trace_json());
  const Metrics m = s.metrics();
  release = true;
  blocker.get();

  const long me = caller_json_tid(1);
  ASSERT_EQ(tracks.count(me), 1u);
  EXPECT_EQ(tracks[me].task_names, std::vector<std::string>{"helped"});
  EXPECT_TRUE(tracks[0].task_names.empty());  // the blocker is still running
  EXPECT_EQ(m.totals.tasks_total(), 0u);      // a caller has no metrics row
}

TEST(SchedMetrics, WriteTraceNamesAnUnwritablePath) {
  weft::Scheduler s(make_placement(2), unpinned());
  try {
    s.write_trace("/nonexistent-dir/trace.json");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/trace.json"), std::string::npos);
  }
}

}  // namespace
