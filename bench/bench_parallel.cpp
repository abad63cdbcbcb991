// The loop family beside oneTBB, OpenMP and pthreadpool, all at 2 threads (the
// caller included): fork-join overhead, a bandwidth-bound axpy, imbalanced loops and a
// tiled GEMM. Every library runs the same kernels; names are <workload>/<library>.
//
//   weft-bench-parallel --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <omp.h>
#include <pthreadpool.h>
#include <tbb/blocked_range.h>
#include <tbb/blocked_range2d.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "burn.hpp"
#include "two_pools.hpp"
#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"

namespace {

constexpr unsigned threads = 2;

weft::Scheduler& weft_sched() { return weft::bench::weft_sched<threads>(); }

tbb::task_arena& tbb_arena() { return weft::bench::tbb_arena<threads>(); }

pthreadpool_t pool() {
  static pthreadpool_t p = pthreadpool_create(threads);
  return p;
}

void setup_omp() { omp_set_num_threads(static_cast<int>(threads)); }

// ---- work kernels shared by every library ----

using weft::bench::burn;
using weft::bench::units_per_us;

// ---- 1. fork-join overhead: one iteration per thread ----

constexpr std::size_t fj_n = threads;

void fj_body(std::uint64_t work) {
  if (work != 0) burn(work);
  benchmark::ClobberMemory();
}

std::uint64_t fj_work(const benchmark::State& state) {
  return state.range(0) == 0 ? 0 : units_per_us();
}

void ForkJoin_weft(benchmark::State& state) {
  auto work = fj_work(state);
  auto& s = weft_sched();
  for (auto _ : state) s.parallel_for(0, fj_n, [&](std::size_t) { fj_body(work); });
}
// With grain 1, as at::parallel_for(0, n, 1, f) and the blocked_range(0, n, 1) of the
// oneTBB rows ask: a minimum, so it must cost what the automatic sizing costs.
void ForkJoin_weft_grain1(benchmark::State& state) {
  auto work = fj_work(state);
  auto& s = weft_sched();
  for (auto _ : state)
    s.parallel_for(0, fj_n, [&](std::size_t) { fj_body(work); }, weft::ForOptions{.grain = 1});
}
void ForkJoin_tbb_auto(benchmark::State& state) {
  auto work = fj_work(state);
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, fj_n, 1),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) fj_body(work);
                        },
                        tbb::auto_partitioner());
    }
  });
}
void ForkJoin_tbb_affinity(benchmark::State& state) {
  auto work = fj_work(state);
  tbb::affinity_partitioner ap;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, fj_n, 1),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) fj_body(work);
                        },
                        ap);
    }
  });
}
void ForkJoin_omp_static(benchmark::State& state) {
  auto work = fj_work(state);
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < fj_n; ++i) fj_body(work);
  }
}
void ForkJoin_omp_dynamic(benchmark::State& state) {
  auto work = fj_work(state);
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic)
    for (std::size_t i = 0; i < fj_n; ++i) fj_body(work);
  }
}
void ForkJoin_omp_guided(benchmark::State& state) {
  auto work = fj_work(state);
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(guided)
    for (std::size_t i = 0; i < fj_n; ++i) fj_body(work);
  }
}
void ForkJoin_pthreadpool(benchmark::State& state) {
  auto work = fj_work(state);
  for (auto _ : state) {
    pthreadpool_parallelize_1d(
        pool(), [](void* ctx, std::size_t) { fj_body(*static_cast<std::uint64_t*>(ctx)); }, &work,
        fj_n, 0);
  }
}

// ---- 2. axpy over 1M floats (bandwidth bound, uniform) ----

constexpr std::size_t axpy_n = 1 << 20;
// OpenMP and pthreadpool loop over blocks of this many elements (each one call of the
// shared kernel); static scheduling still gives each thread one contiguous half.
constexpr std::size_t axpy_chunk = 4096;

