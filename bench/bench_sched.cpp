// Scheduler benchmarks: weft beside oneTBB and OpenMP, 2 threads each (caller included).
//
//   fib/N            fib(N) with one task per call (no cutoff): spawn + steal + join cost
//   round_trip       submit one empty task from an external thread, wait for it
//   idle_cpu         after a burst of work, process CPU time burnt during the next second
//                    (counter idle_cpu_ms; weft's goal: <= workers x Config::spin)
//   idle_cpu_after_stream  the same after a stream of small loops 1 ms apart, which
//                    grows weft's spin (docs/scheduler.md); goal: <= workers x
//                    Config::spin_max (5 ms each)
//
// Times are wall-clock; the CPU column is the whole process's CPU time (all threads,
// spinning included), which also shows how much of a loaded machine each library got.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <time.h>

#include <chrono>
#include <thread>

#include "weft/weft.hpp"

namespace {

constexpr unsigned threads = 2;

weft::Scheduler& weft_sched() {
  static weft::Scheduler sched([] {
    weft::Config c = weft::Config::from_env();
    c.num_threads = threads;
    return c;
  }());
  return sched;
}

// --- fib, a task per call ---------------------------------------------------------------

long fib_weft(weft::Scheduler& s, int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  weft::TaskGroup g(s);
  g.run([&] { a = fib_weft(s, n - 1); });
  g.run([&] { b = fib_weft(s, n - 2); });
  g.wait();
  return a + b;
}

long fib_tbb(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  tbb::task_group g;
  g.run([&] { a = fib_tbb(n - 1); });
  g.run([&] { b = fib_tbb(n - 2); });
  g.wait();
  return a + b;
}

long fib_omp(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
#pragma omp task shared(a)
  a = fib_omp(n - 1);
#pragma omp task shared(b)
  b = fib_omp(n - 2);
#pragma omp taskwait
  return a + b;
}

void BM_fib_weft(benchmark::State& state) {
  weft::Scheduler& s = weft_sched();
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(fib_weft(s, n));
}

void BM_fib_tbb(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(fib_tbb(n));
}

void BM_fib_omp(benchmark::State& state) {
  omp_set_num_threads(threads);
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    long r = 0;
#pragma omp parallel
#pragma omp single
    r = fib_omp(n);
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_fib_weft)->Arg(30)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_fib_tbb)->Arg(30)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_fib_omp)->Arg(30)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

// --- round trip of one empty task ----------------------------------------------------------

void BM_round_trip_weft(benchmark::State& state) {
  weft::Scheduler& s = weft_sched();
  for (auto _ : state) s.submit([] {}).get();
}

// The task must run on the worker (strict hint): a cross-thread hand-off both ways.
void BM_round_trip_weft_remote(benchmark::State& state) {
  weft::Scheduler& s = weft_sched();
  weft::TaskOptions o;
  o.worker = 0;
  o.strict = true;
  for (auto _ : state) s.submit([] {}, o).get();
}

void BM_round_trip_tbb(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  tbb::task_arena arena(static_cast<int>(threads));
  tbb::task_group g;
  for (auto _ : state) {
    arena.execute([&] { g.run([] {}); });
    arena.execute([&] { g.wait(); });
  }
}

void BM_round_trip_omp(benchmark::State& state) {
  omp_set_num_threads(threads);
  for (auto _ : state) {
#pragma omp parallel
#pragma omp single
    {
#pragma omp task
      benchmark::ClobberMemory();
#pragma omp taskwait
    }
  }
}

BENCHMARK(BM_round_trip_weft)->Unit(benchmark::kMicrosecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_round_trip_weft_remote)->Unit(benchmark::kMicrosecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_round_trip_tbb)->Unit(benchmark::kMicrosecond)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_round_trip_omp)->Unit(benchmark::kMicrosecond)->UseRealTime()->MeasureProcessCPUTime();

// --- idle CPU after a burst ----------------------------------------------------------------

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <class Burst>
void measure_idle(benchmark::State& state, Burst burst) {
  double total = 0;
  for (auto _ : state) {
    burst();
    const double before = process_cpu_ms();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    total += process_cpu_ms() - before;
  }
  state.counters["idle_cpu_ms"] = total / static_cast<double>(state.iterations());
}

void BM_idle_cpu_weft(benchmark::State& state) {
  weft::Scheduler& s = weft_sched();
  measure_idle(state, [&] { benchmark::DoNotOptimize(fib_weft(s, 20)); });
}

void BM_idle_cpu_tbb(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  measure_idle(state, [] { benchmark::DoNotOptimize(fib_tbb(20)); });
}

void BM_idle_cpu_omp(benchmark::State& state) {
  omp_set_num_threads(threads);
  measure_idle(state, [] {
    long r = 0;
#pragma omp parallel
#pragma omp single
    r = fib_omp(20);
    benchmark::DoNotOptimize(r);
  });
}

BENCHMARK(BM_idle_cpu_weft)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_idle_cpu_tbb)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_idle_cpu_omp)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// A request stream: 200 loops of two ~20 us items, one every millisecond (the last one
// is the burst idle_cpu measures after).
constexpr int stream_requests = 200;

void item_work(std::size_t i) {
  double x = static_cast<double>(i);
  for (int k = 0; k < 20000; ++k) x = x * 1.0000001 + 0.5;
  benchmark::DoNotOptimize(x);
}

template <class Loop>
void request_stream(Loop loop) {
  auto next = std::chrono::steady_clock::now();
  for (int r = 0; r < stream_requests; ++r) {
    next += std::chrono::milliseconds(1);
    std::this_thread::sleep_until(next);
    loop();
  }
}

void BM_idle_cpu_after_stream_weft(benchmark::State& state) {
  weft::Scheduler& s = weft_sched();
  measure_idle(state, [&] {
    request_stream([&] { s.parallel_for(0, 2, [](std::size_t i) { item_work(i); }); });
  });
}

void BM_idle_cpu_after_stream_tbb(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  measure_idle(state, [] {
    request_stream([] { tbb::parallel_for(std::size_t{0}, std::size_t{2}, item_work); });
  });
}

void BM_idle_cpu_after_stream_omp(benchmark::State& state) {
  omp_set_num_threads(threads);
  measure_idle(state, [] {
    request_stream([] {
#pragma omp parallel for
      for (int i = 0; i < 2; ++i) item_work(static_cast<std::size_t>(i));
    });
  });
}

BENCHMARK(BM_idle_cpu_after_stream_weft)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_idle_cpu_after_stream_tbb)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_idle_cpu_after_stream_omp)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// --- what observability costs: fib with metrics off / on / on + tracing ----------------
// Arg 1: 0 = Config::metrics off, 1 = metrics on (the default), 2 = metrics + tracing.
namespace {

weft::Scheduler& observed_sched(int mode) {
  auto make = [](int m) {
    weft::Config c = weft::Config::from_env();
    c.num_threads = threads;
    c.metrics = m >= 1;
    c.trace_capacity = m == 2 ? 1 << 16 : 0;
    return c;
  };
  static weft::Scheduler off(make(0)), on(make(1)), traced(make(2));
  return mode == 0 ? off : mode == 1 ? on : traced;
}

void BM_fib_weft_observe(benchmark::State& state) {
  weft::Scheduler& s = observed_sched(static_cast<int>(state.range(1)));
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(fib_weft(s, n));
}
BENCHMARK(BM_fib_weft_observe)->ArgsProduct({{30}, {0, 1, 2}})->ArgNames({"n", "observe"})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
