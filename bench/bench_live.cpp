// Live requests next to background work, out of the box (issue 16's scenario): a
// request thread issues a parallel_for of 16 items of ~3 us every millisecond at high
// priority, while a background thread keeps a low-priority parallel_for of 16 items of
// --item-us each running back to back. Every library gets 2 threads per loop (the
// caller included) and its default settings; no thread is niced or bound.
//
//   weft:        one Scheduler, Config{} with num_threads = 2 (everything else default),
//                requests Priority::high, background Priority::low.
//   oneTBB:      global_control(max_allowed_parallelism, 2); requests in a
//                task_arena(2, 1, priority::high), background in one at priority::low.
//   libgomp:     `omp parallel for num_threads(2) schedule(dynamic, 1)` from each thread.
//   pthreadpool: one pthreadpool_create(2) per thread, parallelize_1d.
//   LLVM libomp: the OpenMP code of libgomp, in a separate binary linked against libomp
//                (one process cannot hold both runtimes): weft-bench-live-libomp.
//
// Per library: background alone (throughput), requests alone (unloaded), then requests
// with the background running (loaded). Latency is from the request's scheduled arrival
// (so a late wake-up of the request thread counts) to the loop's return; "late" is the
// arrival-to-call part alone (the OS waking the request thread). A plain table, one row
// per library; bench/run_live.sh runs it unprivileged, 5 times, and prints medians.
//
//   weft-bench-live [--requests N] [--item-us U] [--engines weft,tbb,gomp,pthreadpool]
//                   [--allow-privilege]
#include <dlfcn.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <omp.h>
#ifndef WEFT_BENCH_LIBOMP
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <pthreadpool.h>

#include "weft/weft.hpp"
#endif

namespace {

using Clock = std::chrono::steady_clock;
constexpr unsigned kThreads = 2;
constexpr std::size_t kItems = 16;
constexpr double kRequestItemUs = 3.0;

// Spins for about `us` microseconds of this CPU's time (calibrated once).
double g_iters_per_us = 0;
void burn_iters(std::uint64_t n) {
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (std::uint64_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    asm volatile("" : "+r"(x));
  }
}
void burn(double us) { burn_iters(static_cast<std::uint64_t>(us * g_iters_per_us)); }
void calibrate() {
  // The fastest of several: the cost on an undisturbed CPU.
  double best = 1e30;
  const std::uint64_t n = 2'000'000;
  for (int r = 0; r < 7; ++r) {
    const auto t0 = Clock::now();
    burn_iters(n);
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  g_iters_per_us = static_cast<double>(n) / best;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::min(v.size(), std::max<std::size_t>(rank, 1)) - 1];
}

// A loop runner: runs body(i) for i in [0, kItems) in parallel.
using Runner = std::function<void(const std::function<void(std::size_t)>&)>;

struct Phase {
  std::vector<double> from_arrival_us, late_us;
  double background_items_per_s = 0;
};

Phase run_phase(const Runner& request, const Runner& background, bool loaded, bool with_requests,
                int requests, double item_us) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> items{0};
  std::atomic<bool> warm{false};
  std::thread driver;
  if (loaded) {
    driver = std::thread([&] {
      auto body = [&](std::size_t) {
        burn(item_us);
        items.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count read at the end
      };
      while (!stop.load(std::memory_order_relaxed)) {  // relaxed: a flag
        background(body);
        warm.store(true, std::memory_order_relaxed);
      }
    });
    while (!warm.load(std::memory_order_relaxed)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Phase out;
  auto request_body = [](std::size_t) { burn(kRequestItemUs); };
  const std::uint64_t items_before = items.load(std::memory_order_relaxed);
  const auto start = Clock::now();
  const auto period = std::chrono::microseconds(1000);
  if (with_requests) {
    for (int i = 0; i < 20; ++i) request(request_body);  // warm-up
    const auto first = Clock::now() + period;
    for (int i = 0; i < requests; ++i) {
      const auto arrival = first + i * period;
      std::this_thread::sleep_until(arrival);
      const auto called = Clock::now();
      request(request_body);
      const auto done = Clock::now();
      out.from_arrival_us.push_back(std::chrono::duration<double, std::micro>(done - arrival).count());
      out.late_us.push_back(std::chrono::duration<double, std::micro>(called - arrival).count());
    }
  } else {
    std::this_thread::sleep_for(period * requests);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.background_items_per_s =
      static_cast<double>(items.load(std::memory_order_relaxed) - items_before) / seconds;
  stop.store(true, std::memory_order_relaxed);
  if (driver.joinable()) driver.join();
  return out;
}

void run_engine(const char* name, const Runner& request, const Runner& background, int requests,
                double item_us) {
  const Phase alone = run_phase(request, background, true, false, requests / 2, item_us);
  const Phase unloaded = run_phase(request, background, false, true, requests, item_us);
  const Phase loaded = run_phase(request, background, true, true, requests, item_us);
  // One machine-readable line per library (run_live.sh takes medians of these).
  std::printf(
      "RESULT %-12s unloaded_p50_us %7.1f unloaded_p99_us %7.1f loaded_p50_us %7.1f "
      "loaded_p99_us %7.1f loaded_late_p99_us %7.1f bg_alone_items_s %8.1f "
      "bg_loaded_items_s %8.1f\n",
      name, percentile(unloaded.from_arrival_us, 0.5), percentile(unloaded.from_arrival_us, 0.99),
      percentile(loaded.from_arrival_us, 0.5), percentile(loaded.from_arrival_us, 0.99),
      percentile(loaded.late_us, 0.99), alone.background_items_per_s,
      loaded.background_items_per_s);
  std::fflush(stdout);
}

// The process's privilege, as the kernel sees it: CAP_SYS_NICE (bit 23) effective, and
// RLIMIT_NICE (0: may not raise any thread's priority).
bool report_privilege() {
  std::ifstream status("/proc/self/status");
  std::string line;
  unsigned long long caps = 0;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) std::istringstream(line.substr(7)) >> std::hex >> caps;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NICE, &limit);
  const bool cap_sys_nice = (caps >> 23) & 1u;
  std::printf("privilege: uid %u, CapEff %016llx, CAP_SYS_NICE %s, RLIMIT_NICE %lld\n",
              static_cast<unsigned>(getuid()), caps, cap_sys_nice ? "yes" : "no",
              limit.rlim_cur == RLIM_INFINITY ? -1LL : static_cast<long long>(limit.rlim_cur));
  return cap_sys_nice || limit.rlim_cur != 0;
}

void omp_loop(const std::function<void(std::size_t)>& body) {
#pragma omp parallel for num_threads(kThreads) schedule(dynamic, 1)
  for (long i = 0; i < static_cast<long>(kItems); ++i) body(static_cast<std::size_t>(i));
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 1000;
  double item_us = 200;
  bool allow_privilege = false;
  std::string engines = "weft,tbb,gomp,pthreadpool";
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return std::strcmp(argv[i], name) == 0 && i + 1 < argc; };
    if (arg("--requests")) requests = std::atoi(argv[++i]);
    else if (arg("--item-us")) item_us = std::atof(argv[++i]);
    else if (arg("--engines")) engines = argv[++i];
    else if (std::strcmp(argv[i], "--allow-privilege") == 0) allow_privilege = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (report_privilege() && !allow_privilege) {
    std::fprintf(stderr, "weft-bench-live: this process may raise thread priorities "
                         "(CAP_SYS_NICE or RLIMIT_NICE > 0); run it through bench/run_live.sh, "
                         "or pass --allow-privilege\n");
    return 3;
  }
  // Which OpenMP runtime this binary really calls (libgomp here, libomp in the -libomp one).
  Dl_info omp_lib{};
  dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &omp_lib);
  std::printf("OpenMP runtime: %s\n", omp_lib.dli_fname != nullptr ? omp_lib.dli_fname : "?");
  calibrate();
  std::printf("requests: %d x parallel_for(16 x %.0f us) every 1000 us; background: "
              "parallel_for(16 x %.0f us) back to back; %u threads per loop\n",
              requests, kRequestItemUs, item_us, kThreads);
