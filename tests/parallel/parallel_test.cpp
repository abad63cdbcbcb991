// The loop family through the Scheduler: a behaviour matrix in the manner of
// pthreadpool's test/pthreadpool.cc. For each loop variant: it completes, indices stay
// in bounds, each item runs exactly once (also under high contention and imbalance),
// with prime and huge sizes; then reductions, nesting, exceptions, thread caps and
// loops started from several threads at once.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "loop_contract.hpp"
#include "sched/sched_test_support.hpp"
#include "weft/config.hpp"
#include "weft/options.hpp"
#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"

namespace {

#ifdef WEFT_TEST_SANITIZED
constexpr std::size_t huge_size = 300'000;
constexpr int repeats = 4;
#else
constexpr std::size_t huge_size = 10'000'000;
constexpr int repeats = 10;
#endif

constexpr std::size_t sizes[] = {0, 1, 2, 3, 5, 7, 11, 13, 97, 1009, 10007};

// One scheduler per thread count, shared by the tests (creating threads is slow under
// sanitizers). num_threads counts the caller.
weft::Scheduler& sched(unsigned threads) {
  static std::mutex mutex;
  static std::vector<std::pair<unsigned, std::unique_ptr<weft::Scheduler>>> all;
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [n, s] : all) {
    if (n == threads) return *s;
  }
  weft::Config config;
  config.num_threads = threads;
  config.pinning = weft::Pinning::none;
  all.emplace_back(threads, std::make_unique<weft::Scheduler>(config));
  return *all.back().second;
}

constexpr unsigned thread_counts[] = {2, 4};

// Per-item hit counters, checked for "each exactly once".
class Hits {
 public:
  explicit Hits(std::size_t n) : hits_(new std::atomic<std::uint8_t>[n]), n_(n) {
    for (std::size_t i = 0; i < n; ++i) hits_[i].store(0, std::memory_order_relaxed);
  }
  void hit(std::size_t i) {
    if (i >= n_) {
      out_of_bounds_.fetch_add(1);
      return;
    }
    hits_[i].fetch_add(1, std::memory_order_relaxed);
  }
  // Returns a description of the first problem, empty when every item ran once.
  std::string check() const {
    if (out_of_bounds_.load() != 0) return "index out of bounds";
    for (std::size_t i = 0; i < n_; ++i) {
      if (hits_[i].load() != 1) {
        return "item " + std::to_string(i) + " ran " + std::to_string(hits_[i].load()) + " times";
      }
    }
    return {};
  }

 private:
  std::unique_ptr<std::atomic<std::uint8_t>[]> hits_;
  std::size_t n_;
  std::atomic<int> out_of_bounds_{0};
};

