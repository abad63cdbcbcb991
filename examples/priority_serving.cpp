// Priority serving: live requests stay fast while a background batch saturates the cores.
//
// A background thread runs forward passes of a larger MLP back to back at
// Priority::low (that thread lowers its own nice value to 19: weft changes the OS
// priority only of threads it created); this thread serves "requests" (forward passes of a small MLP) at
// Priority::critical, one every --period-us. Workers running the batch switch to a
// request's tiles at their next chunk boundary (low chunks are at most ~100 us), and
// with Config::background_nice the OS also prefers urgent threads over them.
//
// Prints request latency percentiles without and with the background batch, and the
// batch's throughput alone and under requests. Latency is measured from the request's
// start (submit) and from its scheduled arrival (which also counts a late wake-up).
//
//   priority_serving [--requests N] [--period-us P] [--background-nice N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "priority_serving.hpp"
#include "weft/weft.hpp"

int main(int argc, char** argv) {
  int requests = 200;
  long period_us = 3000;
  int background_nice = 19;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--period-us") == 0) period_us = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--background-nice") == 0) background_nice = std::atoi(argv[i + 1]);
  }

  weft::Config config = weft::Config::from_env();
  config.background_nice = background_nice;  // lower workers' OS priority for low stretches
  weft::Scheduler sched(config);
  auto tiles_at = [&sched](weft::Priority priority) {
    return [&sched, priority](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                              auto&& body) {
      weft::ForOptions options;
      options.priority = priority;
      sched.parallel_for_2d(rows, cols, tr, tc, body, options);
    };
  };
  auto critical = tiles_at(weft::Priority::critical);
  auto low = tiles_at(weft::Priority::low);

  // The requests' answers must not depend on the load: check against a serial run.
  serving::Model check(serving::request_shape()), reference(serving::request_shape());
  check.forward(critical);
  reference.forward(mlp::SerialTiles{});
  const float diff = mlp::max_abs_diff(check.out, reference.out);

  const double alone = serving::background_alone(low, std::chrono::milliseconds(300));
  const std::chrono::microseconds period(period_us);
  serving::RunResult unloaded = serving::run_phase(critical, low, false, requests, period, true);
  serving::RunResult loaded = serving::run_phase(critical, low, true, requests, period, true);

  std::printf("priority_serving: %u threads, %d requests every %ld us, background_nice %d (%s)\n",
              sched.num_threads(), requests, period_us, background_nice,
              sched.background_nice_active() ? "in effect" : "not in effect");
  std::printf("%-22s %9s %9s %9s\n", "request latency (ms)", "p50", "p99", "max");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("%-22s %9.3f %9.3f %9.3f\n", name, serving::percentile(v, 0.5),
                serving::percentile(v, 0.99), serving::percentile(v, 1.0));
  };
  row("idle, from submit", unloaded.latency.from_submit_ms);
  row("idle, from arrival", unloaded.latency.from_arrival_ms);
  row("loaded, from submit", loaded.latency.from_submit_ms);
  row("loaded, from arrival", loaded.latency.from_arrival_ms);
  std::printf("background passes/s: %.1f alone, %.1f under requests\n", alone,
              loaded.background_passes_per_s);
  std::printf("request output vs serial: max |diff| = %g\n", static_cast<double>(diff));
  return diff < 1e-3f ? 0 : 1;
}
