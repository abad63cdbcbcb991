// Eigen Tensor contractions on an Eigen::ThreadPoolDevice: Eigen's own pool
// (Eigen::ThreadPool, the non-blocking pool TensorFlow uses) versus weft::EigenThreadPool,
// in one binary.
//
// Threads: Eigen::ThreadPool(2) has two threads that run closures; the thread that
// evaluates the expression blocks on a Barrier. weft's num_threads counts that calling
// thread, so Config::num_threads = 3 gives the same shape: two workers run the closures
// (NumThreads() = 2) and the caller blocks on the same Barrier. Both devices are built
// with numThreads = 2, so Eigen cuts the work identically; only the pool differs.
//
//   contraction_1024: one 1024x1024 * 1024x1024 float contraction (compute bound).
//   small_each:       64 contractions of 64x64 * 64x64, one after the other, each
//                     evaluated on the device (Eigen forks and joins per contraction).
//   small_batch:      the same 64 contractions as one device.parallelFor over the batch
//                     (each item evaluated inline): many small closures.
#define EIGEN_USE_THREADS
#include <benchmark/benchmark.h>
#include <unsupported/Eigen/CXX11/Tensor>
#include <weft/eigen.hpp>
#include <weft/scheduler.hpp>

#include <memory>
#include <random>
#include <vector>

namespace {

using Matrix = Eigen::Tensor<float, 2, Eigen::RowMajor>;
constexpr int kPoolThreads = 2;
const Eigen::array<Eigen::IndexPair<int>, 1> kDims = {Eigen::IndexPair<int>(1, 0)};

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  Matrix m(rows, cols);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

// The two pools behind one interface: constructed once per benchmark run.
struct EigenPool {
  Eigen::ThreadPool pool{kPoolThreads};
  Eigen::ThreadPoolInterface* get() { return &pool; }
};
struct WeftPool {
  static weft::Config config() {
    weft::Config c = weft::Config::from_env();
    c.num_threads = kPoolThreads + 1;  // two workers plus the (blocked) caller
    return c;
  }
  weft::Scheduler sched{config()};
  weft::EigenThreadPool pool{sched, weft::Priority::critical};
  Eigen::ThreadPoolInterface* get() { return &pool; }
};

template <class Pool>
void BM_contraction_1024(benchmark::State& state) {
  Pool pool;
  Eigen::ThreadPoolDevice device(pool.get(), kPoolThreads);
  const Matrix a = random_matrix(1024, 1024, 1), b = random_matrix(1024, 1024, 2);
  Matrix c(1024, 1024);
  for (auto _ : state) {
    c.device(device) = a.contract(b, kDims);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 1024 * 1024 * 1024 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
}

struct Batch {
  std::vector<Matrix> a, b, c;
  Batch() {
    for (unsigned i = 0; i < 64; ++i) {
      a.push_back(random_matrix(64, 64, 10 + i));
      b.push_back(random_matrix(64, 64, 100 + i));
      c.emplace_back(64, 64);
    }
  }
};

template <class Pool>
void BM_small_each(benchmark::State& state) {
  Pool pool;
  Eigen::ThreadPoolDevice device(pool.get(), kPoolThreads);
  Batch batch;
  for (auto _ : state) {
    for (std::size_t i = 0; i < 64; ++i) batch.c[i].device(device) = batch.a[i].contract(batch.b[i], kDims);
    benchmark::DoNotOptimize(batch.c.back().data());
  }
  state.SetItemsProcessed(64 * state.iterations());
}

template <class Pool>
void BM_small_batch(benchmark::State& state) {
  Pool pool;
  Eigen::ThreadPoolDevice device(pool.get(), kPoolThreads);
  Batch batch;
  // One 64x64x64 contraction is ~262k multiply-adds; tell Eigen's cost model so.
  const Eigen::TensorOpCost cost(3.0 * 64 * 64 * 4, 64 * 64 * 4, 2.0 * 64 * 64 * 64);
  for (auto _ : state) {
    device.parallelFor(64, cost, [&](Eigen::Index first, Eigen::Index last) {
      for (Eigen::Index i = first; i < last; ++i) {
        const auto k = static_cast<std::size_t>(i);
        batch.c[k] = batch.a[k].contract(batch.b[k], kDims);
      }
    });
    benchmark::DoNotOptimize(batch.c.back().data());
  }
  state.SetItemsProcessed(64 * state.iterations());
}

BENCHMARK_TEMPLATE(BM_contraction_1024, EigenPool)->Name("contraction_1024/eigen_pool")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_contraction_1024, WeftPool)->Name("contraction_1024/weft")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_small_each, EigenPool)->Name("small_each/eigen_pool")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_small_each, WeftPool)->Name("small_each/weft")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_small_batch, EigenPool)->Name("small_batch/eigen_pool")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_small_batch, WeftPool)->Name("small_batch/weft")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