void spin_for(std::chrono::nanoseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// ---- parallel_for -----------------------------------------------------------------

// (grain, chunk) pairs: neither, a grain, exact chunks, and both.
constexpr std::pair<std::size_t, std::size_t> grain_chunk_pairs[] = {
    {0, 0}, {1, 0}, {3, 0}, {64, 0}, {0, 1}, {0, 3}, {0, 64}, {5, 3}, {2, 7}};

TEST(ParallelFor, EachIndexOnceForEverySizeGrainChunkAndForm) {
  for (unsigned threads : thread_counts) {
    for (std::size_t n : sizes) {
      for (auto [grain, chunk] : grain_chunk_pairs) {
        for (std::size_t offset : {0, 1000}) {
          Hits by_index(n), by_range(n);
          weft::ForOptions options{.grain = grain, .chunk = chunk};
          sched(threads).parallel_for(
              offset, offset + n, [&](std::size_t i) { by_index.hit(i - offset); }, options);
          sched(threads).parallel_for(
              offset, offset + n,
              [&](std::size_t b, std::size_t e) {
                ASSERT_EQ(weft::test::chunk_contract_error(options, false, offset, offset + n, b, e),
                          "");
                for (std::size_t i = b; i < e; ++i) by_range.hit(i - offset);
              },
              options);
          ASSERT_EQ(by_index.check(), "") << "n=" << n << " grain=" << grain << " chunk=" << chunk;
          ASSERT_EQ(by_range.check(), "") << "n=" << n << " grain=" << grain << " chunk=" << chunk;
        }
      }
    }
  }
}

TEST(ParallelFor, EachIndexOnceWhenTheMeasuredCostInvitesATeam) {
  // Bodies costly enough (~0.3 us per item) that automatic grain invites workers:
  // the first call probes, later calls of the same lambda use the remembered cost.
  for (unsigned threads : thread_counts) {
    for (int r = 0; r < 3; ++r) {
      for (std::size_t n : sizes) {
        Hits hits(n);
        sched(threads).parallel_for(0, n, [&](std::size_t i) {
          spin_for(std::chrono::nanoseconds(300));
          hits.hit(i);
        });
        ASSERT_EQ(hits.check(), "") << "n=" << n;
        Hits tiles(n * 3);
        sched(threads).parallel_for_2d(n, 3, 1, 2, [&](std::size_t r0, std::size_t r1,
                                                       std::size_t c0, std::size_t c1) {
          spin_for(std::chrono::nanoseconds(300));
          for (std::size_t row = r0; row < r1; ++row)
            for (std::size_t c = c0; c < c1; ++c) tiles.hit(row * 3 + c);
        });
        ASSERT_EQ(tiles.check(), "") << "n=" << n;
      }
    }
  }
}

TEST(ParallelFor, GrainAndChunkSweepsKeepTheirContracts) {
  constexpr std::size_t n = 37;
  for (std::size_t size = 1; size <= n + 3; ++size) {
    for (const weft::ForOptions options :
         {weft::ForOptions{.grain = size}, weft::ForOptions{.chunk = size}}) {
      Hits hits(n);
      std::atomic<int> bad_chunks{0};
      sched(4).parallel_for(
          0, n,
          [&](std::size_t b, std::size_t e) {
            // A chunk is exactly `chunk`, a grain's ranges whole grains; the last shorter.
            if (!weft::test::chunk_contract_error(options, false, 0, n, b, e).empty())
              bad_chunks.fetch_add(1);
            for (std::size_t i = b; i < e; ++i) hits.hit(i);
          },
          options);
      ASSERT_EQ(hits.check(), "") << "grain=" << options.grain << " chunk=" << options.chunk;
      ASSERT_EQ(bad_chunks.load(), 0) << "grain=" << options.grain << " chunk=" << options.chunk;
    }
  }
}

// A grain is a minimum: a cheap loop with grain 1 is still handed out in large ranges
// (at::parallel_for's and oneTBB's meaning), while chunk 1 calls the body per index.
TEST(ParallelFor, GrainIsAMinimumAndChunkIsExact) {
  constexpr std::size_t n = 1 << 16;
  for (unsigned threads : thread_counts) {
    std::atomic<std::size_t> grain_calls{0}, chunk_calls{0}, items{0};
    sched(threads).parallel_for(0, n, [&](std::size_t b, std::size_t e) {
      grain_calls.fetch_add(1, std::memory_order_relaxed);
      items.fetch_add(e - b, std::memory_order_relaxed);
    }, {.grain = 1});
    sched(threads).parallel_for(0, n, [&](std::size_t b, std::size_t e) {
      chunk_calls.fetch_add(1, std::memory_order_relaxed);
      items.fetch_add(e - b, std::memory_order_relaxed);
    }, {.chunk = 1});
    EXPECT_EQ(items.load(), 2 * n);
    EXPECT_EQ(chunk_calls.load(), n);
    // The probe alone runs 1 + 4 + 16 + ... iterations per call before any split.
    EXPECT_LT(grain_calls.load(), n / 2) << threads << " threads";
  }
}

TEST(ParallelFor, HugeRangeWithACheapBody) {
  Hits hits(huge_size);
  sched(2).parallel_for(0, huge_size, [&](std::size_t i) { hits.hit(i); });
  EXPECT_EQ(hits.check(), "");
}

TEST(ParallelFor, HighContention) {
  // Every iteration hits the same atomic: the loop must still run each exactly once.
  for (unsigned threads : thread_counts) {
    std::atomic<std::size_t> count{0};
    sched(threads).parallel_for(0, 100003, [&](std::size_t) { count.fetch_add(1); },
                                {.chunk = 1});
    EXPECT_EQ(count.load(), 100003u);
  }
}

TEST(ParallelFor, Imbalanced) {
  // The first item is far more expensive than all others together: the others must
  // be stolen from its share, and everything must still run once.
  for (unsigned threads : thread_counts) {
    for (int r = 0; r < repeats; ++r) {
      Hits hits(10007);
      sched(threads).parallel_for(0, 10007, [&](std::size_t i) {
        if (i == 0) spin_for(std::chrono::milliseconds(2));
        hits.hit(i);
      });
      ASSERT_EQ(hits.check(), "");
    }
  }
}

TEST(ParallelFor, TriangularCost) {
  for (int r = 0; r < repeats; ++r) {
    Hits hits(2000);
    sched(4).parallel_for(0, 2000, [&](std::size_t i) {
      volatile std::size_t x = 0;
      for (std::size_t k = 0; k < i * 10; k = k + 1) x = x + k;
      hits.hit(i);
    });
    ASSERT_EQ(hits.check(), "");
  }
}

TEST(ParallelFor, BeginAfterEndIsAConfigErrorNamingBoth) {
  try {
    sched(2).parallel_for(5, 3, [](std::size_t) {});
    FAIL() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("parallel_for"), std::string::npos) << what;
    EXPECT_NE(what.find("begin = 5"), std::string::npos) << what;
    EXPECT_NE(what.find("end = 3"), std::string::npos) << what;
  }
  EXPECT_THROW(sched(2).parallel_reduce(
                   9, 1, 0, [](std::size_t, std::size_t, int a) { return a; }, std::plus<>{}),
               weft::ConfigError);
}

