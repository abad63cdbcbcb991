// The loop family at the edges of std::size_t, and the one validation of options:
//  - ranges of SIZE_MAX iterations, and short ranges that end at SIZE_MAX, are covered
//    exactly (no SIGFPE from a wrapped ceil-division, no chunk whose end wrapped);
//  - 2D/3D loops whose tile count overflows size_t raise a ConfigError naming the loop
//    and its arguments instead of returning at once or walking the wrong tiles;
//  - parallel_reduce's deterministic mode holds a bounded number of partials whatever
//    the range and grain;
//  - a bad option value raises the same ConfigError through submit, TaskGroup::run and
//    every loop.
// Bodies that would run for years stop themselves by throwing; nothing here measures time.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sched/sched_test_support.hpp"
#include "loop_contract.hpp"
#include "weft/config.hpp"
#include "weft/options.hpp"
#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::make_placement;
using weft::test::unpinned;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kPow(unsigned bits) { return std::size_t{1} << bits; }

// Thrown by a body to end a loop that would otherwise run for years.
struct Stop {};

// One scheduler per thread count (caller included), shared by the tests.
weft::Scheduler& sched(unsigned threads) {
  static std::mutex mutex;
  static std::vector<std::pair<unsigned, std::unique_ptr<weft::Scheduler>>> all;
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [n, s] : all) {
    if (n == threads) return *s;
  }
  all.emplace_back(threads,
                   std::make_unique<weft::Scheduler>(make_placement(threads - 1), unpinned()));
  return *all.back().second;
}

constexpr unsigned thread_counts[] = {2, 4};

// Every chunk [b, e) a loop ran, checked to tile [begin, end) exactly once.
class Chunks {
 public:
  void add(std::size_t b, std::size_t e) {
    std::lock_guard<std::mutex> lock(mutex_);
    chunks_.emplace_back(b, e);
  }
  // A description of the first problem, empty when the chunks tile [begin, end).
  std::string check(std::size_t begin, std::size_t end) {
    std::sort(chunks_.begin(), chunks_.end());
    std::size_t at = begin;
    for (auto [b, e] : chunks_) {
      if (b >= e) return "empty or reversed chunk at " + std::to_string(b);
      if (b != at) {
        return "chunk starts at " + std::to_string(b) + ", expected " + std::to_string(at);
      }
      at = e;
    }
    if (at != end) return "coverage ends at " + std::to_string(at);
    return {};
  }
  std::size_t size() const { return chunks_.size(); }
  std::vector<std::pair<std::size_t, std::size_t>>& all() { return chunks_; }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::size_t, std::size_t>> chunks_;
};

template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const weft::ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

// ---- parallel_for: SIZE_MAX iterations ------------------------------------------------

TEST(ExtremesFor, FullRangeItemBodyRunsUntilItStops) {
  // Used to die of SIGFPE: the ceil-division sizing the units wrapped to 0.
  for (unsigned threads : thread_counts) {
    for (std::size_t grain : {std::size_t{0}, std::size_t{1000}}) {
      std::atomic<std::size_t> calls{0}, beyond{0};
      EXPECT_THROW(sched(threads).parallel_for(
                       0, kMax,
                       [&](std::size_t i) {
                         if (i == kMax) beyond.fetch_add(1);
                         if (calls.fetch_add(1) >= 10000) throw Stop{};
                       },
                       {.grain = grain}),
                   Stop);
      EXPECT_GT(calls.load(), 10000u);
      EXPECT_EQ(beyond.load(), 0u);
    }
  }
}

