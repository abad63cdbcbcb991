// Shared by examples/priority_serving.cpp and bench/bench_priority.cpp: a live request
// stream (small MLP forward passes arriving on a fixed schedule) next to a background
// batch (larger MLP forward passes, back to back), each on any threading library given
// as a Tiles2d callable (see mlp_model.hpp).
#pragma once

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <thread>
#include <vector>

#include "mlp_model.hpp"

namespace serving {

using Clock = std::chrono::steady_clock;

struct Latencies {
  std::vector<double> from_submit_ms;   // request call start -> done
  std::vector<double> from_arrival_ms;  // scheduled arrival -> done (includes being late)
};

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

struct Model {
  mlp::Shape shape;
  mlp::Weights weights;
  mlp::Matrix x, hidden, out;
  explicit Model(mlp::Shape s)
      : shape(s), weights(s), x(s.batch, s.model), hidden(s.batch, s.hidden), out(s.batch, s.model) {
    mlp::fill_random(x, 7, 1.0f);
  }
  template <class Tiles>
  void forward(Tiles&& tiles) { mlp::forward(weights, x, hidden, out, tiles); }
};

// The request model (critical) and the background model (low).
inline mlp::Shape request_shape() { return mlp::Shape{1, 256, 1024}; }
inline mlp::Shape background_shape() { return mlp::Shape{8, 512, 2048}; }

// Lowers the calling thread's OS priority (any user may lower its own): what a server
// does for its batch-driver thread. Returns whether it worked.
inline bool nice_this_thread(int nice) {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice) == 0;
}

struct RunResult {
  Latencies latency;
  double background_passes_per_s = 0;
};

// Runs `requests` requests `period` apart on this thread via request_tiles; with
// `background` true, a second thread runs background passes via background_tiles for
// the whole time (started, and warm, before the first request).
template <class RequestTiles, class BackgroundTiles>
RunResult run_phase(RequestTiles&& request_tiles, BackgroundTiles&& background_tiles,
                    bool background, int requests, std::chrono::microseconds period,
                    bool nice_driver) {
  Model request(request_shape());
  Model batch(background_shape());
  for (int i = 0; i < 5; ++i) request.forward(request_tiles);  // warm-up
  std::atomic<bool> stop{false};
  std::atomic<long> passes{0};
  std::atomic<bool> warm{false};
  std::thread driver;
  if (background) {
    driver = std::thread([&] {
      if (nice_driver) nice_this_thread(19);
      batch.forward(background_tiles);
      warm.store(true);
      while (!stop.load(std::memory_order_relaxed)) {
        batch.forward(background_tiles);
        passes.fetch_add(1, std::memory_order_relaxed);
      }
    });
    while (!warm.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RunResult result;
  // Wake at the scheduled arrival, not up to 50 us later (the default timer slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const long passes_at_start = passes.load();
  const Clock::time_point t0 = Clock::now() + std::chrono::milliseconds(2);
  for (int i = 0; i < requests; ++i) {
    const Clock::time_point arrival = t0 + period * i;
    std::this_thread::sleep_until(arrival);
    const Clock::time_point start = Clock::now();
    request.forward(request_tiles);
    const Clock::time_point end = Clock::now();
    result.latency.from_submit_ms.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
    result.latency.from_arrival_ms.push_back(
        std::chrono::duration<double, std::milli>(end - arrival).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (background) {
    result.background_passes_per_s = static_cast<double>(passes.load() - passes_at_start) / seconds;
    stop.store(true);
    driver.join();
  }
  return result;
}

// Background alone (no requests) for `duration`: its unloaded throughput.
template <class BackgroundTiles>
double background_alone(BackgroundTiles&& background_tiles, std::chrono::milliseconds duration) {
  Model batch(background_shape());
  batch.forward(background_tiles);
  long passes = 0;
  const Clock::time_point t0 = Clock::now();
  while (Clock::now() - t0 < duration) {
    batch.forward(background_tiles);
    ++passes;
  }
  return static_cast<double>(passes) /
         std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace serving
