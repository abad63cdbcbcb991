// The Observer as the scheduler will drive it: worker threads reporting transitions,
// tasks and steals while another thread takes metrics and resets the window.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "observe/observer.hpp"

namespace weft::detail {

using json = nlohmann::json;

namespace {

using State = WorkerObserver::State;

Placement two_node_placement(unsigned workers) {
  Placement p;
  p.cpu_budget = workers + 1;
  for (unsigned i = 0; i < workers; ++i) {
    WorkerPlacement w;
    w.core = i + 1;
    w.numa_node = i / 2;
    w.l3 = i / 2;
    p.workers.push_back(w);
  }
  return p;
}

// What a worker does per round: a task per priority, a loop part, a steal, a spin and
// a park.
void simulate_worker(Observer& observer, unsigned index, unsigned rounds) {
  WorkerObserver& w = observer.worker(index);
  w.thread_started();
  for (unsigned r = 0; r < rounds; ++r) {
    for (unsigned p = 0; p < num_priorities; ++p) {
      ObservedSpan span(&w, SpanKind::task, static_cast<Priority>(p), "task");
    }
    {
      ObservedSpan span(&w, SpanKind::loop, Priority::normal, "loop");
      span.set_loop_chunks(2);
    }
    w.steal_attempted();
    const unsigned victim = (index + 1) % static_cast<unsigned>(observer.num_workers());
    w.steal_succeeded(observer.distance(index, victim));
    w.enter(State::spinning);
    w.enter(State::parked);
    w.spin_cut(10);
    w.enter(State::busy);
  }
}

TEST(ObserveObserver, StealDistanceFromPlacement) {
  Placement p = two_node_placement(4);
  p.workers[1].l3 = 7;  // same node as worker 0, another L3
  Observer observer(p, ObserveOptions{});
  EXPECT_EQ(observer.distance(2, 3), StealDistance::same_l3);
  EXPECT_EQ(observer.distance(0, 1), StealDistance::same_numa);
  EXPECT_EQ(observer.distance(0, 2), StealDistance::remote);
}

TEST(ObserveObserver, WorkersReportWhileMetricsAreTaken) {
  constexpr unsigned workers = 3, rounds = 200;
  const Placement placement = two_node_placement(workers);
  ObserveOptions options;
  options.trace_capacity = 4096;
  Observer observer(placement, options);
  std::atomic<unsigned> finished{0};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < workers; ++i)
    threads.emplace_back([&, i] {
      simulate_worker(observer, i, rounds);
      observer.worker(i).thread_exiting();
      finished.fetch_add(1);
    });
  // Concurrent readers: metrics and traces must be race-free (TSan) and sane.
  while (finished.load() < workers) {
    const Metrics m = observer.metrics();
    for (const WorkerMetrics& w : m.workers) ASSERT_LE(w.tasks_total(), rounds * num_priorities);
    (void)observer.trace_json();
  }
  for (auto& t : threads) t.join();

  const std::uint64_t now = now_ns();
  const Metrics m = observer.metrics({{1, 0, 0, 2}, {}, {}}, now);
  ASSERT_EQ(m.workers.size(), workers);
  for (const WorkerMetrics& w : m.workers) {
    for (unsigned p = 0; p < num_priorities; ++p) EXPECT_EQ(w.tasks_run[p], rounds);
    EXPECT_EQ(w.loop_chunks, 2u * rounds);
    EXPECT_EQ(w.steals_attempted, rounds);
    EXPECT_EQ(w.steals_succeeded, rounds);
    EXPECT_EQ(w.parks, rounds);
    EXPECT_EQ(w.wakeups, rounds);
    // Every transition happened before `now`: the states cover the window exactly.
    EXPECT_EQ(w.busy_ns + w.spinning_ns + w.parked_ns, m.window_ns);
    EXPECT_GE(w.last_cpu, 0);
    EXPECT_TRUE(w.voluntary_switches.has_value());
  }
  EXPECT_EQ(m.workers[1].core, 2);
  EXPECT_EQ(m.workers[2].numa_node, 1);
  EXPECT_EQ(m.workers[0].queue_depth[3], 2u);
  EXPECT_EQ(m.workers[0].steals_same_l3, rounds);  // 0 -> 1: same L3
  EXPECT_EQ(m.workers[1].steals_remote, rounds);   // 1 -> 2: other node
  EXPECT_EQ(m.totals.tasks_total(), workers * rounds * num_priorities);
  EXPECT_EQ(m.spin_cut_ns, 10u * rounds * workers);
  EXPECT_DOUBLE_EQ(m.cpu_budget, workers + 1.0);