TEST(ExtremesFor, FullRangeChunkBodyGetsWholeUnits) {
  // Automatic grain: 2^32 - 1 units of 2^32 + 1 iterations. How many chunks the loop
  // makes depends on the measured cost of the body (a few hundred when a call is cheap,
  // millions when the first call was slow, as under a sanitizer), so the body stops the
  // loop after 100000 of them. Each chunk must be whole units within the range, no two
  // may overlap, and a loop that finished must have covered everything.
  const std::size_t unit = kPow(32) + 1;
  for (unsigned threads : thread_counts) {
    Chunks chunks;
    std::atomic<int> calls{0};
    bool stopped = false;
    try {
      sched(threads).parallel_for(0, kMax, [&](std::size_t b, std::size_t e) {
        if (calls.fetch_add(1) >= 100000) throw Stop{};
        chunks.add(b, e);
      });
    } catch (const Stop&) {
      stopped = true;
    }
    std::size_t at = 0;
    std::sort(chunks.all().begin(), chunks.all().end());
    for (auto [b, e] : chunks.all()) {
      ASSERT_LT(b, e);
      ASSERT_GE(b, at) << "overlap at " << b;
      ASSERT_EQ(b % unit, 0u);
      ASSERT_TRUE(e % unit == 0 || e == kMax) << e;
      at = e;
    }
    if (!stopped) {
      EXPECT_EQ(chunks.check(0, kMax), "") << threads << " threads";
    }
  }
  // On the caller alone the whole range is one chunk.
  Chunks whole;
  sched(2).parallel_for(0, kMax, [&](std::size_t b, std::size_t e) { whole.add(b, e); },
                        {.max_threads = 1});
  EXPECT_EQ(whole.check(0, kMax), "");
  EXPECT_EQ(whole.size(), 1u);
}

TEST(ExtremesFor, FullRangeWithHugeChunksCallsExactChunks) {
  // 2^63 + 1: the second chunk's end, 2 * (2^63 + 1), used to wrap to 2 (body(2^63 + 1, 2)).
  for (unsigned threads : thread_counts) {
    for (std::size_t grain : {kPow(63) + 1, kMax, kMax - 1, kPow(44)}) {
      const std::size_t n = weft::detail::ceil_div(kMax, grain);
      std::vector<std::atomic<std::uint8_t>> hits(n);
      std::atomic<int> wrong{0};
      sched(threads).parallel_for(
          0, kMax,
          [&](std::size_t b, std::size_t e) {
            const std::size_t k = b / grain;
            const std::size_t want_e = k + 1 == n ? kMax : b + grain;
            if (b % grain != 0 || k >= n || e != want_e) {
              wrong.fetch_add(1);
              return;
            }
            hits[k].fetch_add(1, std::memory_order_relaxed);
          },
          {.chunk = grain});
      EXPECT_EQ(wrong.load(), 0) << "chunk " << grain;
      std::size_t bad = 0;
      for (auto& h : hits) bad += h.load() != 1;
      EXPECT_EQ(bad, 0u) << "grain " << grain;
    }
  }
}

TEST(ExtremesFor, FullRangeShapeKeepsExactChunks) {
  using weft::detail::shape_for;
  // SIZE_MAX = (2^32 - 1)(2^32 + 1): exactly 2^32 - 1 units of 2^32 + 1.
  const auto s = shape_for(kMax, 0);
  EXPECT_EQ(s.unit, kPow(32) + 1);
  EXPECT_EQ(s.units, 0xFFFFFFFFu);
  // 2^33 chunks of 2^31 are too many 32-bit units: a unit holds 3 chunks...
  const std::size_t grain = kPow(31);
  const auto g = shape_for(kMax, grain);
  EXPECT_EQ(g.unit, 3 * grain);
  EXPECT_EQ(g.units, weft::detail::ceil_div(kMax, 3 * grain));
  // ...and the chunk body still gets exact chunks, the last one ending
  // at SIZE_MAX.
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  auto body = [&](std::size_t b, std::size_t e) { calls.emplace_back(b, e); };
  weft::detail::ForExec<decltype(body)> exec{body, 0, kMax, g.unit, grain};
  exec(0, 0, 1);
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], std::make_pair(std::size_t{0}, grain));
  EXPECT_EQ(calls[2], std::make_pair(2 * grain, 3 * grain));
  calls.clear();
  exec(0, g.units - 1, g.units);
  ASSERT_FALSE(calls.empty());
  for (auto [b, e] : calls) {
    EXPECT_EQ(b % grain, 0u);
    EXPECT_TRUE(e - b == grain || e == kMax) << b << " " << e;
  }
  EXPECT_EQ(calls.back().second, kMax);
}

// ---- parallel_for: short ranges that end at SIZE_MAX ----------------------------------

