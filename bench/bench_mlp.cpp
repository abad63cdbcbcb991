// The MLP forward pass of examples/mlp_inference.cpp, its tiles run by weft
// (parallel_for_2d), OpenMP (parallel for over the tiles) and oneTBB
// (parallel_for over a blocked_range2d of tiles), 2 threads each, in one binary.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <oneapi/tbb/blocked_range2d.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>
#include <weft/weft.hpp>

#include "../examples/mlp_model.hpp"

namespace {

constexpr unsigned kThreads = 2;

struct Model {
  mlp::Shape shape;
  mlp::Weights weights{shape};
  mlp::Matrix x{shape.batch, shape.model};
  mlp::Matrix hidden{shape.batch, shape.hidden};
  mlp::Matrix out{shape.batch, shape.model};
  Model() { mlp::fill_random(x, 42, 1.0f); }
};

Model& model() {
  static Model m;
  return m;
}

std::size_t tiles_of(std::size_t n, std::size_t tile) { return (n + tile - 1) / tile; }

void BM_mlp_weft(benchmark::State& state) {
  weft::Config config;
  config.num_threads = kThreads;
  weft::Scheduler sched(config);
  Model& m = model();
  auto tiles = [&](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                   auto&& body) { sched.parallel_for_2d(rows, cols, tr, tc, body); };
  for (auto _ : state) mlp::forward(m.weights, m.x, m.hidden, m.out, tiles);
}

void BM_mlp_openmp(benchmark::State& state) {
  omp_set_num_threads(static_cast<int>(kThreads));
  Model& m = model();
  auto tiles = [](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                  auto&& body) {
    const std::size_t nr = tiles_of(rows, tr), nc = tiles_of(cols, tc);
#pragma omp parallel for collapse(2) schedule(static)
    for (std::size_t r = 0; r < nr; ++r)
      for (std::size_t c = 0; c < nc; ++c)
        body(r * tr, std::min(rows, (r + 1) * tr), c * tc, std::min(cols, (c + 1) * tc));
  };
  for (auto _ : state) mlp::forward(m.weights, m.x, m.hidden, m.out, tiles);
}

void BM_mlp_tbb(benchmark::State& state) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kThreads);
  tbb::task_arena arena(static_cast<int>(kThreads));
  Model& m = model();
  auto tiles = [](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                  auto&& body) {
    using Range = tbb::blocked_range2d<std::size_t>;
    tbb::parallel_for(Range(0, tiles_of(rows, tr), 0, tiles_of(cols, tc)), [&](const Range& r) {
      for (std::size_t i = r.rows().begin(); i < r.rows().end(); ++i)
        for (std::size_t j = r.cols().begin(); j < r.cols().end(); ++j)
          body(i * tr, std::min(rows, (i + 1) * tr), j * tc, std::min(cols, (j + 1) * tc));
    });
  };
  arena.execute([&] {
    for (auto _ : state) mlp::forward(m.weights, m.x, m.hidden, m.out, tiles);
  });
}

}  // namespace

BENCHMARK(BM_mlp_weft)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_openmp)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_tbb)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