TEST(ParallelFor, LowPriorityLoopCompletes) {
  Hits hits(50021);
  weft::test::wait_or_dump(sched(4), "a low-priority loop of 50021 items", [&] {
    sched(4).parallel_for(0, 50021, [&](std::size_t i) { hits.hit(i); },
                          {.priority = weft::Priority::low});
  });
  EXPECT_EQ(hits.check(), "");
}

// ---- parallel_for_2d / _3d ------------------------------------------------------------

struct Case2d {
  std::size_t rows, cols, tile_r, tile_c;
};

TEST(ParallelFor2d, EachCellOnceWithEdgeTiles) {
  const Case2d cases[] = {{0, 5, 2, 2},  {5, 0, 2, 2},   {0, 0, 0, 0},    {1, 1, 1, 1},
                          {7, 5, 2, 3},  {13, 17, 4, 5}, {64, 64, 64, 64}, {100, 3, 7, 1},
                          {3, 100, 1, 7}, {31, 29, 31, 29}, {97, 89, 8, 8}, {5, 7, 100, 100}};
  for (unsigned threads : thread_counts) {
    for (const Case2d& c : cases) {
      for (auto [grain, chunk] : grain_chunk_pairs) {
        Hits hits(c.rows * c.cols);
        std::atomic<int> bad_tiles{0};
        sched(threads).parallel_for_2d(
            c.rows, c.cols, c.tile_r, c.tile_c,
            [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
              bool ok = r0 < r1 && r1 <= c.rows && c0 < c1 && c1 <= c.cols &&
                        r0 % c.tile_r == 0 && c0 % c.tile_c == 0 &&
                        (r1 - r0 == c.tile_r || r1 == c.rows) &&
                        (c1 - c0 == c.tile_c || c1 == c.cols);
              if (!ok) {
                bad_tiles.fetch_add(1);
                return;
              }
              for (std::size_t r = r0; r < r1; ++r)
                for (std::size_t col = c0; col < c1; ++col) hits.hit(r * c.cols + col);
            },
            {.grain = grain, .chunk = chunk});
        ASSERT_EQ(bad_tiles.load(), 0) << c.rows << "x" << c.cols;
        ASSERT_EQ(hits.check(), "") << c.rows << "x" << c.cols << " tiles " << c.tile_r << "x"
                                    << c.tile_c << " grain " << grain << " chunk " << chunk;
      }
    }
  }
}