TEST(ExtremesFor, RangesEndingAtSizeMaxRunEachIndexOnce) {
  for (unsigned threads : thread_counts) {
    for (std::size_t len : {0, 1, 2, 10, 1000}) {
      const std::size_t begin = kMax - len;
      for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{3}, kMax}) {
       for (const weft::ForOptions options :
            {weft::ForOptions{.grain = size}, weft::ForOptions{.chunk = size}}) {
        std::vector<std::atomic<int>> by_index(len + 1), by_chunk(len + 1);
        std::atomic<std::size_t> calls{0};
        sched(threads).parallel_for(
            begin, kMax,
            [&](std::size_t i) {
              calls.fetch_add(1);
              by_index[std::min(i - begin, len)].fetch_add(1);
            },
            options);
        Chunks chunks;
        sched(threads).parallel_for(
            begin, kMax,
            [&](std::size_t b, std::size_t e) {
              chunks.add(b, e);
              EXPECT_EQ(weft::test::chunk_contract_error(options, false, begin, kMax, b, e), "");
            },
            options);
        const std::string what = "len " + std::to_string(len) + " grain " +
                                 std::to_string(options.grain) + " chunk " +
                                 std::to_string(options.chunk);
        EXPECT_EQ(calls.load(), len) << what;
        for (std::size_t k = 0; k < len; ++k) EXPECT_EQ(by_index[k].load(), 1) << k;
        EXPECT_EQ(by_index[len].load(), 0);  // SIZE_MAX itself never runs
        EXPECT_EQ(chunks.check(begin, kMax), "") << what;
       }
      }
    }
  }
}

// ---- 2D / 3D: tile counts ------------------------------------------------------------

TEST(ExtremesTiles, TileCountOverflowIsAConfigErrorNamingTheLoop) {
  std::atomic<int> calls{0};
  auto body = [&](auto...) { calls.fetch_add(1); };
  // Used to multiply to 2^80 mod 2^64 = 0 tiles and return at once.
  EXPECT_EQ(config_error_of([&] { sched(2).parallel_for_2d(kPow(40), kPow(40), 1, 1, body); }),
            "parallel_for_2d: 1099511627776 x 1099511627776 tiles (rows = 1099511627776 / "
            "tile_rows = 1, cols = 1099511627776 / tile_cols = 1) overflow std::size_t (at most "
            "18446744073709551615 tiles); use larger tiles");
  // 2^32 x 2^32 = 2^64: one more than size_t counts.
  EXPECT_NE(config_error_of([&] { sched(2).parallel_for_2d(kPow(32), kPow(32), 1, 1, body); })
                .find("parallel_for_2d: 4294967296 x 4294967296 tiles"),
            std::string::npos);
  EXPECT_NE(config_error_of([&] {
              sched(2).parallel_for_3d(kPow(30), kPow(30), kPow(30), 1, 1, 1, body);
            }).find("parallel_for_3d: 1073741824 x 1073741824 x 1073741824 tiles (d0 = "),
            std::string::npos);
  // The first two dimensions fit, the third does not.
  EXPECT_NE(config_error_of([&] {
              sched(2).parallel_for_3d(kPow(20), kPow(20), kMax, 1, 1, 1, body);
            }).find("overflow std::size_t"),
            std::string::npos);
  EXPECT_EQ(calls.load(), 0);
  // An empty extent still wins: nothing to count.
  sched(2).parallel_for_2d(0, kMax, 1, 1, body);
  sched(2).parallel_for_3d(kMax, kMax, 0, 1, 1, 1, body);
  EXPECT_EQ(calls.load(), 0);
}

TEST(ExtremesTiles, LargestCountableTileCountsRun) {
  // 2^32 x (2^32 - 1) tiles < 2^64: runs (in units of several tiles) until the body stops.
  for (unsigned threads : thread_counts) {
    std::atomic<std::size_t> calls{0};
    std::atomic<int> wrong{0};
    EXPECT_THROW(sched(threads).parallel_for_2d(
                     kPow(32), kPow(32) - 1, 1, 1,
                     [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                       if (r1 != r0 + 1 || c1 != c0 + 1 || r0 >= kPow(32) || c0 >= kPow(32) - 1)
                         wrong.fetch_add(1);
                       if (calls.fetch_add(1) >= 5000) throw Stop{};
                     }),
                 Stop);
    EXPECT_EQ(wrong.load(), 0);
  }
}

