// Debian's XNNPACK (libXNNPACK.so, built against libpthreadpool.so.0) running on weft:
// this binary links weft::pthreadpool ahead of libXNNPACK.so, so the dynamic linker
// binds XNNPACK's pthreadpool_* calls to weft's definitions. The tests check that the
// binding really is weft's, that XNNPACK's own calls reach weft's pool (its counters
// move, and items run on weft workers), and that the results are right.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <weft/pthreadpool.h>
#include <xnnpack.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "worker_gate.hpp"

namespace {

// A small MLP: [batch, in] -> fully connected -> ReLU (clamp) -> fully connected.
// Big enough (about 1.5 MFLOP) that weft's right-sized loops invite workers.
constexpr size_t kBatch = 8, kIn = 128, kHidden = 512, kOut = 64;
// XNNPACK may read (not write) up to XNN_EXTRA_BYTES past the end of its inputs.
constexpr size_t kPad = 64;

struct Weights {
  std::vector<float> w1, b1, w2, b2;
  Weights() : w1(kHidden * kIn), b1(kHidden), w2(kOut * kHidden), b2(kOut) {
    std::mt19937 gen(7);
    std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
    for (auto* v : {&w1, &b1, &w2, &b2})
      for (float& x : *v) x = dist(gen);
  }
};

// The reference: the same MLP in plain C++ (double accumulation).
std::vector<float> reference(const Weights& w, const std::vector<float>& x) {
  std::vector<float> hidden(kBatch * kHidden), out(kBatch * kOut);
  for (size_t b = 0; b < kBatch; ++b) {
    for (size_t h = 0; h < kHidden; ++h) {
      double acc = w.b1[h];
      for (size_t i = 0; i < kIn; ++i) acc += double(x[b * kIn + i]) * w.w1[h * kIn + i];
      hidden[b * kHidden + h] = static_cast<float>(acc > 0 ? acc : 0);
    }
    for (size_t o = 0; o < kOut; ++o) {
      double acc = w.b2[o];
      for (size_t h = 0; h < kHidden; ++h)
        acc += double(hidden[b * kHidden + h]) * w.w2[o * kHidden + h];
      out[b * kOut + o] = static_cast<float>(acc);
    }
  }
  return out;
}

// Builds the subgraph once per runtime (a runtime copies what it needs).
xnn_runtime_t make_runtime(const Weights& w, pthreadpool_t pool) {
  xnn_subgraph_t subgraph = nullptr;
  if (xnn_create_subgraph(2, 0, &subgraph) != xnn_status_success) return nullptr;
  const size_t in_dims[] = {kBatch, kIn}, hid_dims[] = {kBatch, kHidden},
               out_dims[] = {kBatch, kOut};
  const size_t w1_dims[] = {kHidden, kIn}, b1_dims[] = {kHidden}, w2_dims[] = {kOut, kHidden},
               b2_dims[] = {kOut};
  uint32_t input = 0, output = 1, w1 = 0, b1 = 0, w2 = 0, b2 = 0, h1 = 0, h1_relu = 0;
  bool ok =
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, in_dims, nullptr, 0,
                              XNN_VALUE_FLAG_EXTERNAL_INPUT, &input) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, out_dims, nullptr, 1,
                              XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &output) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, w1_dims, w.w1.data(),
                              XNN_INVALID_VALUE_ID, 0, &w1) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 1, b1_dims, w.b1.data(),
                              XNN_INVALID_VALUE_ID, 0, &b1) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, w2_dims, w.w2.data(),
                              XNN_INVALID_VALUE_ID, 0, &w2) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 1, b2_dims, w.b2.data(),
                              XNN_INVALID_VALUE_ID, 0, &b2) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, hid_dims, nullptr,
                              XNN_INVALID_VALUE_ID, 0, &h1) == xnn_status_success &&
      xnn_define_tensor_value(subgraph, xnn_datatype_fp32, 2, hid_dims, nullptr,
                              XNN_INVALID_VALUE_ID, 0, &h1_relu) == xnn_status_success;
  const float inf = std::numeric_limits<float>::infinity();
  ok = ok &&
       xnn_define_fully_connected(subgraph, -inf, inf, input, w1, b1, h1, 0) == xnn_status_success &&
       xnn_define_clamp(subgraph, 0.0f, inf, h1, h1_relu, 0) == xnn_status_success &&
       xnn_define_fully_connected(subgraph, -inf, inf, h1_relu, w2, b2, output, 0) ==
           xnn_status_success;
  xnn_runtime_t runtime = nullptr;
  if (ok && xnn_create_runtime_v2(subgraph, pool, 0, &runtime) != xnn_status_success)
    runtime = nullptr;
  xnn_delete_subgraph(subgraph);
  return runtime;
}

std::vector<float> run(xnn_runtime_t runtime, std::vector<float>& x) {
  std::vector<float> y(kBatch * kOut + kPad, std::nanf(""));
  const xnn_external_value values[] = {{0, x.data()}, {1, y.data()}};
  EXPECT_EQ(xnn_setup_runtime(runtime, 2, values), xnn_status_success);
  EXPECT_EQ(xnn_invoke_runtime(runtime), xnn_status_success);
  y.resize(kBatch * kOut);
  return y;
}

