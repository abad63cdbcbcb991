// Debian's XNNPACK running an MLP (fully connected -> ReLU -> fully connected) on a
// 2-thread pthreadpool: weft's shim versus Debian's libpthreadpool.
//
// Why two executables (weft-bench-xnnpack-weft, weft-bench-xnnpack-pthreadpool) built
// from this one file instead of one binary: libXNNPACK.so calls pthreadpool_* through
// the dynamic linker, which binds each name once per process to the first definition
// in the global lookup order. Both libraries define the same names, so in one process
// XNNPACK can only ever use one of them (dlopen'ing the other with RTLD_DEEPBIND would
// give us its functions, but not XNNPACK's calls). Each executable therefore links one
// pool library ahead of libXNNPACK.so, checks at start-up (dladdr) which library really
// provides pthreadpool_create, and bench/run_xnnpack.sh runs the two back to back with
// the same arguments.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <xnnpack.h>
#ifdef WEFT_BENCH_ON_WEFT
#include <weft/pthreadpool.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

#ifdef WEFT_BENCH_ON_WEFT
constexpr const char* kBackend = "weft";
#else
constexpr const char* kBackend = "pthreadpool";
#endif
constexpr size_t kThreads = 2;
constexpr size_t kPad = 64;  // XNN_EXTRA_BYTES: XNNPACK may read past its inputs

std::string provider_of(const char* symbol) {
  Dl_info info{};
  void* address = dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

struct Mlp {
  size_t batch, in, hidden, out;
  std::vector<float> w1, b1, w2, b2, x, y;
  xnn_runtime_t runtime = nullptr;

  Mlp(size_t batch_, size_t in_, size_t hidden_, size_t out_, pthreadpool_t pool)
      : batch(batch_), in(in_), hidden(hidden_), out(out_), w1(hidden * in), b1(hidden),
        w2(out * hidden), b2(out), x(batch * in + kPad), y(batch * out + kPad) {
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
    for (auto* v : {&w1, &b1, &w2, &b2, &x})
      for (float& f : *v) f = dist(gen);
    xnn_subgraph_t g = nullptr;
    check(xnn_create_subgraph(2, 0, &g), "create_subgraph");
    const size_t in_dims[] = {batch, in}, hid_dims[] = {batch, hidden}, out_dims[] = {batch, out};
    const size_t w1_dims[] = {hidden, in}, b1_dims[] = {hidden}, w2_dims[] = {out, hidden},
                 b2_dims[] = {out};
    uint32_t input, output, iw1, ib1, iw2, ib2, h;
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 2, in_dims, nullptr, 0,
                                  XNN_VALUE_FLAG_EXTERNAL_INPUT, &input), "input");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 2, out_dims, nullptr, 1,
                                  XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &output), "output");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 2, w1_dims, w1.data(), XNN_INVALID_VALUE_ID,
                                  0, &iw1), "w1");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 1, b1_dims, b1.data(), XNN_INVALID_VALUE_ID,
                                  0, &ib1), "b1");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 2, w2_dims, w2.data(), XNN_INVALID_VALUE_ID,
                                  0, &iw2), "w2");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 1, b2_dims, b2.data(), XNN_INVALID_VALUE_ID,
                                  0, &ib2), "b2");
    check(xnn_define_tensor_value(g, xnn_datatype_fp32, 2, hid_dims, nullptr, XNN_INVALID_VALUE_ID,
                                  0, &h), "hidden");
    const float inf = std::numeric_limits<float>::infinity();
    // ReLU fused into the first layer's output clamp.
    check(xnn_define_fully_connected(g, 0.0f, inf, input, iw1, ib1, h, 0), "fc1");
    check(xnn_define_fully_connected(g, -inf, inf, h, iw2, ib2, output, 0), "fc2");
    check(xnn_create_runtime_v2(g, pool, 0, &runtime), "create_runtime");
    xnn_delete_subgraph(g);
    const xnn_external_value values[] = {{0, x.data()}, {1, y.data()}};
    check(xnn_setup_runtime(runtime, 2, values), "setup_runtime");
  }
  ~Mlp() { xnn_delete_runtime(runtime); }
  Mlp(const Mlp&) = delete;
  Mlp& operator=(const Mlp&) = delete;

  static void check(xnn_status status, const char* what) {
    if (status != xnn_status_success) {
      std::fprintf(stderr, "xnnpack: %s failed (%d)\n", what, static_cast<int>(status));
      std::abort();
    }
  }
};

// Args: batch, in, hidden, out.
void BM_mlp(benchmark::State& state) {
  pthreadpool_t pool = pthreadpool_create(kThreads);
  {
    Mlp mlp(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)),
            static_cast<size_t>(state.range(2)), static_cast<size_t>(state.range(3)), pool);
    for (auto _ : state) {
      if (xnn_invoke_runtime(mlp.runtime) != xnn_status_success) state.SkipWithError("invoke");
      benchmark::DoNotOptimize(mlp.y.data());
    }
    const double flops = 2.0 * static_cast<double>(mlp.batch) *
                         static_cast<double>(mlp.in * mlp.hidden + mlp.hidden * mlp.out);
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate,
                                                   benchmark::Counter::kIs1000);
#ifdef WEFT_BENCH_ON_WEFT
    weft_pthreadpool_stats stats{};
    weft_pthreadpool_get_stats(pool, &stats);
    const double items = static_cast<double>(stats.items_on_caller + stats.items_on_workers);
    state.counters["worker_share"] =
        items > 0 ? static_cast<double>(stats.items_on_workers) / items : 0.0;
#endif
  }
  pthreadpool_destroy(pool);
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "in", "hidden", "out"});
  b->Args({8, 1024, 4096, 1024});  // ~134 MFLOP per run: throughput
  b->Args({1, 256, 1024, 256});    // ~1 MFLOP per run: fork/join latency matters
}

}  // namespace

BENCHMARK(BM_mlp)->Name(std::string("xnnpack_mlp/") + kBackend)->Apply(args)->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::string provider = provider_of("pthreadpool_create");
  benchmark::AddCustomContext("pthreadpool", provider);
  const bool is_weft = provider.find("weft_pthreadpool") != std::string::npos;
  if (is_weft != (std::string(kBackend) == "weft")) {
    std::fprintf(stderr, "pthreadpool_create comes from %s, expected the %s backend\n",
                 provider.c_str(), kBackend);
    return 1;
  }
  if (xnn_initialize(nullptr) != xnn_status_success) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  xnn_deinitialize();
  return 0;
}
