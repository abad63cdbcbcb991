// Priority serving: live requests (small MLP forward passes, urgent, one every
// --period-us) while a background batch (larger MLP forward passes, low priority)
// saturates the cores; weft beside oneTBB and OpenMP, 2 threads per parallel region
// each (the caller included), in the same run.
//
//   weft:   one Scheduler (num_threads 2, Config::background_nice); requests are
//           Priority::critical loops, the batch Priority::low loops.
//   oneTBB: batch in a task_arena(2, 1, priority::low), requests in a
//           task_arena(2, 1, priority::high).
//   OpenMP: batch and requests in parallel regions (num_threads(2)) of two threads.
// The batch's driver thread lowers its own nice value to 19 for every engine (what a
// server does for a batch thread; --no-nice-driver turns it off).
//
// A plain main printing a table, not Google Benchmark: the quantities are latency
// percentiles of a request stream and the throughput of a concurrent batch, measured
// together over one timeline, which does not map onto Benchmark's timed iterations.
//
//   weft-bench-priority [--requests N] [--period-us P] [--engines weft,tbb,omp]
//                       [--background-nice N] [--no-nice-driver]
#include <omp.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../examples/priority_serving.hpp"
#include "weft/weft.hpp"

namespace {

constexpr unsigned kThreads = 2;

std::size_t tiles_of(std::size_t n, std::size_t t) { return (n + t - 1) / t; }

struct Row {
  const char* engine;
  serving::RunResult unloaded, loaded;
  double background_alone = 0;
};

void print_rows(const Row* rows, int n) {
  std::printf("%-6s | %-29s | %-29s | %s\n", "", "submit->done ms (p50/p99/max)",
              "arrival->done ms (p50/p99/max)", "background passes/s");
  std::printf("%-6s-+-%-29s-+-%-29s-+-%s\n", "------", "-----------------------------",
              "-----------------------------", "--------------------");
  for (int i = 0; i < n; ++i) {
    const Row& r = rows[i];
    for (int loaded = 0; loaded < 2; ++loaded) {
      const serving::Latencies& l = loaded ? r.loaded.latency : r.unloaded.latency;
      std::printf("%-6s | %-8s %6.3f %6.3f %6.3f | %-8s %6.3f %6.3f %6.3f | ",
                  loaded ? "" : r.engine, loaded ? "loaded" : "unloaded",
                  serving::percentile(l.from_submit_ms, 0.5),
                  serving::percentile(l.from_submit_ms, 0.99),
                  serving::percentile(l.from_submit_ms, 1.0), loaded ? "loaded" : "unloaded",
                  serving::percentile(l.from_arrival_ms, 0.5),
                  serving::percentile(l.from_arrival_ms, 0.99),
                  serving::percentile(l.from_arrival_ms, 1.0));
      if (loaded) {
        std::printf("%.1f under requests\n", r.loaded.background_passes_per_s);
      } else {
        std::printf("%.1f alone\n", r.background_alone);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 300;
  long period_us = 2000;
  int background_nice = 19;
  bool nice_driver = true;
  std::string engines = "weft,tbb,omp";
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return std::strcmp(argv[i], name) == 0 && i + 1 < argc; };
    if (arg("--requests")) requests = std::atoi(argv[++i]);
    else if (arg("--period-us")) period_us = std::atol(argv[++i]);
    else if (arg("--engines")) engines = argv[++i];
    else if (arg("--background-nice")) background_nice = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--no-nice-driver") == 0) nice_driver = false;
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  const std::chrono::microseconds period(period_us);
  const std::chrono::milliseconds alone(500);
  Row table[3];
  int n = 0;

  if (engines.find("weft") != std::string::npos) {
    weft::Config config = weft::Config::from_env();  // WEFT_SPIN etc. apply
    config.num_threads = kThreads;
    config.pinning = weft::Pinning::none;
    config.background_nice = background_nice;
    weft::Scheduler sched(config);
    auto tiles_at = [&](weft::Priority p) {
      return [&sched, p](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                         auto&& body) {
        sched.parallel_for_2d(rows, cols, tr, tc, body, weft::ForOptions{.priority = p});
      };
    };
    Row& r = table[n++];
    r.engine = "weft";
    r.background_alone = serving::background_alone(tiles_at(weft::Priority::low), alone);
    r.unloaded = serving::run_phase(tiles_at(weft::Priority::critical),
                                    tiles_at(weft::Priority::low), false, requests, period,
                                    nice_driver);
    r.loaded = serving::run_phase(tiles_at(weft::Priority::critical),
                                  tiles_at(weft::Priority::low), true, requests, period,
                                  nice_driver);
    std::printf("weft: background_nice %d, in effect: %s\n", background_nice,
                sched.background_nice_active() ? "yes" : "no");
  }
  if (engines.find("tbb") != std::string::npos) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kThreads);
    tbb::task_arena low(static_cast<int>(kThreads), 1, tbb::task_arena::priority::low);
    tbb::task_arena high(static_cast<int>(kThreads), 1, tbb::task_arena::priority::high);
    auto tiles_in = [](tbb::task_arena& arena) {
      return [&arena](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                      auto&& body) {
        const std::size_t tc_n = tiles_of(cols, tc);
        const std::size_t count = tiles_of(rows, tr) * tc_n;
        arena.execute([&] {
          tbb::parallel_for(std::size_t{0}, count, [&](std::size_t t) {
            const std::size_t r0 = t / tc_n * tr, c0 = t % tc_n * tc;
            body(r0, std::min(rows, r0 + tr), c0, std::min(cols, c0 + tc));
          });
        });
      };
    };
    Row& r = table[n++];
    r.engine = "tbb";
    r.background_alone = serving::background_alone(tiles_in(low), alone);
    r.unloaded = serving::run_phase(tiles_in(high), tiles_in(low), false, requests, period,
                                    nice_driver);
    r.loaded = serving::run_phase(tiles_in(high), tiles_in(low), true, requests, period,
                                  nice_driver);
  }
  if (engines.find("omp") != std::string::npos) {
    auto omp_tiles = [](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                        auto&& body) {
      const std::size_t tc_n = tiles_of(cols, tc);
      const long count = static_cast<long>(tiles_of(rows, tr) * tc_n);
#pragma omp parallel for num_threads(kThreads) schedule(dynamic, 1)
      for (long t = 0; t < count; ++t) {
        const std::size_t r0 = static_cast<std::size_t>(t) / tc_n * tr;
        const std::size_t c0 = static_cast<std::size_t>(t) % tc_n * tc;
        body(r0, std::min(rows, r0 + tr), c0, std::min(cols, c0 + tc));
      }
    };
    Row& r = table[n++];
    r.engine = "omp";
    r.background_alone = serving::background_alone(omp_tiles, alone);
    r.unloaded = serving::run_phase(omp_tiles, omp_tiles, false, requests, period, nice_driver);
    r.loaded = serving::run_phase(omp_tiles, omp_tiles, true, requests, period, nice_driver);
  }
  std::printf("%d requests every %ld us, 2 threads per parallel region, batch driver %s\n",
              requests, period_us, nice_driver ? "at nice 19" : "at nice 0");
  print_rows(table, n);
  return 0;
}
