// An MLP block (batch 8, 1024 -> 4096 -> 1024, GELU, residual, layer norm) whose GEMM
// tiles run through weft's parallel_for_2d, as an inference engine's operators would.
//
//   mlp_inference [--passes N] [--threads N] [--trace PATH] [--metrics]
//
// Prints the time per forward pass and checks the output against a single-threaded run
// of the same tiles (bit-identical: each tile is computed the same way on any thread).
// --trace PATH writes the timed passes' trace (open it in ui.perfetto.dev, or draw it
// with weft-plot); --metrics prints the workers' metrics over the timed passes.
#include <weft/weft.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mlp_model.hpp"

namespace {

struct Args {
  int passes = 50;
  unsigned threads = 0;  // 0: Config::from_env() decides (one per usable core)
  std::string trace;     // empty: no trace
  bool metrics = false;
};

bool parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--passes" && has_value) {
      args.passes = std::atoi(argv[++i]);
    } else if (flag == "--threads" && has_value) {
      args.threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (flag == "--trace" && has_value) {
      args.trace = argv[++i];
    } else if (flag == "--metrics") {
      args.metrics = true;
    } else {
      std::fprintf(stderr, "usage: %s [--passes N] [--threads N] [--trace PATH] [--metrics]\n",
                   argv[0]);
      return false;
    }
  }
  if (args.passes < 1) {
    std::fprintf(stderr, "--passes: must be at least 1\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) return 2;

  weft::Config config = weft::Config::from_env();
  if (args.threads != 0) config.num_threads = args.threads;
  if (!args.trace.empty() && config.trace_capacity == 0) config.trace_capacity = 1 << 16;

  const mlp::Shape shape;
  const mlp::Weights weights(shape);
  mlp::Matrix x(shape.batch, shape.model);
  mlp::fill_random(x, 42, 1.0f);
  mlp::Matrix hidden(shape.batch, shape.hidden), out(shape.batch, shape.model);
  mlp::Matrix ref_hidden(shape.batch, shape.hidden), reference(shape.batch, shape.model);

  mlp::forward(weights, x, ref_hidden, reference, mlp::SerialTiles{});
  std::vector<double> serial_ms, weft_ms;
  for (int p = 0; p < std::min(args.passes, 10); ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    mlp::forward(weights, x, ref_hidden, reference, mlp::SerialTiles{});
    serial_ms.push_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - t0).count());
  }

  // Created after the single-threaded runs, so its trace starts with weft's work.
  weft::Scheduler sched(config);
  auto on_weft = [&](std::size_t rows, std::size_t cols, std::size_t tr, std::size_t tc,
                     auto&& body) {
    weft::ForOptions options;
    options.name = "mlp_gemm";  // the slices' name in the trace
    sched.parallel_for_2d(rows, cols, tr, tc, body, options);
  };
  mlp::forward(weights, x, hidden, out, on_weft);  // warm-up: wakes and places the workers
  sched.reset_metrics();  // the metrics window covers the timed passes only
  for (int p = 0; p < args.passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    mlp::forward(weights, x, hidden, out, on_weft);
    weft_ms.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t0).count());
  }

  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const float diff = mlp::max_abs_diff(out, reference);
  const double flops = 2.0 * static_cast<double>(shape.batch) *
                       static_cast<double>(shape.model * shape.hidden) * 2.0;
  std::printf("weft %s, %u threads; MLP batch %zu, %zu -> %zu -> %zu\n", WEFT_VERSION_STRING,
              sched.num_threads(), shape.batch, shape.model, shape.hidden, shape.model);
  std::printf("  single thread : %8.3f ms per forward pass (median of %zu)\n",
              median(serial_ms), serial_ms.size());
  std::printf("  weft          : %8.3f ms per forward pass (median of %zu), %.1f GFLOP/s\n",
              median(weft_ms), weft_ms.size(), flops / median(weft_ms) / 1e6);
  std::printf("  speed-up      : %8.2fx\n", median(serial_ms) / median(weft_ms));
  std::printf("  max |weft - single thread| = %g (%s)\n", static_cast<double>(diff),
              diff == 0.0f ? "identical" : "MISMATCH");
  if (args.metrics) std::printf("\n%s", sched.metrics().to_string().c_str());
  if (!args.trace.empty()) {
    // Every loop has returned, so each worker's spans are recorded.
    sched.write_trace(args.trace);
    std::printf("trace written to %s\n", args.trace.c_str());
  }
  return diff == 0.0f ? 0 : 1;
}