struct Axpy {
  std::vector<float> x = std::vector<float>(axpy_n, 1.5f);
  std::vector<float> y = std::vector<float>(axpy_n, 0.5f);
  float a = 0.999f;
  // Not inlined, so that every library runs the same machine code.
  __attribute__((noinline)) void run(std::size_t b, std::size_t e) {
    float* __restrict yp = y.data();
    const float* __restrict xp = x.data();
    for (std::size_t i = b; i < e; ++i) yp[i] = a * xp[i] + yp[i];
  }
};

void finish_axpy(benchmark::State& state, Axpy& v) {
  benchmark::DoNotOptimize(v.y.data());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * axpy_n * 12);
}

void Axpy_weft(benchmark::State& state) {
  Axpy v;
  auto& s = weft_sched();
  for (auto _ : state) s.parallel_for(0, axpy_n, [&](std::size_t b, std::size_t e) { v.run(b, e); });
  finish_axpy(state, v);
}
void Axpy_weft_grain1(benchmark::State& state) {
  Axpy v;
  auto& s = weft_sched();
  for (auto _ : state)
    s.parallel_for(0, axpy_n, [&](std::size_t b, std::size_t e) { v.run(b, e); },
                   weft::ForOptions{.grain = 1});
  finish_axpy(state, v);
}
void Axpy_tbb_auto(benchmark::State& state) {
  Axpy v;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, axpy_n),
                        [&](const tbb::blocked_range<std::size_t>& r) { v.run(r.begin(), r.end()); },
                        tbb::auto_partitioner());
    }
  });
  finish_axpy(state, v);
}
void Axpy_tbb_affinity(benchmark::State& state) {
  Axpy v;
  tbb::affinity_partitioner ap;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, axpy_n),
                        [&](const tbb::blocked_range<std::size_t>& r) { v.run(r.begin(), r.end()); },
                        ap);
    }
  });
  finish_axpy(state, v);
}
void Axpy_omp_static(benchmark::State& state) {
  Axpy v;
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t c = 0; c < axpy_n / axpy_chunk; ++c) v.run(c * axpy_chunk, (c + 1) * axpy_chunk);
  }
  finish_axpy(state, v);
}
void Axpy_omp_dynamic(benchmark::State& state) {
  Axpy v;
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic)
    for (std::size_t c = 0; c < axpy_n / axpy_chunk; ++c) v.run(c * axpy_chunk, (c + 1) * axpy_chunk);
  }
  finish_axpy(state, v);
}
void Axpy_omp_guided(benchmark::State& state) {
  Axpy v;
  setup_omp();
  for (auto _ : state) {
#pragma omp parallel for schedule(guided)
    for (std::size_t c = 0; c < axpy_n / axpy_chunk; ++c) v.run(c * axpy_chunk, (c + 1) * axpy_chunk);
  }
  finish_axpy(state, v);
}
void Axpy_pthreadpool(benchmark::State& state) {
  Axpy v;
  for (auto _ : state) {
    pthreadpool_parallelize_1d_tile_1d(
        pool(),
        [](void* ctx, std::size_t start, std::size_t tile) {
          static_cast<Axpy*>(ctx)->run(start, start + tile);
        },
        &v, axpy_n, axpy_chunk, 0);
  }
  finish_axpy(state, v);
}

// ---- 3. imbalanced loops: triangular cost, heavy-tailed random costs ----