TEST(ParallelFor2d, ZeroTileIsAConfigErrorNamingIt) {
  try {
    sched(2).parallel_for_2d(10, 7, 2, 0, [](auto...) {});
    FAIL() << "no ConfigError";
  } catch (const weft::ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("tile_cols = 0"), std::string::npos) << what;
    EXPECT_NE(what.find("cols = 7"), std::string::npos) << what;
  }
  EXPECT_THROW(sched(2).parallel_for_2d(10, 7, 0, 2, [](auto...) {}), weft::ConfigError);
  // A zero tile over an empty extent is fine: there is nothing to tile.
  EXPECT_NO_THROW(sched(2).parallel_for_2d(0, 7, 0, 2, [](auto...) {}));
}

TEST(ParallelFor3d, EachCellOnceWithEdgeTiles) {
  struct Case3d {
    std::size_t d0, d1, d2, t0, t1, t2;
  };
  const Case3d cases[] = {{0, 3, 3, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {7, 5, 3, 2, 2, 2},
                          {13, 11, 17, 4, 3, 5}, {16, 16, 16, 16, 16, 16}, {3, 29, 31, 1, 7, 8}};
  for (unsigned threads : thread_counts) {
    for (const Case3d& c : cases) {
      Hits hits(c.d0 * c.d1 * c.d2);
      std::atomic<int> bad_tiles{0};
      sched(threads).parallel_for_3d(
          c.d0, c.d1, c.d2, c.t0, c.t1, c.t2,
          [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, std::size_t k0,
              std::size_t k1) {
            bool ok = i0 < i1 && i1 <= c.d0 && j0 < j1 && j1 <= c.d1 && k0 < k1 && k1 <= c.d2 &&
                      i0 % c.t0 == 0 && j0 % c.t1 == 0 && k0 % c.t2 == 0 &&
                      i1 - i0 <= c.t0 && j1 - j0 <= c.t1 && k1 - k0 <= c.t2;
            if (!ok) {
              bad_tiles.fetch_add(1);
              return;
            }
            for (std::size_t i = i0; i < i1; ++i)
              for (std::size_t j = j0; j < j1; ++j)
                for (std::size_t k = k0; k < k1; ++k) hits.hit((i * c.d1 + j) * c.d2 + k);
          });
      ASSERT_EQ(bad_tiles.load(), 0);
      ASSERT_EQ(hits.check(), "") << c.d0 << "x" << c.d1 << "x" << c.d2;
    }
  }
  EXPECT_THROW(sched(2).parallel_for_3d(2, 2, 2, 1, 0, 1, [](auto...) {}), weft::ConfigError);
}

// ---- parallel_reduce ----------------------------------------------------------------

TEST(ParallelReduce, SumMatchesForEverySize) {
  for (unsigned threads : thread_counts) {
    for (std::size_t n : sizes) {
      for (auto [grain, chunk] : grain_chunk_pairs) {
        const weft::ForOptions options{.grain = grain, .chunk = chunk};
        std::atomic<int> bad_chunks{0};
        auto sum = sched(threads).parallel_reduce(
            0, n, std::uint64_t{0},
            [&](std::size_t b, std::size_t e, std::uint64_t acc) {
              if (!weft::test::chunk_contract_error(options, false, 0, n, b, e).empty())
                bad_chunks.fetch_add(1);
              for (std::size_t i = b; i < e; ++i) acc += i;
              return acc;
            },
            std::plus<>{}, options);
        ASSERT_EQ(sum, n * (n == 0 ? 0 : n - 1) / 2) << "n=" << n;
        ASSERT_EQ(bad_chunks.load(), 0) << "n=" << n << " grain=" << grain << " chunk=" << chunk;
      }
    }
  }
}

TEST(ParallelReduce, NonCommutativeCombineGivesTheSequentialAnswer) {
  auto chunk = [](std::size_t b, std::size_t e, std::string acc) {
    for (std::size_t i = b; i < e; ++i) acc += static_cast<char>('a' + i % 26);
    return acc;
  };
  const std::string want = chunk(0, 5003, "");
  for (unsigned threads : thread_counts) {
    for (int r = 0; r < repeats; ++r) {
      for (auto [grain, size] : grain_chunk_pairs) {
        std::string got = sched(threads).parallel_reduce(
            0, 5003, std::string(), chunk,
            [](std::string a, const std::string& b) { return a + b; },
            {.grain = grain, .chunk = size});
        ASSERT_EQ(got, want) << "grain " << grain << " chunk " << size;
      }
    }
  }
}

TEST(ParallelReduce, MatrixProductInRangeOrder) {
  // 2x2 matrix products (mod 2^64): associative, not commutative.
  using M = std::array<std::uint64_t, 4>;
  auto mul = [](const M& a, const M& b) {
    return M{a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
             a[2] * b[1] + a[3] * b[3]};
  };
  auto item = [](std::size_t i) { return M{i + 1, i % 3, 2 * i + 1, 1}; };
  auto chunk = [&](std::size_t b, std::size_t e, M acc) {
    for (std::size_t i = b; i < e; ++i) acc = mul(acc, item(i));
    return acc;
  };
  const M identity{1, 0, 0, 1};
  const M want = chunk(0, 20011, identity);
  for (unsigned threads : thread_counts) {
    for (int r = 0; r < repeats; ++r) {
      // An imbalanced body forces steals, so segments come from all over the range.
      M got = sched(threads).parallel_reduce(
          0, 20011, identity,
          [&](std::size_t b, std::size_t e, M acc) {
            if (b == 0) spin_for(std::chrono::microseconds(300));
            return chunk(b, e, acc);
          },
          mul);
      ASSERT_EQ(got, want);
    }
  }
}

TEST(ParallelReduce, DeterministicFloatSumIsBitIdentical) {
  constexpr std::size_t n = 100'003;
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 1.0f / static_cast<float>(i % 977 + 1) +
                                      1e-3f * static_cast<float>(i % 7);
  auto chunk = [&](std::size_t b, std::size_t e, float acc) {
    for (std::size_t i = b; i < e; ++i) acc += x[i];
    return acc;
  };
  // (chunk, grain): the grain only sets how many chunks a thread claims at once.
  for (auto [size, grain] : {std::pair<std::size_t, std::size_t>{0, 0}, {500, 0}, {0, 3000},
                             {500, 1234}}) {
    // The reference: fixed chunks folded from 0, combined left to right.
    const std::size_t g = size == 0 ? 1024 : size;
    float want = 0;
    bool first = true;
    for (std::size_t b = 0; b < n; b += g) {
      float part = chunk(b, std::min(b + g, n), 0.0f);
      want = first ? part : want + part;
      first = false;
    }
    for (unsigned threads : thread_counts) {
      for (unsigned max_threads : {1u, 2u, 3u, 0u}) {
        for (int r = 0; r < repeats; ++r) {
          float got = sched(threads).parallel_reduce(
              0, n, 0.0f, chunk, std::plus<>{},
              {.grain = grain, .max_threads = max_threads, .deterministic = true, .chunk = size});
          ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0)
              << got << " vs " << want << " threads " << threads << " max " << max_threads;
        }
      }
    }
  }
}