std::string library_of(const void* address) {
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

TEST(XnnpackOnWeft, PthreadpoolSymbolsResolveToWeft) {
  // What every caller in the process (XNNPACK included) gets through the global scope.
  for (const char* name : {"pthreadpool_create", "pthreadpool_get_threads_count",
                           "pthreadpool_parallelize_1d", "pthreadpool_parallelize_2d_tile_2d"}) {
    void* sym = dlsym(RTLD_DEFAULT, name);
    ASSERT_NE(sym, nullptr) << name;
    const std::string lib = library_of(sym);
    EXPECT_NE(lib.find("weft_pthreadpool"), std::string::npos) << name << " comes from " << lib;
  }
  // libpthreadpool.so.0 is loaded too (libXNNPACK.so needs it), but it comes later in the
  // lookup order: its definitions exist and lose.
  void* upstream = dlopen("libpthreadpool.so.0", RTLD_NOW | RTLD_NOLOAD);
  if (upstream != nullptr) {
    void* theirs = dlsym(upstream, "pthreadpool_parallelize_1d");
    EXPECT_NE(theirs, dlsym(RTLD_DEFAULT, "pthreadpool_parallelize_1d"));
    dlclose(upstream);
  }
}

// The items of a pool loop whose part on a worker invokes an XNNPACK runtime (once);
// the test's thread waits at a WorkerGate until that is done.
struct OnWorker {
  OnWorker(pthreadpool_t p, xnn_runtime_t r, std::vector<float> input)
      : pool(p), runtime(r), x(std::move(input)) {}
  pthreadpool_t pool;
  xnn_runtime_t runtime;
  std::vector<float> x;
  std::thread::id caller = std::this_thread::get_id();
  weft::test::WorkerGate gate;
  std::atomic<bool> taken{false};
  std::vector<float> got;
  uint64_t tiles_on_worker = 0;
};

void invoke_on_worker(void* context, size_t) {
  auto& w = *static_cast<OnWorker*>(context);
  // ~20 us per item: enough work that the loop invites the pool's worker.
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < until) {
  }
  const bool on_worker = std::this_thread::get_id() != w.caller;
  if (on_worker && !w.taken.exchange(true)) {
    // The pool's counts move only when a chunk ends, and this worker's chunk has not:
    // the difference is XNNPACK's own items on the worker (the caller's items count
    // as the caller's).
    weft_pthreadpool_stats before{}, after{};
    weft_pthreadpool_get_stats(w.pool, &before);
    w.got = run(w.runtime, w.x);
    weft_pthreadpool_get_stats(w.pool, &after);
    w.tiles_on_worker = after.items_on_workers - before.items_on_workers;
  }
  w.gate.arrive(on_worker, "the loop whose worker part invokes XNNPACK");
}

TEST(XnnpackOnWeft, MlpMatchesNullPoolAndReferenceAndRunsOnWeftWorkers) {
  ASSERT_EQ(xnn_initialize(nullptr), xnn_status_success);
  Weights w;
  std::vector<float> x(kBatch * kIn + kPad, 0.0f);
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < kBatch * kIn; ++i) x[i] = dist(gen);

  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(pthreadpool_get_threads_count(pool), 2u);
  ASSERT_EQ(weft_pthreadpool_set_priority(pool, WEFT_PTHREADPOOL_PRIORITY_CRITICAL), 0);
  xnn_runtime_t threaded = make_runtime(w, pool);
  xnn_runtime_t serial = make_runtime(w, nullptr);
  ASSERT_NE(threaded, nullptr);
  ASSERT_NE(serial, nullptr);

  const std::vector<float> expected = reference(w, x);
  const std::vector<float> alone = run(serial, x);
  const std::vector<float> got = run(threaded, x);
  weft_pthreadpool_stats stats{};
  weft_pthreadpool_get_stats(pool, &stats);
  // XNNPACK's calls reached weft's pool (with Debian's pthreadpool bound instead, these
  // counters could not move).
  EXPECT_GT(stats.calls, 0u);
  // And its tiles run on weft workers: the same runtime invoked from a worker. Whether
  // a worker joins the caller's run above depends on the machine's load (the caller
  // may steal the whole loop first); this does not.
  OnWorker on_worker{pool, threaded, x};
  pthreadpool_parallelize_1d(pool, invoke_on_worker, &on_worker, 16, 0);
  ASSERT_TRUE(on_worker.gate.opened());
  EXPECT_GT(on_worker.tiles_on_worker, 0u);
  ASSERT_EQ(on_worker.got, alone);

  // A threaded run splits the output into tiles differently, but each output element
  // is still one micro-kernel dot product over the whole k in the same order, so the
  // results are bit-identical to the NULL-pool run.
  ASSERT_EQ(got.size(), alone.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], alone[i]) << "element " << i;
  // Against the double-precision reference: float rounding over k = 128 and 512 terms of
  // magnitude <= 0.5 (the second layer's inputs are bounded by ~32).
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i], 2e-3f) << "element " << i;

  xnn_delete_runtime(threaded);
  xnn_delete_runtime(serial);
  pthreadpool_destroy(pool);
  EXPECT_EQ(xnn_deinitialize(), xnn_status_success);
}

}  // namespace