struct Costs {
  std::vector<std::uint64_t> units;  // burn() units per iteration
  static const Costs& get(int kind) {
    static const Costs triangular = [] {
      // Iteration i costs ~ i * 10 ns: ~5 ms in all over 1000 iterations.
      Costs c;
      std::uint64_t per_10ns = std::max<std::uint64_t>(1, units_per_us() / 100);
      for (std::size_t i = 0; i < 1000; ++i) c.units.push_back(i * per_10ns);
      return c;
    }();
    static const Costs heavy_tail = [] {
      // Pareto(alpha = 1.5) costs, minimum 0.2 us, capped at 1 ms; fixed seed.
      Costs c;
      std::mt19937_64 rng(42);
      std::uniform_real_distribution<double> u(0.0, 1.0);
      for (std::size_t i = 0; i < 10000; ++i) {
        double us = std::min(1000.0, 0.2 / std::pow(1.0 - u(rng), 1.0 / 1.5));
        c.units.push_back(static_cast<std::uint64_t>(us * static_cast<double>(units_per_us())));
      }
      return c;
    }();
    return kind == 0 ? triangular : heavy_tail;
  }
};

void Imbalanced_weft(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  auto& s = weft_sched();
  for (auto _ : state) s.parallel_for(0, c.units.size(), [&](std::size_t i) { burn(c.units[i]); });
}
void Imbalanced_tbb_auto(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, c.units.size()),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) burn(c.units[i]);
                        },
                        tbb::auto_partitioner());
    }
  });
}
void Imbalanced_tbb_affinity(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  tbb::affinity_partitioner ap;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, c.units.size()),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i < r.end(); ++i) burn(c.units[i]);
                        },
                        ap);
    }
  });
}
void Imbalanced_omp_static(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  setup_omp();
  const std::size_t n = c.units.size();
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) burn(c.units[i]);
  }
}
void Imbalanced_omp_dynamic(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  setup_omp();
  const std::size_t n = c.units.size();
  for (auto _ : state) {
#pragma omp parallel for schedule(dynamic)
    for (std::size_t i = 0; i < n; ++i) burn(c.units[i]);
  }
}
void Imbalanced_omp_guided(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  setup_omp();
  const std::size_t n = c.units.size();
  for (auto _ : state) {
#pragma omp parallel for schedule(guided)
    for (std::size_t i = 0; i < n; ++i) burn(c.units[i]);
  }
}
void Imbalanced_pthreadpool(benchmark::State& state) {
  const auto& c = Costs::get(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pthreadpool_parallelize_1d(
        pool(),
        [](void* ctx, std::size_t i) { burn(static_cast<const Costs*>(ctx)->units[i]); },
        const_cast<Costs*>(&c), c.units.size(), 0);
  }
}

// ---- 4. tiled GEMM, 512 x 512 x 512 floats ----

constexpr std::size_t gemm_n = 512;
constexpr std::size_t gemm_tile = 64;
constexpr std::size_t gemm_kblock = 128;

struct Gemm {
  std::vector<float> a = std::vector<float>(gemm_n * gemm_n);
  std::vector<float> b = std::vector<float>(gemm_n * gemm_n);
  std::vector<float> c = std::vector<float>(gemm_n * gemm_n);
  Gemm() {
    for (std::size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<float>(i % 13) * 0.25f;
      b[i] = static_cast<float>(i % 7) * 0.5f;
    }
  }
  // C[r0:r1, c0:c1] = A[r0:r1, :] * B[:, c0:c1], blocked over k. Not inlined, so that
  // every library runs the same machine code (inlined into an OpenMP loop with constant
  // tile bounds it would be specialized for 64-wide tiles).
  __attribute__((noinline)) void tile(std::size_t r0, std::size_t r1, std::size_t c0,
                                      std::size_t c1) {
    constexpr std::size_t n = gemm_n;
    const float* __restrict ap = a.data();
    const float* __restrict bp = b.data();
    float* __restrict cp = c.data();
    for (std::size_t i = r0; i < r1; ++i) std::fill(cp + i * n + c0, cp + i * n + c1, 0.0f);
    for (std::size_t k0 = 0; k0 < n; k0 += gemm_kblock) {
      for (std::size_t i = r0; i < r1; ++i) {
        float* __restrict ci = cp + i * n;
        for (std::size_t k = k0; k < k0 + gemm_kblock; ++k) {
          const float aik = ap[i * n + k];
          const float* __restrict bk = bp + k * n;
          for (std::size_t j = c0; j < c1; ++j) ci[j] += aik * bk[j];
        }
      }
    }
  }
};