// ---- nesting, exceptions, thread caps, concurrency ---------------------------------------

TEST(ParallelNesting, LoopsInsideLoopsAndTasks) {
  for (unsigned threads : thread_counts) {
    weft::Scheduler& s = sched(threads);
    constexpr std::size_t outer = 16, inner = 1000;
    Hits hits(outer * inner);
    // One bound for the whole test's loops, each of which may hang on a nesting bug.
    weft::test::HangWatch watch(s);
    watch.wait("a loop of loops", [&] {
      s.parallel_for(0, outer, [&](std::size_t i) {
        s.parallel_for(0, inner, [&](std::size_t j) { hits.hit(i * inner + j); }, {.grain = 16});
      }, {.chunk = 1});
    });
    ASSERT_EQ(hits.check(), "");

    // Three levels, and reductions inside loops.
    std::atomic<std::uint64_t> total{0};
    watch.wait("reductions in loops in a 2d loop", [&] {
      s.parallel_for_2d(4, 4, 1, 1, [&](std::size_t, std::size_t, std::size_t, std::size_t) {
        s.parallel_for(0, 8, [&](std::size_t) {
          total += s.parallel_reduce(
              0, 100, std::uint64_t{0},
              [](std::size_t b, std::size_t e, std::uint64_t a) { return a + (e - b); },
              std::plus<>{}, {.grain = 10});
        }, {.chunk = 1});
      });
    });
    ASSERT_EQ(total.load(), 16u * 8u * 100u);

    // A loop inside a task.
    Hits task_hits(5000);
    auto f = s.submit([&] { s.parallel_for(0, 5000, [&](std::size_t i) { task_hits.hit(i); }); });
    watch.wait("a task running a loop", [&] { f.get(); });
    ASSERT_EQ(task_hits.check(), "");
  }
}

