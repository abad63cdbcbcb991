// The loop family with arbitrary ranges, extents, tiles and options. The input is up to
// 4 lines, one call each:
//   for B E | chunks B E | reduce B E | 2d ROWS COLS TR TC | 3d D0 D1 D2 T0 T1 T2
// followed by options grain=G chunk=C threads=T prio=P (P-1 is the raw Priority; 0: unset)
// numa=N l3=L det=0|1. Numbers read as strtoull(.., 0) reads them: "-1" is SIZE_MAX.
// The body checks every index or chunk it gets against the documented contract and
// throws Bail after a bounded number of calls, so that SIZE_MAX iterations end quickly.
// A call either runs exactly the iterations it should, stops with Bail, or raises
// ConfigError; anything else, or a crash, is a finding. WEFT_FUZZ_VERBOSE=1 prints each
// call before it runs.
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>

#include "fuzz_support.hpp"
#include "loop_contract.hpp"
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

namespace {

using weft::fuzz::finding;

// Thrown by a body to end a long loop: it must come back out of the call unchanged.
struct Bail {};

constexpr std::size_t max_calls = 2048;      // body calls before Bail
constexpr std::size_t tracked_units = 4096;  // up to this many, each is checked once

weft::Scheduler& scheduler() {
  static weft::Scheduler sched = [] {
    weft::Config config;
    config.num_threads = 3;  // the caller and 2 workers
    config.pinning = weft::Pinning::none;
    config.spin = std::chrono::microseconds(0);
    const weft::Topology machine = weft::Topology::synthetic("pack:1 numa:1 core:4 pu:1");
    return weft::Scheduler(weft::plan_placement(machine, config), config);
  }();
  return sched;
}

// ceil(a / b) for b > 0, without the wrap of (a + b - 1) / b.
std::size_t tiles_of(std::size_t a, std::size_t b) { return a / b + (a % b != 0); }

// Counts a loop's body calls and which units (iterations or tiles) they covered. The
// counters are relaxed: each is only counted, and the loop call returns after every
// participant left (which orders their increments before check_complete's loads).
class Tally {
 public:
  Tally(std::size_t units, const std::string& input) : units_(units), input_(input) {
    if (units_ <= tracked_units) seen_ = std::make_unique<std::atomic<unsigned>[]>(units_);
  }
  // One body call; throws Bail once there were enough.
  void call() {
    if (calls_.fetch_add(1, std::memory_order_relaxed) >= max_calls) throw Bail{};
  }
  void cover(std::size_t unit) {
    if (unit >= units_)
      finding("unit " + std::to_string(unit) + " of " + std::to_string(units_), input_);
    if (seen_ && seen_[unit].fetch_add(1, std::memory_order_relaxed) != 0)
      finding("unit " + std::to_string(unit) + " ran twice", input_);
    covered_.fetch_add(1, std::memory_order_relaxed);
  }
  void cover_range(std::size_t first, std::size_t n) {
    if (seen_) {
      for (std::size_t u = first; u < first + n; ++u) cover(u);
    } else {
      covered_.fetch_add(n, std::memory_order_relaxed);
    }
  }
  // After a call that returned without Bail: every unit ran exactly once.
  void check_complete() const {
    if (covered_.load() != units_)
      finding("the call returned after covering " + std::to_string(covered_.load()) + " of " +
                  std::to_string(units_) + " units",
              input_);
  }