void finish_gemm(benchmark::State& state, Gemm& g) {
  benchmark::DoNotOptimize(g.c.data());
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * gemm_n * gemm_n * gemm_n, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.counters["GFLOPS"].value /= 1e9;
}

void Gemm_weft(benchmark::State& state) {
  Gemm g;
  auto& s = weft_sched();
  for (auto _ : state) {
    s.parallel_for_2d(gemm_n, gemm_n, gemm_tile, gemm_tile,
                      [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                        g.tile(r0, r1, c0, c1);
                      });
  }
  finish_gemm(state, g);
}
void Gemm_tbb_auto(benchmark::State& state) {
  Gemm g;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(
          tbb::blocked_range2d<std::size_t>(0, gemm_n, gemm_tile, 0, gemm_n, gemm_tile),
          [&](const tbb::blocked_range2d<std::size_t>& r) {
            g.tile(r.rows().begin(), r.rows().end(), r.cols().begin(), r.cols().end());
          },
          tbb::auto_partitioner());
    }
  });
  finish_gemm(state, g);
}
void Gemm_tbb_affinity(benchmark::State& state) {
  Gemm g;
  tbb::affinity_partitioner ap;
  tbb_arena().execute([&] {
    for (auto _ : state) {
      tbb::parallel_for(
          tbb::blocked_range2d<std::size_t>(0, gemm_n, gemm_tile, 0, gemm_n, gemm_tile),
          [&](const tbb::blocked_range2d<std::size_t>& r) {
            g.tile(r.rows().begin(), r.rows().end(), r.cols().begin(), r.cols().end());
          },
          ap);
    }
  });
  finish_gemm(state, g);
}
void Gemm_omp_static(benchmark::State& state) {
  Gemm g;
  setup_omp();
  constexpr std::size_t tiles = gemm_n / gemm_tile;
  for (auto _ : state) {
#pragma omp parallel for collapse(2) schedule(static)
    for (std::size_t tr = 0; tr < tiles; ++tr)
      for (std::size_t tc = 0; tc < tiles; ++tc)
        g.tile(tr * gemm_tile, (tr + 1) * gemm_tile, tc * gemm_tile, (tc + 1) * gemm_tile);
  }
  finish_gemm(state, g);
}
void Gemm_omp_dynamic(benchmark::State& state) {
  Gemm g;
  setup_omp();
  constexpr std::size_t tiles = gemm_n / gemm_tile;
  for (auto _ : state) {
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (std::size_t tr = 0; tr < tiles; ++tr)
      for (std::size_t tc = 0; tc < tiles; ++tc)
        g.tile(tr * gemm_tile, (tr + 1) * gemm_tile, tc * gemm_tile, (tc + 1) * gemm_tile);
  }
  finish_gemm(state, g);
}
void Gemm_omp_guided(benchmark::State& state) {
  Gemm g;
  setup_omp();
  constexpr std::size_t tiles = gemm_n / gemm_tile;
  for (auto _ : state) {
#pragma omp parallel for collapse(2) schedule(guided)
    for (std::size_t tr = 0; tr < tiles; ++tr)
      for (std::size_t tc = 0; tc < tiles; ++tc)
        g.tile(tr * gemm_tile, (tr + 1) * gemm_tile, tc * gemm_tile, (tc + 1) * gemm_tile);
  }
  finish_gemm(state, g);
}
void Gemm_pthreadpool(benchmark::State& state) {
  Gemm g;
  for (auto _ : state) {
    pthreadpool_parallelize_2d_tile_2d(
        pool(),
        [](void* ctx, std::size_t i, std::size_t j, std::size_t ti, std::size_t tj) {
          static_cast<Gemm*>(ctx)->tile(i, i + ti, j, j + tj);
        },
        &g, gemm_n, gemm_n, gemm_tile, gemm_tile, 0);
  }
  finish_gemm(state, g);
}