TEST(ParallelExceptions, FirstExceptionRethrownAndNothingRunsAfterReturn) {
  for (unsigned threads : thread_counts) {
    for (std::size_t grain : {0, 1, 100}) {
      for (int r = 0; r < repeats; ++r) {
        std::atomic<bool> returned{false};
        std::atomic<int> after_return{0};
        std::atomic<int> ran{0};
        constexpr std::size_t n = 200'000;
        try {
          sched(threads).parallel_for(
              0, n,
              [&](std::size_t i) {
                if (returned.load()) after_return.fetch_add(1);
                ran.fetch_add(1, std::memory_order_relaxed);
                if (i == 1234) throw std::runtime_error("item 1234");
              },
              {.grain = grain});
          FAIL() << "no exception";
        } catch (const std::runtime_error& e) {
          returned.store(true);
          EXPECT_EQ(std::string(e.what()), "item 1234");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        EXPECT_EQ(after_return.load(), 0);
        EXPECT_LE(ran.load(), static_cast<int>(n));
      }
    }
  }
}

TEST(ParallelExceptions, FromEveryVariant) {
  weft::Scheduler& s = sched(4);
  EXPECT_THROW(s.parallel_for_2d(64, 64, 4, 4,
                                 [](std::size_t r0, std::size_t, std::size_t c0, std::size_t) {
                                   if (r0 == 32 && c0 == 8) throw std::logic_error("tile");
                                 }),
               std::logic_error);
  EXPECT_THROW(s.parallel_for_3d(8, 8, 8, 2, 2, 2,
                                 [](std::size_t i0, auto...) {
                                   if (i0 == 6) throw std::logic_error("tile");
                                 }),
               std::logic_error);
  for (bool deterministic : {false, true}) {
    EXPECT_THROW(s.parallel_reduce(
                     0, 100000, 0,
                     [](std::size_t b, std::size_t e, int acc) {
                       if (b <= 77777 && 77777 < e) throw std::out_of_range("reduce");
                       return acc + 1;
                     },
                     std::plus<>{}, {.deterministic = deterministic}),
                 std::out_of_range);
  }
  // The scheduler is still usable afterwards.
  Hits hits(1000);
  s.parallel_for(0, 1000, [&](std::size_t i) { hits.hit(i); });
  EXPECT_EQ(hits.check(), "");
}

TEST(ParallelThreads, MaxThreadsIsRespected) {
  weft::Scheduler& s = sched(4);
  for (unsigned max_threads : {1u, 2u, 3u}) {
    for (int r = 0; r < repeats; ++r) {
      std::mutex mutex;
      std::set<std::thread::id> ids;
      s.parallel_for(
          0, 64,
          [&](std::size_t) {
            spin_for(std::chrono::microseconds(20));
            std::lock_guard<std::mutex> lock(mutex);
            ids.insert(std::this_thread::get_id());
          },
          {.max_threads = max_threads, .chunk = 1});
      ASSERT_LE(ids.size(), max_threads);
      if (max_threads == 1) {
        ASSERT_EQ(ids.size(), 1u);
        ASSERT_EQ(*ids.begin(), std::this_thread::get_id());
      }
    }
  }
  // Never more threads than the scheduler has.
  std::mutex mutex;
  std::set<std::thread::id> ids;
  s.parallel_for(0, 256, [&](std::size_t) {
    spin_for(std::chrono::microseconds(5));
    std::lock_guard<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
  }, {.chunk = 1});
  EXPECT_LE(ids.size(), s.num_threads());
}

TEST(ParallelThreads, OneRequestedThreadRunsLoopsOnTheCallerOnly) {
  weft::Config config;
  config.num_threads = 1;  // as OMP_NUM_THREADS=1 or torch.set_num_threads(1)
  config.pinning = weft::Pinning::none;
  weft::Scheduler s(config);
  EXPECT_EQ(s.num_threads(), 1u);
  std::set<std::thread::id> ids;  // only the caller touches it
  s.parallel_for(0, 64, [&](std::size_t) {
    spin_for(std::chrono::microseconds(20));
    ids.insert(std::this_thread::get_id());
  }, {.chunk = 1});
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(s.submit([] { return 7; }).get(), 7);  // tasks still run
}

TEST(ParallelThreads, LoopsFromSeveralExternalThreadsAtOnce) {
  weft::Scheduler& s = sched(4);
  constexpr int callers = 4;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < repeats * 3; ++r) {
        std::size_t n = 1000 + static_cast<std::size_t>(t) * 37 + static_cast<std::size_t>(r);
        Hits hits(n);
        s.parallel_for(0, n, [&](std::size_t i) { hits.hit(i); }, {.grain = static_cast<std::size_t>(r % 2) * 8});
        if (!hits.check().empty()) failures.fetch_add(1);
        auto sum = s.parallel_reduce(
            0, n, std::size_t{0},
            [](std::size_t b, std::size_t e, std::size_t a) { return a + (e - b); },
            std::plus<>{});
        if (sum != n) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ParallelFreeFunctions, RunOnTheDefaultScheduler) {
  Hits hits(3001);
  weft::parallel_for(0, 3001, [&](std::size_t i) { hits.hit(i); });
  EXPECT_EQ(hits.check(), "");
  Hits cells(30 * 40);
  weft::parallel_for_2d(30, 40, 7, 9, [&](std::size_t r0, std::size_t r1, std::size_t c0,
                                          std::size_t c1) {
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t c = c0; c < c1; ++c) cells.hit(r * 40 + c);
  });
  EXPECT_EQ(cells.check(), "");
  std::atomic<int> count{0};
  weft::parallel_for_3d(3, 4, 5, 2, 2, 2, [&](std::size_t i0, std::size_t i1, std::size_t j0,
                                              std::size_t j1, std::size_t k0, std::size_t k1) {
    count += static_cast<int>((i1 - i0) * (j1 - j0) * (k1 - k0));
  });
  EXPECT_EQ(count.load(), 60);
  EXPECT_EQ(weft::parallel_reduce(
                0, 100, 0, [](std::size_t b, std::size_t e, int a) { return a + int(e - b); },
                std::plus<>{}),
            100);
}

}  // namespace