 private:
  std::size_t units_;
  const std::string& input_;
  std::unique_ptr<std::atomic<unsigned>[]> seen_;
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::size_t> covered_{0};
};

// One extent of a tiled loop: a tile [t0, t1) must start on a tile boundary and end at
// min(t0 + tile, extent). Returns the tile's index.
std::size_t check_tile(std::size_t t0, std::size_t t1, std::size_t extent, std::size_t tile,
                       const char* what, const std::string& input) {
  if (tile == 0) finding(std::string("a body call with ") + what + " tile 0", input);
  if (!(t0 < t1 && t1 <= extent) || t0 % tile != 0 || t1 - t0 != std::min(tile, extent - t0))
    finding(std::string(what) + " tile [" + std::to_string(t0) + ", " + std::to_string(t1) +
                ") of extent " + std::to_string(extent) + ", tile " + std::to_string(tile),
            input);
  return t0 / tile;
}

// Runs the call one line describes.
void run_call(const std::string& line) {
  const std::vector<std::string> w = weft::fuzz::words(line);
  if (w.empty()) return;
  std::size_t n[6] = {};
  weft::ForOptions options;
  std::size_t positional = 0;
  for (std::size_t i = 1; i < w.size(); ++i) {
    std::string v;
    if (weft::fuzz::value_of(w[i], "grain", v)) {
      options.grain = weft::fuzz::number(v);
    } else if (weft::fuzz::value_of(w[i], "chunk", v)) {
      options.chunk = weft::fuzz::number(v);
    } else if (weft::fuzz::value_of(w[i], "threads", v)) {
      options.max_threads = static_cast<unsigned>(weft::fuzz::number(v));
    } else if (weft::fuzz::value_of(w[i], "prio", v)) {
      const auto p = weft::fuzz::number(v);
      if (p != 0) options.priority = static_cast<weft::Priority>((p - 1) & 0xff);
    } else if (weft::fuzz::value_of(w[i], "numa", v)) {
      options.numa_node = static_cast<int>(weft::fuzz::number(v));
    } else if (weft::fuzz::value_of(w[i], "l3", v)) {
      options.l3 = static_cast<int>(weft::fuzz::number(v));
    } else if (weft::fuzz::value_of(w[i], "det", v)) {
      options.deterministic = weft::fuzz::number(v) != 0;
    } else if (positional < 6) {
      n[positional++] = weft::fuzz::number(w[i]);
    }
  }
  if (std::getenv("WEFT_FUZZ_VERBOSE") != nullptr)
    std::fprintf(stderr,
                 "%s %zu %zu %zu %zu %zu %zu grain=%zu chunk=%zu threads=%u prio=%d numa=%d l3=%d det=%d\n",
                 w[0].c_str(), n[0], n[1], n[2], n[3], n[4], n[5], options.grain, options.chunk,
                 options.max_threads, options.priority ? static_cast<int>(*options.priority) : -1,
                 options.numa_node, options.l3, options.deterministic ? 1 : 0);
  weft::Scheduler& sched = scheduler();
  const std::string& op = w[0];
  const std::size_t begin = n[0], end = n[1];
  const std::size_t count = end >= begin ? end - begin : 0;
  weft::fuzz::expect_config_errors(op.c_str(), line, [&] {
    if (op == "for") {
      Tally tally(count, line);
      try {
        sched.parallel_for(
            begin, end,
            [&](std::size_t i) {
              tally.call();
              if (i < begin || i >= end)
                finding("index " + std::to_string(i) + " outside the range", line);
              tally.cover(i - begin);
            },
            options);
      } catch (const Bail&) {
        return;
      }
      if (begin > end) finding("begin > end returned without a ConfigError", line);
      tally.check_complete();
    } else if (op == "chunks" || op == "reduce") {
      Tally tally(count, line);
      const auto check_chunk = [&](std::size_t b, std::size_t e) {
        tally.call();
        if (const std::string error = weft::test::chunk_contract_error(
                options, op == "reduce" && options.deterministic, begin, end, b, e);
            !error.empty()) {
          finding(error, line);
        }
        tally.cover_range(b - begin, e - b);
      };
      std::size_t sum = 0;
      try {
        if (op == "chunks") {
          sched.parallel_for(
              begin, end, [&](std::size_t b, std::size_t e) { check_chunk(b, e); }, options);
        } else {
          sum = sched.parallel_reduce(
              begin, end, std::size_t{0},
              [&](std::size_t b, std::size_t e, std::size_t acc) {
                check_chunk(b, e);
                return acc + (e - b);
              },
              [](std::size_t a, std::size_t b) { return a + b; }, options);
        }
      } catch (const Bail&) {
        return;
      }
      if (begin > end) finding("begin > end returned without a ConfigError", line);
      tally.check_complete();
      if (op == "reduce" && sum != count)
        finding("parallel_reduce summed " + std::to_string(sum) + " of " + std::to_string(count),
                line);
    } else if (op == "2d" || op == "3d") {
      const bool three = op == "3d";
      const std::size_t dims = three ? 3 : 2;
      const std::size_t* extent = n;
      const std::size_t* tile = n + dims;
      // The tile count, when it fits in size_t. When it does not, the call must raise
      // ConfigError or stop with Bail: it cannot cover them all.
      std::size_t tiles = 1;
      bool fits = true;
      std::size_t per_dim[3] = {1, 1, 1};
      bool empty = false;
      for (std::size_t d = 0; d < dims; ++d) {
        if (extent[d] == 0) {
          empty = true;
          continue;
        }
        if (tile[d] == 0) continue;  // a ConfigError
        per_dim[d] = tiles_of(extent[d], tile[d]);
        if (__builtin_mul_overflow(tiles, per_dim[d], &tiles)) fits = false;
      }
      if (empty) {
        tiles = 0;
        fits = true;
      }
      Tally tally(fits ? tiles : std::numeric_limits<std::size_t>::max(), line);
      try {
        if (three) {
          sched.parallel_for_3d(
              extent[0], extent[1], extent[2], tile[0], tile[1], tile[2],
              [&](std::size_t a0, std::size_t a1, std::size_t b0, std::size_t b1, std::size_t c0,
                  std::size_t c1) {
                tally.call();
                const std::size_t i = check_tile(a0, a1, extent[0], tile[0], "d0", line);
                const std::size_t j = check_tile(b0, b1, extent[1], tile[1], "d1", line);
                const std::size_t k = check_tile(c0, c1, extent[2], tile[2], "d2", line);
                tally.cover((i * per_dim[1] + j) * per_dim[2] + k);
              },
              options);
        } else {
          sched.parallel_for_2d(
              extent[0], extent[1], tile[0], tile[1],
              [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                tally.call();
                const std::size_t i = check_tile(r0, r1, extent[0], tile[0], "rows", line);
                const std::size_t j = check_tile(c0, c1, extent[1], tile[1], "cols", line);
                tally.cover(i * per_dim[1] + j);
              },
              options);
        }
      } catch (const Bail&) {
        return;
      }
      if (!fits) finding("a call over more tiles than size_t counts returned", line);
      for (std::size_t d = 0; d < dims; ++d)
        if (tile[d] == 0 && extent[d] != 0)
          finding("a tile of 0 for a non-empty extent returned without a ConfigError", line);
      tally.check_complete();
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const std::string& line : weft::fuzz::lines(weft::fuzz::c_string(data, size), 4))
    run_call(line);
  return 0;
}