// Before each benchmark: let the previous library's threads stop spinning and go to
// sleep (libgomp, pthreadpool and oneTBB workers spin for a while after a loop), so
// that no library runs next to another one's busy-waiting threads on the 2 cores.
void settle(const benchmark::State&) { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

#define WEFT_BENCH_ALL(workload, ...)                                          \
  BENCHMARK(workload##_weft)->UseRealTime()->Setup(settle) __VA_ARGS__;         \
  BENCHMARK(workload##_tbb_auto)->UseRealTime()->Setup(settle) __VA_ARGS__;     \
  BENCHMARK(workload##_tbb_affinity)->UseRealTime()->Setup(settle) __VA_ARGS__; \
  BENCHMARK(workload##_omp_static)->UseRealTime()->Setup(settle) __VA_ARGS__;   \
  BENCHMARK(workload##_omp_dynamic)->UseRealTime()->Setup(settle) __VA_ARGS__;  \
  BENCHMARK(workload##_omp_guided)->UseRealTime()->Setup(settle) __VA_ARGS__;   \
  BENCHMARK(workload##_pthreadpool)->UseRealTime()->Setup(settle) __VA_ARGS__

// ForkJoin/0: empty iterations; ForkJoin/1: ~1 us per iteration.
WEFT_BENCH_ALL(ForkJoin, ->Arg(0)->Arg(1));
WEFT_BENCH_ALL(Axpy, ->Unit(benchmark::kMicrosecond));
BENCHMARK(ForkJoin_weft_grain1)->UseRealTime()->Setup(settle)->Arg(0)->Arg(1);
BENCHMARK(Axpy_weft_grain1)->UseRealTime()->Setup(settle)->Unit(benchmark::kMicrosecond);
// Imbalanced/0: triangular; Imbalanced/1: heavy-tailed random.
WEFT_BENCH_ALL(Imbalanced, ->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond));
WEFT_BENCH_ALL(Gemm, ->Unit(benchmark::kMillisecond));

// ---- what observability costs: an empty parallel_for, metrics off / on / + tracing ----
// Arg: 0 = Config::metrics off, 1 = metrics on (the default), 2 = metrics + tracing.
weft::Scheduler& observed_sched(int mode) {
  auto make = [](int m) {
    weft::Config config = weft::Config::from_env();
    config.num_threads = threads;
    config.metrics = m >= 1;
    config.trace_capacity = m == 2 ? 1 << 16 : 0;
    return config;
  };
  static weft::Scheduler off(make(0)), on(make(1)), traced(make(2));
  return mode == 0 ? off : mode == 1 ? on : traced;
}

// chunk:0 is ForkJoin/0 (automatic sizing: so little work runs on the caller alone);
// chunk:1 forces one iteration per chunk, so the worker is invited to every loop (an
// invite / run_slot / join round trip through the hooks when it takes it in time).
// us:1 gives each iteration ~1 us (ForkJoin/1), so the worker takes part every time.
void ForkJoin_weft_observe(benchmark::State& state) {
  auto& s = observed_sched(static_cast<int>(state.range(0)));
  weft::ForOptions options;
  options.chunk = static_cast<std::size_t>(state.range(1));
  const std::uint64_t work = state.range(2) == 0 ? 0 : units_per_us();
  for (auto _ : state) s.parallel_for(0, fj_n, [&](std::size_t) { fj_body(work); }, options);
}
BENCHMARK(ForkJoin_weft_observe)->ArgsProduct({{0, 1, 2}, {0, 1}, {0, 1}})
    ->ArgNames({"observe", "chunk", "us"})->UseRealTime()->Setup(settle);

}  // namespace

BENCHMARK_MAIN();