  const json trace = json::parse(observer.trace_json());
  std::vector<int> spans(workers, 0);
  int labels = 0;
  for (const json& e : trace.at("traceEvents")) {
    if (e.at("ph").get<std::string>() == "X") ++spans.at(static_cast<std::size_t>(e.at("tid").get<double>()));
    if (e.at("ph").get<std::string>() == "M" && e.at("name").get<std::string>() == "thread_name") ++labels;
  }
  EXPECT_EQ(labels, static_cast<int>(workers));
  for (int n : spans) EXPECT_EQ(n, static_cast<int>(rounds * (num_priorities + 1)));
}

TEST(ObserveObserver, ResetStartsANewWindow) {
  Observer observer(two_node_placement(2), ObserveOptions{}, 1000);
  WorkerCounters& c = observer.worker(0).counters();
  c.task_run(Priority::high);
  c.enter(State::parked, 1500);
  observer.reset(2000);
  c.enter(State::busy, 2600);
  c.task_run(Priority::low);
  const Metrics m = observer.metrics({}, 3000);
  EXPECT_EQ(m.window_ns, 1000u);
  EXPECT_EQ(m.workers[0].tasks_run[static_cast<unsigned>(Priority::high)], 0u);
  EXPECT_EQ(m.workers[0].tasks_run[static_cast<unsigned>(Priority::low)], 1u);
  EXPECT_EQ(m.workers[0].parked_ns, 600u);
  EXPECT_EQ(m.workers[0].busy_ns, 400u);
  EXPECT_EQ(m.workers[0].wakeups, 1u);
  EXPECT_EQ(m.workers[0].parks, 0u);
  // Worker 1 never started its thread: idle (counted as parked) since the scheduler
  // was built, not busy: it has run nothing.
  EXPECT_EQ(m.workers[1].busy_ns, 0u);
  EXPECT_EQ(m.workers[1].parked_ns, 1000u);
  EXPECT_EQ(m.workers[1].parks, 0u);
  EXPECT_EQ(m.workers[1].wakeups, 0u);
  EXPECT_FALSE(m.workers[1].voluntary_switches.has_value());
}

TEST(ObserveObserver, ContextSwitchesOutliveTheThread) {
  Observer observer(two_node_placement(1), ObserveOptions{});
  std::thread t([&] {
    observer.worker(0).thread_started();
    std::this_thread::yield();
    observer.worker(0).thread_exiting();
  });
  t.join();
  const Metrics m = observer.metrics();
  EXPECT_TRUE(m.workers[0].voluntary_switches.has_value());
  EXPECT_TRUE(m.workers[0].involuntary_switches.has_value());
}

TEST(ObserveObserver, ContextSwitchesOfLiveWorkers) {
  Observer observer(two_node_placement(1), ObserveOptions{});
  std::atomic<bool> started{false}, stop{false};
  std::thread t([&] {
    observer.worker(0).thread_started();
    started.store(true);
    while (!stop.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  const Metrics m = observer.metrics();
  stop.store(true);
  t.join();
  EXPECT_TRUE(m.workers[0].voluntary_switches.has_value());
  EXPECT_TRUE(m.workers[0].involuntary_switches.has_value());
  EXPECT_TRUE(m.totals.voluntary_switches.has_value());
}

TEST(ObserveObserver, AWorkerIsBusyFromItsFirstWorkOn) {
  Observer observer(two_node_placement(1), ObserveOptions{});
  WorkerObserver& w = observer.worker(0);
  w.thread_started();  // this thread plays the worker
  EXPECT_FALSE(w.counters().busy());
  Metrics m = observer.metrics();
  EXPECT_EQ(m.workers[0].busy_ns, 0u);
  EXPECT_EQ(m.workers[0].tasks_total(), 0u);
  {
    ObservedSpan span(&w, SpanKind::task, Priority::normal, "t");
    EXPECT_TRUE(w.counters().busy());
  }
  w.enter(State::spinning);
  w.enter(State::parked);
  m = observer.metrics();
  EXPECT_EQ(m.workers[0].tasks_total(), 1u);
  EXPECT_EQ(m.workers[0].parks, 1u);
  EXPECT_EQ(m.workers[0].wakeups, 0u);
}

TEST(ObserveObserver, CountingOffReadsAllBusy) {
  // Config::metrics = false: no hook reports; its documented reading is all time busy.
  ObserveOptions options;
  options.counting = false;
  Observer observer(two_node_placement(2), options, 1000);
  const Metrics m = observer.metrics({}, 4000);
  for (const WorkerMetrics& w : m.workers) {
    EXPECT_EQ(w.busy_ns, 3000u);
    EXPECT_EQ(w.parked_ns, 0u);
  }
}

}  // namespace
}  // namespace weft::detail