TEST(ExtremesTiles, TilesNearSizeMaxEndAtTheExtent) {
  // A second tile of 2^63 + 1 used to end at (2^63 + 1) * 2 mod 2^64 = 2.
  const std::size_t big = kPow(63) + 1;
  for (unsigned threads : thread_counts) {
    std::mutex mutex;
    std::set<std::vector<std::size_t>> seen2, seen3;
    std::atomic<int> repeats{0};
    sched(threads).parallel_for_2d(
        kMax, 3, big, 2,
        [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!seen2.insert({r0, r1, c0, c1}).second) repeats.fetch_add(1);
        },
        {.grain = 1});
    const std::set<std::vector<std::size_t>> want2 = {
        {0, big, 0, 2}, {0, big, 2, 3}, {big, kMax, 0, 2}, {big, kMax, 2, 3}};
    EXPECT_EQ(seen2, want2);
    sched(threads).parallel_for_3d(
        2, kMax, kMax, 1, big, kMax - 1,
        [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, std::size_t k0,
            std::size_t k1) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!seen3.insert({i0, i1, j0, j1, k0, k1}).second) repeats.fetch_add(1);
        });
    std::set<std::vector<std::size_t>> want3;
    for (std::size_t i : {0, 1}) {
      for (auto [j0, j1] : {std::pair{std::size_t{0}, big}, std::pair{big, kMax}}) {
        want3.insert({i, i + 1, j0, j1, 0, kMax - 1});
        want3.insert({i, i + 1, j0, j1, kMax - 1, kMax});
      }
    }
    EXPECT_EQ(seen3, want3);
    EXPECT_EQ(repeats.load(), 0);
  }
}

// ---- parallel_reduce ------------------------------------------------------------------

// A contiguous range, or none: combining two checks that they are adjacent and in order.
struct Span {
  bool any = false;
  bool bad = false;
  std::size_t b = 0, e = 0;
};
Span join(Span x, Span y) {
  if (!x.any) return y;
  if (!y.any) return x;
  return Span{true, x.bad || y.bad || x.e != y.b, x.b, y.e};
}
Span add_chunk(std::size_t b, std::size_t e, Span acc) {
  return join(acc, Span{true, b >= e, b, e});
}

TEST(ExtremesReduce, FullAndNearMaxRangesCombineInOrder) {
  // Full ranges with exact chunks (a known number of them; automatic sizing over
  // [0, SIZE_MAX) makes as many chunks as the measured cost says).
  for (unsigned threads : thread_counts) {
    for (auto [begin, chunk, deterministic] :
         {std::tuple{std::size_t{0}, kPow(44), false},
          std::tuple{std::size_t{0}, kPow(63) + 1, false},
          std::tuple{std::size_t{0}, kPow(63) + 1, true},
          std::tuple{std::size_t{0}, kPow(44), true},  // 2^20 chunks: 64 windows
          std::tuple{std::size_t{0}, kMax, true},
          std::tuple{kMax - 10, std::size_t{0}, false},
          std::tuple{kMax - 10, std::size_t{3}, false},
          std::tuple{kMax - 10, std::size_t{0}, true},
          std::tuple{kMax - 10, std::size_t{3}, true}}) {
      const Span got = sched(threads).parallel_reduce(
          begin, kMax, Span{}, add_chunk, join, {.deterministic = deterministic, .chunk = chunk});
      EXPECT_TRUE(got.any && !got.bad && got.b == begin && got.e == kMax)
          << "begin " << begin << " chunk " << chunk << " det " << deterministic << ": "
          << got.b << ".." << got.e << (got.bad ? " bad" : "");
    }
  }
  const Span whole = sched(2).parallel_reduce(0, kMax, Span{}, add_chunk, join, {.max_threads = 1});
  EXPECT_TRUE(whole.any && !whole.bad && whole.b == 0 && whole.e == kMax);
}

