// A loop of fixed work (1000 iterations of ~10 us) repeated on 2 threads, on a quiet
// machine and next to a CPU hog: another process spinning on one of the cores, as when
// a neighbour takes a core. weft beside OpenMP (static, dynamic, guided) and oneTBB in
// the same binary. bench/run_hog.sh runs it and prints each library's slowdown
// (time with the hog / time without), and again under a cgroup quota of 1 CPU.
//
//   weft-bench-hog --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Names are Hog_<library>/hog:0|1.
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "burn.hpp"
#include "two_pools.hpp"
#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"

extern char** environ;

namespace {

constexpr unsigned threads = 2;
constexpr std::size_t iterations = 1000;
constexpr double us_per_iteration = 10;
// The hog is killed when its benchmark ends; `timeout` bounds it should this process die
// first (a crash, a kill -9), so that no spinning process outlives the run.
constexpr const char* hog_limit_s = "600";

weft::Scheduler& weft_sched() { return weft::bench::weft_sched<threads>(); }

tbb::task_arena& tbb_arena() { return weft::bench::tbb_arena<threads>(); }

using weft::bench::burn;

// burn() units in one iteration (~10 us), measured once on a quiet machine (the first
// benchmark runs before any hog starts).
std::uint64_t units_per_iteration() {
  static const std::uint64_t units =
      static_cast<std::uint64_t>(static_cast<double>(weft::bench::units_per_us()) * us_per_iteration);
  return units;
}

// The highest CPU this process may run on: where the hog spins. The loop's caller runs
// wherever the kernel puts it; with 2 threads on 2 CPUs one of them shares with the hog.
int hog_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return 0;
}

// The hog: `timeout 600 taskset -c <cpu> sh -c 'while :; do :; done'`, spawned (not
// forked, so no library's fork handlers run) and killed by Teardown.
pid_t hog_pid = 0;

void start_hog(const benchmark::State& state) {
  units_per_iteration();  // measured before the hog exists
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // earlier pools go to sleep
  if (state.range(0) == 0) return;
  const std::string cpu = std::to_string(hog_cpu());
  const char* argv[] = {"timeout", hog_limit_s, "taskset", "-c", cpu.c_str(), "sh", "-c",
                        "while :; do :; done", nullptr};
  if (posix_spawnp(&hog_pid, "timeout", nullptr, nullptr, const_cast<char**>(argv), environ) !=
      0) {
    std::fprintf(stderr, "weft-bench-hog: cannot start the hog (timeout, taskset, sh)\n");
    std::exit(1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // it is spinning by now
}

void stop_hog(const benchmark::State&) {
  if (hog_pid == 0) return;
  kill(hog_pid, SIGTERM);  // timeout passes it on to the shell
  waitpid(hog_pid, nullptr, 0);
  hog_pid = 0;
}

void iteration() { burn(units_per_iteration()); }

void Hog_weft(benchmark::State& state) {
  auto& s = weft_sched();
  for (auto _ : state) s.parallel_for(0, iterations, [](std::size_t) { iteration(); });
}
void Hog_omp_static(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(threads));
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < iterations; ++i) iteration();
  }
}
void Hog_omp_dynamic(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(threads));
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic)
    for (std::size_t i = 0; i < iterations; ++i) iteration();
  }
}
void Hog_omp_guided(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(threads));
  for (auto _ : state) {
#pragma omp parallel for schedule(guided)
    for (std::size_t i = 0; i < iterations; ++i) iteration();
  }
}
void Hog_tbb_auto(benchmark::State& state) {
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, iterations),
                        [](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) iteration();
                        },
                        tbb::auto_partitioner());
    }
  });
}

#define WEFT_BENCH_HOG(name)                                                              \
  BENCHMARK(name)->ArgName("hog")->Arg(0)->Arg(1)->UseRealTime()->Setup(start_hog)       \
      ->Teardown(stop_hog)->Unit(benchmark::kMillisecond)->MinTime(1.0)

WEFT_BENCH_HOG(Hog_weft);
WEFT_BENCH_HOG(Hog_omp_static);
WEFT_BENCH_HOG(Hog_omp_dynamic);
WEFT_BENCH_HOG(Hog_omp_guided);
WEFT_BENCH_HOG(Hog_tbb_auto);

}  // namespace

BENCHMARK_MAIN();