#ifdef WEFT_BENCH_LIBOMP
  (void)engines;
  run_engine("llvm-libomp", omp_loop, omp_loop, requests, item_us);
#else
  if (engines.find("weft") != std::string::npos) {
    weft::Config config;  // defaults: no environment, no tuning
    config.num_threads = kThreads;
    weft::Scheduler sched(config);
    auto at = [&sched](weft::Priority p) {
      return Runner([&sched, p](const std::function<void(std::size_t)>& body) {
        sched.parallel_for(0, kItems, [&](std::size_t i) { body(i); },
                           weft::ForOptions{.grain = 1, .priority = p});
      });
    };
    run_engine("weft", at(weft::Priority::high), at(weft::Priority::low), requests, item_us);
    std::printf("weft: %u background workers\n", sched.background_workers());
  }
  if (engines.find("tbb") != std::string::npos) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kThreads);
    tbb::task_arena low(static_cast<int>(kThreads), 1, tbb::task_arena::priority::low);
    tbb::task_arena high(static_cast<int>(kThreads), 1, tbb::task_arena::priority::high);
    auto in = [](tbb::task_arena& arena) {
      return Runner([&arena](const std::function<void(std::size_t)>& body) {
        arena.execute([&] {
          tbb::parallel_for(std::size_t{0}, kItems, [&](std::size_t i) { body(i); });
        });
      });
    };
    run_engine("onetbb", in(high), in(low), requests, item_us);
  }
  if (engines.find("gomp") != std::string::npos) {
    run_engine("libgomp", omp_loop, omp_loop, requests, item_us);
  }
  if (engines.find("pthreadpool") != std::string::npos) {
    // One pool per calling thread: a pool runs one parallelize call at a time.
    pthreadpool_t request_pool = pthreadpool_create(kThreads);
    pthreadpool_t background_pool = pthreadpool_create(kThreads);
    auto on = [](pthreadpool_t pool) {
      return Runner([pool](const std::function<void(std::size_t)>& body) {
        pthreadpool_parallelize_1d(
            pool,
            [](void* ctx, std::size_t i) {
              (*static_cast<const std::function<void(std::size_t)>*>(ctx))(i);
            },
            const_cast<std::function<void(std::size_t)>*>(&body), kItems, 0);
      });
    };
    run_engine("pthreadpool", on(request_pool), on(background_pool), requests, item_us);
    pthreadpool_destroy(request_pool);
    pthreadpool_destroy(background_pool);
  }
#endif
  return 0;
}