// Counts the live instances, to bound what the deterministic mode holds at once.
struct Counted {
  static std::atomic<long> live, peak;
  double value = 0;
  explicit Counted(double v = 0) : value(v) { born(); }
  Counted(const Counted& o) : value(o.value) { born(); }
  Counted(Counted&& o) noexcept : value(o.value) { born(); }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  ~Counted() { live.fetch_sub(1); }
  static void born() {
    const long now = live.fetch_add(1) + 1;
    long p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
};
std::atomic<long> Counted::live{0}, Counted::peak{0};

TEST(ExtremesReduce, DeterministicModeHoldsABoundedNumberOfPartials) {
  constexpr std::size_t window = weft::detail::loop_tuning::deterministic_window;
  const long bound = static_cast<long>(window) + 64;  // + result, init, per-thread temporaries
  auto combine = [](Counted a, Counted b) { return Counted(a.value + b.value); };
  for (unsigned threads : thread_counts) {
    // [0, 2^40) in chunks of 1: one partial per chunk would be 2^40 of them (16 TiB).
    // It runs window after window instead, until the body stops it.
    Counted::peak.store(Counted::live.load());
    std::atomic<std::size_t> calls{0};
    EXPECT_THROW(sched(threads).parallel_reduce(
                     0, kPow(40), Counted(),
                     [&](std::size_t b, std::size_t e, Counted acc) {
                       if (calls.fetch_add(1) >= 3 * window + 100) throw Stop{};
                       return Counted(acc.value + static_cast<double>(e - b));
                     },
                     combine, {.deterministic = true, .chunk = 1}),
                 Stop);
    EXPECT_LE(Counted::peak.load(), bound);
    EXPECT_GT(calls.load(), 3 * window);
    // A finite range over several windows: the sum, still within the bound.
    Counted::peak.store(Counted::live.load());
    const std::size_t n = 3 * window + 17;
    const Counted sum = sched(threads).parallel_reduce(
        0, n, Counted(),
        [](std::size_t b, std::size_t e, Counted acc) {
          return Counted(acc.value + static_cast<double>(e - b));
        },
        combine, {.deterministic = true, .chunk = 1});
    EXPECT_EQ(sum.value, static_cast<double>(n));
    EXPECT_LE(Counted::peak.load(), bound);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(ExtremesReduce, DeterministicWindowsKeepTheSequentialCombineOrder) {
  // Float sums over several windows equal the left fold of one partial per chunk.
  constexpr std::size_t window = weft::detail::loop_tuning::deterministic_window;
  const std::size_t n = 2 * window * 3 + 5;
  const std::size_t size = 3;
  auto chunk = [](std::size_t b, std::size_t e, float acc) {
    for (std::size_t i = b; i < e; ++i) acc += 1.0f / static_cast<float>(i % 977 + 1);
    return acc;
  };
  float want = 0;
  bool first = true;
  for (std::size_t c = 0; c < n; c += size) {
    const float part = chunk(c, std::min(c + size, n), 0.0f);
    want = first ? part : want + part;
    first = false;
  }
  for (unsigned threads : thread_counts) {
    const float got = sched(threads).parallel_reduce(0, n, 0.0f, chunk, std::plus<>{},
                                                     {.deterministic = true, .chunk = size});
    EXPECT_EQ(got, want) << threads << " threads";
  }
}

// ---- options: one validation, one text ------------------------------------------------

// What each entry point says about `fo` / `to`, in a fixed order: the six loop forms,
// then submit and TaskGroup::run. The bodies must never run.
std::vector<std::string> errors_everywhere(weft::Scheduler& s, const weft::ForOptions& fo,
                                           const weft::TaskOptions& to, std::atomic<int>& ran) {
  auto body = [&](auto...) { ran.fetch_add(1); };
  auto chunk = [&](std::size_t, std::size_t, int acc) {
    ran.fetch_add(1);
    return acc;
  };
  weft::ForOptions det = fo;
  det.deterministic = true;
  std::vector<std::string> out;
  out.push_back(config_error_of([&] { s.parallel_for(0, 100, [&](std::size_t) { body(); }, fo); }));
  out.push_back(config_error_of(
      [&] { s.parallel_for(0, 0, [&](std::size_t, std::size_t) { body(); }, fo); }));
  out.push_back(config_error_of([&] { s.parallel_for_2d(10, 10, 2, 2, body, fo); }));
  out.push_back(config_error_of([&] { s.parallel_for_3d(4, 4, 4, 1, 1, 1, body, fo); }));
  out.push_back(config_error_of([&] { s.parallel_reduce(0, 100, 0, chunk, std::plus<>{}, fo); }));
  out.push_back(config_error_of([&] { s.parallel_reduce(0, 100, 0, chunk, std::plus<>{}, det); }));
  out.push_back(config_error_of([&] { s.submit([&] { body(); }, to).get(); }));
  weft::TaskGroup g(s);
  out.push_back(config_error_of([&] { g.run([&] { body(); }, to); }));
  g.run([] {});  // the group is still usable after a rejected task
  g.wait();
  return out;
}

// Checks that the loops all say `for_text`, submit and run both `task_text`.
void expect_same_errors(const std::vector<std::string>& got, const std::string& for_text,
                        const std::string& task_text) {
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(got[k], for_text) << "loop form " << k;
  EXPECT_EQ(got[6], task_text) << "submit";
  EXPECT_EQ(got[7], task_text) << "TaskGroup::run";
}

TEST(ExtremesOptions, BadPriorityIsTheSameErrorEverywhere) {
  weft::Scheduler& s = sched(2);
  std::atomic<int> ran{0};
  for (unsigned bad : {4u, 7u, 255u}) {
    weft::ForOptions fo;
    fo.priority = static_cast<weft::Priority>(bad);
    weft::TaskOptions to;
    to.priority = static_cast<weft::Priority>(bad);
    const std::string tail = ": " + std::to_string(bad) + " is not a Priority";
    expect_same_errors(errors_everywhere(s, fo, to, ran), "ForOptions::priority" + tail,
                       "TaskOptions::priority" + tail);
  }
  EXPECT_EQ(ran.load(), 0);
}

TEST(ExtremesOptions, BadNumaNodeIsTheSameErrorEverywhere) {
  // Workers 0, 2 on node 0; 1, 3 on node 1 (l3 = node).
  weft::Scheduler s(make_placement(4, 0, 2), unpinned());
  std::atomic<int> ran{0};
  for (int bad : {2, 5, -2, -100}) {
    weft::ForOptions fo;
    fo.numa_node = bad;
    weft::TaskOptions to;
    to.numa_node = bad;
    const std::string tail =
        "::numa_node: " + std::to_string(bad) + " has no worker of this scheduler (-1 = anywhere)";
    expect_same_errors(errors_everywhere(s, fo, to, ran), "ForOptions" + tail,
                       "TaskOptions" + tail);
    to.worker = 1;  // a valid worker does not excuse a bad node
    EXPECT_EQ(config_error_of([&] { s.submit([] {}, to).get(); }), "TaskOptions" + tail);
  }
  EXPECT_EQ(ran.load(), 0);
  // Valid domains run.
  std::atomic<std::size_t> sum{0};
  s.parallel_for(0, 1000, [&](std::size_t i) { sum.fetch_add(i); }, {.numa_node = 1, .l3 = 1});
  EXPECT_EQ(sum.load(), 999u * 1000u / 2);
  weft::TaskOptions on_node;
  on_node.numa_node = 1;
  EXPECT_EQ(s.submit([] { return 3; }, on_node).get(), 3);
}

TEST(ExtremesOptions, BadL3AndBadWorkerNameTheField) {
  weft::Scheduler s(make_placement(4, 0, 2), unpinned());
  auto body = [](std::size_t) {};
  EXPECT_EQ(config_error_of([&] { s.parallel_for(0, 10, body, {.l3 = 3}); }),
            "ForOptions::l3: 3 has no worker of this scheduler (-1 = anywhere)");
  EXPECT_EQ(config_error_of([&] { s.parallel_for(0, 10, body, {.l3 = -5}); }),
            "ForOptions::l3: -5 has no worker of this scheduler (-1 = anywhere)");
  // Each exists, but no worker is in both.
  EXPECT_EQ(config_error_of([&] { s.parallel_for(0, 10, body, {.numa_node = 0, .l3 = 1}); }),
            "ForOptions::l3: 1 has no worker on NUMA node 0 (ForOptions::numa_node)");
  for (int bad : {4, 99, -2}) {
    weft::TaskOptions to;
    to.worker = bad;
    const std::string want = "TaskOptions::worker: " + std::to_string(bad) +
                             " is out of range (this scheduler has 4 workers; -1 = no hint)";
    EXPECT_EQ(config_error_of([&] { s.submit([] {}, to).get(); }), want);
    weft::TaskGroup g(s);
    EXPECT_EQ(config_error_of([&] { g.run([] {}, to); }), want);
    g.wait();
  }
}

TEST(ExtremesOptions, EveryGrainChunkAndThreadCapIsValid) {
  const std::size_t sizes[] = {0, 1, 999, kMax};
  for (unsigned threads : thread_counts) {
    for (unsigned max_threads : {0u, 1u, 1000u, std::numeric_limits<unsigned>::max()}) {
      for (std::size_t grain : sizes) {
        for (std::size_t chunk : sizes) {
          std::vector<std::atomic<int>> hits(1000);
          sched(threads).parallel_for(0, 1000, [&](std::size_t i) { hits[i].fetch_add(1); },
                                      {.grain = grain, .max_threads = max_threads, .chunk = chunk});
          for (auto& h : hits) ASSERT_EQ(h.load(), 1) << max_threads << " " << grain << " " << chunk;
        }
      }
    }
  }
}

}  // namespace
