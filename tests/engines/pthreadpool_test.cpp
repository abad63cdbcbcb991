// The pthreadpool C API on weft: a behaviour matrix in the spirit of pthreadpool's own
// tests. Every parallelize/compute variant runs on a NULL pool and on pools of 1, 2 and
// 3 threads, with prime extents and tiles that do not divide them, and must call its
// task exactly once per item with correct tile starts and sizes; the thread-index
// variants must pass indices in range and unique among concurrently running threads.
#include <gtest/gtest.h>

// Both headers in one C++ translation unit: the compiler rejects any drift between our
// declarations and the upstream ones (the C side is checked in pthreadpool_header_check.c).
#include <pthreadpool.h>
#include <weft/pthreadpool.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "worker_gate.hpp"

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#define WEFT_TEST_HAS_MXCSR 1
#endif

extern "C" size_t weft_test_c_api_sum(size_t n);

// The function types agree with the upstream ones (the redeclarations above would
// already fail to compile otherwise; this states it). A cast, because upstream's C++
// section adds functor overloads of the same names.
[[maybe_unused]] constexpr auto kCheck2dTile2d =
    static_cast<void (*)(pthreadpool_t, pthreadpool_task_2d_tile_2d_t, void*, size_t, size_t,
                         size_t, size_t, uint32_t)>(&pthreadpool_parallelize_2d_tile_2d);
static_assert(std::is_same_v<pthreadpool_task_6d_tile_2d_t,
                             void (*)(void*, size_t, size_t, size_t, size_t, size_t, size_t,
                                      size_t, size_t)>);

namespace {

constexpr unsigned kMaxDims = 6;
constexpr unsigned kMaxThreads = 64;

struct Pool {
  explicit Pool(size_t threads) : pool(threads == 0 ? nullptr : pthreadpool_create(threads)) {}
  ~Pool() { pthreadpool_destroy(pool); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  pthreadpool_t pool;
};

// Records every task call of one loop: per item a visit count, plus every error seen.
struct Recorder {
  unsigned dims = 0;
  std::array<size_t, kMaxDims> range{};
  std::array<size_t, kMaxDims> tile{};  // 1 for untiled dimensions
  size_t threads = 1;
  uint32_t expected_uarch = 0;
  std::vector<std::atomic<int>> visits;
  std::array<std::atomic<int>, kMaxThreads> busy{};  // per thread index: running a task
  std::atomic<int> errors{0};
  std::atomic<int> calls{0};
  std::atomic<size_t> last_linear{0};
  std::atomic<bool> in_order{true};
  std::string first_error;
  std::atomic<bool> error_taken{false};

  Recorder(std::vector<size_t> ranges, std::vector<size_t> tiles, size_t thread_count)
      : dims(static_cast<unsigned>(ranges.size())), threads(thread_count) {
    size_t total = 1;
    for (unsigned d = 0; d < dims; ++d) {
      range[d] = ranges[d];
      tile[d] = tiles[d];
      total *= ranges[d];
    }
    visits = std::vector<std::atomic<int>>(total);
  }

  void fail(const std::string& what) {
    errors.fetch_add(1);
    if (!error_taken.exchange(true)) first_error = what;
  }

  size_t total() const { return visits.size(); }

  // One task call covering [start[d], start[d] + size[d]) in every dimension.
  void visit(const size_t* start, const size_t* size) {
    calls.fetch_add(1, std::memory_order_relaxed);
    for (unsigned d = 0; d < dims; ++d) {
      if (start[d] >= range[d] || start[d] % tile[d] != 0 ||
          size[d] != std::min(tile[d], range[d] - start[d])) {
        fail("bad tile in dim " + std::to_string(d) + ": start " + std::to_string(start[d]) +
             " size " + std::to_string(size[d]));
        return;
      }
    }
    // Tiles in row-major order have increasing start items (checked for one-thread runs).
    size_t start_linear = 0;
    for (unsigned d = 0; d < dims; ++d) start_linear = start_linear * range[d] + start[d];
    if (last_linear.exchange(start_linear + 1, std::memory_order_relaxed) > start_linear)
      in_order.store(false, std::memory_order_relaxed);
    // Mark each item of the tile (odometer over the tile).
    std::array<size_t, kMaxDims> idx{};
    for (unsigned d = 0; d < dims; ++d) idx[d] = start[d];
    for (;;) {
      size_t linear = 0;
      for (unsigned d = 0; d < dims; ++d) linear = linear * range[d] + idx[d];
      visits[linear].fetch_add(1, std::memory_order_relaxed);
      unsigned d = dims;
      while (d > 0) {
        --d;
        if (++idx[d] < start[d] + size[d]) break;
        idx[d] = start[d];
        if (d == 0) return;
      }
      if (dims == 0) return;
    }
  }

  void enter(size_t thread) {
    if (thread >= threads || thread >= kMaxThreads) {
      fail("thread index " + std::to_string(thread) + " out of [0, " + std::to_string(threads) + ")");
      return;
    }
    if (busy[thread].exchange(1) != 0) fail("thread index " + std::to_string(thread) + " used twice at once");
  }
  void leave(size_t thread) {
    if (thread < threads && thread < kMaxThreads) busy[thread].store(0);
  }
  void check_uarch(uint32_t uarch) {
    if (uarch != expected_uarch) fail("uarch index " + std::to_string(uarch));
  }

  int items_not_once() const {
    int bad = 0;
    for (const auto& v : visits) bad += v.load() != 1;
    return bad;
  }
};

Recorder& rec(void* context) { return *static_cast<Recorder*>(context); }

// Each task function rebuilds (start, size) per dimension and hands them to the Recorder.
void t1d(void* c, size_t i) {
  size_t s[] = {i}, z[] = {1};
  rec(c).visit(s, z);
}
void t1d_thread(void* c, size_t thread, size_t i) {
  rec(c).enter(thread);
  size_t s[] = {i}, z[] = {1};
  rec(c).visit(s, z);
  rec(c).leave(thread);
}
void t1d_uarch(void* c, uint32_t uarch, size_t i) {
  rec(c).check_uarch(uarch);
  t1d(c, i);
}
void t1d_tile(void* c, size_t i, size_t ti) {
  size_t s[] = {i}, z[] = {ti};
  rec(c).visit(s, z);
}
void t2d(void* c, size_t i, size_t j) {
  size_t s[] = {i, j}, z[] = {1, 1};
  rec(c).visit(s, z);
}
void t2d_thread(void* c, size_t thread, size_t i, size_t j) {
  rec(c).enter(thread);
  t2d(c, i, j);
  rec(c).leave(thread);
}
void t2d_tile1(void* c, size_t i, size_t j, size_t tj) {
  size_t s[] = {i, j}, z[] = {1, tj};
  rec(c).visit(s, z);
}
void t2d_tile2(void* c, size_t i, size_t j, size_t ti, size_t tj) {
  size_t s[] = {i, j}, z[] = {ti, tj};
  rec(c).visit(s, z);
}
void t2d_tile2_uarch(void* c, uint32_t uarch, size_t i, size_t j, size_t ti, size_t tj) {
  rec(c).check_uarch(uarch);
  t2d_tile2(c, i, j, ti, tj);
}
void t3d(void* c, size_t i, size_t j, size_t k) {
  size_t s[] = {i, j, k}, z[] = {1, 1, 1};
  rec(c).visit(s, z);
}
void t3d_tile1(void* c, size_t i, size_t j, size_t k, size_t tk) {
  size_t s[] = {i, j, k}, z[] = {1, 1, tk};
  rec(c).visit(s, z);
}
void t3d_tile2(void* c, size_t i, size_t j, size_t k, size_t tj, size_t tk) {
  size_t s[] = {i, j, k}, z[] = {1, tj, tk};
  rec(c).visit(s, z);
}
void t3d_tile2_uarch(void* c, uint32_t uarch, size_t i, size_t j, size_t k, size_t tj, size_t tk) {
  rec(c).check_uarch(uarch);
  t3d_tile2(c, i, j, k, tj, tk);
}
void t3d_tile3(void* c, size_t i, size_t j, size_t k, size_t ti, size_t tj, size_t tk) {
  size_t s[] = {i, j, k}, z[] = {ti, tj, tk};
  rec(c).visit(s, z);
}
void t4d(void* c, size_t i, size_t j, size_t k, size_t l) {
  size_t s[] = {i, j, k, l}, z[] = {1, 1, 1, 1};
  rec(c).visit(s, z);
}
void t4d_tile1(void* c, size_t i, size_t j, size_t k, size_t l, size_t tl) {
  size_t s[] = {i, j, k, l}, z[] = {1, 1, 1, tl};
  rec(c).visit(s, z);
}
void t4d_tile2(void* c, size_t i, size_t j, size_t k, size_t l, size_t tk, size_t tl) {
  size_t s[] = {i, j, k, l}, z[] = {1, 1, tk, tl};
  rec(c).visit(s, z);
}
void t4d_tile2_uarch(void* c, uint32_t uarch, size_t i, size_t j, size_t k, size_t l, size_t tk,
                     size_t tl) {
  rec(c).check_uarch(uarch);
  t4d_tile2(c, i, j, k, l, tk, tl);
}
void t4d_tile4(void* c, size_t i, size_t j, size_t k, size_t l, size_t ti, size_t tj, size_t tk,
               size_t tl) {
  size_t s[] = {i, j, k, l}, z[] = {ti, tj, tk, tl};
  rec(c).visit(s, z);
}
void t5d(void* c, size_t i, size_t j, size_t k, size_t l, size_t m) {
  size_t s[] = {i, j, k, l, m}, z[] = {1, 1, 1, 1, 1};
  rec(c).visit(s, z);
}
void t5d_tile1(void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t tm) {
  size_t s[] = {i, j, k, l, m}, z[] = {1, 1, 1, 1, tm};
  rec(c).visit(s, z);
}
void t5d_tile2(void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t tl, size_t tm) {
  size_t s[] = {i, j, k, l, m}, z[] = {1, 1, 1, tl, tm};
  rec(c).visit(s, z);
}
void t6d(void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t n) {
  size_t s[] = {i, j, k, l, m, n}, z[] = {1, 1, 1, 1, 1, 1};
  rec(c).visit(s, z);
}
void t6d_tile1(void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t n, size_t tn) {
  size_t s[] = {i, j, k, l, m, n}, z[] = {1, 1, 1, 1, 1, tn};
  rec(c).visit(s, z);
}
void t6d_tile2(void* c, size_t i, size_t j, size_t k, size_t l, size_t m, size_t n, size_t tm,
               size_t tn) {
  size_t s[] = {i, j, k, l, m, n}, z[] = {1, 1, 1, 1, tm, tn};
  rec(c).visit(s, z);
}

constexpr uint32_t kUarch = 3;

// One row of the matrix: the variant's name, which dimensions it tiles, and how to call it.
struct Variant {
  const char* name;
  unsigned dims;
  unsigned tiled;  // bit d: dimension d is tiled
  bool with_thread;
  void (*call)(pthreadpool_t, Recorder&, uint32_t flags);
};

#define R(d) r.range[d]
#define T(d) r.tile[d]

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
const Variant kVariants[] = {
    {"1d", 1, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) { pthreadpool_parallelize_1d(p, t1d, &r, R(0), f); }},
    {"1d_with_thread", 1, 0, true,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_1d_with_thread(p, t1d_thread, &r, R(0), f);
     }},
    {"1d_with_uarch", 1, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_1d_with_uarch(p, t1d_uarch, &r, kUarch, 1, R(0), f);
     }},
    {"1d_tile_1d", 1, 1, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_1d_tile_1d(p, t1d_tile, &r, R(0), T(0), f);
     }},
    {"2d", 2, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) { pthreadpool_parallelize_2d(p, t2d, &r, R(0), R(1), f); }},
    {"2d_with_thread", 2, 0, true,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_2d_with_thread(p, t2d_thread, &r, R(0), R(1), f);
     }},
    {"2d_tile_1d", 2, 2, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_2d_tile_1d(p, t2d_tile1, &r, R(0), R(1), T(1), f);
     }},
    {"2d_tile_2d", 2, 3, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_2d_tile_2d(p, t2d_tile2, &r, R(0), R(1), T(0), T(1), f);
     }},
    {"2d_tile_2d_with_uarch", 2, 3, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_2d_tile_2d_with_uarch(p, t2d_tile2_uarch, &r, kUarch, 1, R(0), R(1),
                                                     T(0), T(1), f);
     }},
    {"3d", 3, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_3d(p, t3d, &r, R(0), R(1), R(2), f);
     }},
    {"3d_tile_1d", 3, 4, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_3d_tile_1d(p, t3d_tile1, &r, R(0), R(1), R(2), T(2), f);
     }},
    {"3d_tile_2d", 3, 6, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_3d_tile_2d(p, t3d_tile2, &r, R(0), R(1), R(2), T(1), T(2), f);
     }},
    {"3d_tile_2d_with_uarch", 3, 6, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_3d_tile_2d_with_uarch(p, t3d_tile2_uarch, &r, kUarch, 1, R(0), R(1),
                                                     R(2), T(1), T(2), f);
     }},
    {"4d", 4, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_4d(p, t4d, &r, R(0), R(1), R(2), R(3), f);
     }},
    {"4d_tile_1d", 4, 8, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_4d_tile_1d(p, t4d_tile1, &r, R(0), R(1), R(2), R(3), T(3), f);
     }},
    {"4d_tile_2d", 4, 12, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_4d_tile_2d(p, t4d_tile2, &r, R(0), R(1), R(2), R(3), T(2), T(3), f);
     }},
    {"4d_tile_2d_with_uarch", 4, 12, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_4d_tile_2d_with_uarch(p, t4d_tile2_uarch, &r, kUarch, 1, R(0), R(1),
                                                     R(2), R(3), T(2), T(3), f);
     }},
    {"5d", 5, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_5d(p, t5d, &r, R(0), R(1), R(2), R(3), R(4), f);
     }},
    {"5d_tile_1d", 5, 16, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_5d_tile_1d(p, t5d_tile1, &r, R(0), R(1), R(2), R(3), R(4), T(4), f);
     }},
    {"5d_tile_2d", 5, 24, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_5d_tile_2d(p, t5d_tile2, &r, R(0), R(1), R(2), R(3), R(4), T(3),
                                          T(4), f);
     }},
    {"6d", 6, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_6d(p, t6d, &r, R(0), R(1), R(2), R(3), R(4), R(5), f);
     }},
    {"6d_tile_1d", 6, 32, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_6d_tile_1d(p, t6d_tile1, &r, R(0), R(1), R(2), R(3), R(4), R(5),
                                          T(5), f);
     }},
    {"6d_tile_2d", 6, 48, false,
     [](pthreadpool_t p, Recorder& r, uint32_t f) {
       pthreadpool_parallelize_6d_tile_2d(p, t6d_tile2, &r, R(0), R(1), R(2), R(3), R(4), R(5),
                                          T(4), T(5), f);
     }},
    // Legacy API (flags are ignored: it has none).
    {"compute_1d", 1, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) { pthreadpool_compute_1d(p, t1d, &r, R(0)); }},
    {"compute_1d_tiled", 1, 1, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) {
       pthreadpool_compute_1d_tiled(p, t1d_tile, &r, R(0), T(0));
     }},
    {"compute_2d", 2, 0, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) { pthreadpool_compute_2d(p, t2d, &r, R(0), R(1)); }},
    {"compute_2d_tiled", 2, 3, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) {
       pthreadpool_compute_2d_tiled(p, t2d_tile2, &r, R(0), R(1), T(0), T(1));
     }},
    {"compute_3d_tiled", 3, 7, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) {
       pthreadpool_compute_3d_tiled(p, t3d_tile3, &r, R(0), R(1), R(2), T(0), T(1), T(2));
     }},
    {"compute_4d_tiled", 4, 15, false,
     [](pthreadpool_t p, Recorder& r, uint32_t) {
       pthreadpool_compute_4d_tiled(p, t4d_tile4, &r, R(0), R(1), R(2), R(3), T(0), T(1), T(2),
                                    T(3));
     }},
};
#pragma GCC diagnostic pop
#undef R
#undef T

// Prime extents; a tiled dimension gets a tile that does not divide its extent.
std::vector<size_t> ranges_for(unsigned dims) {
  switch (dims) {
    case 1: return {1009};
    case 2: return {37, 29};
    case 3: return {13, 11, 17};
    case 4: return {5, 7, 11, 13};
    case 5: return {3, 5, 7, 11, 13};
    default: return {2, 3, 5, 7, 11, 13};
  }
}
std::vector<size_t> tiles_for(const Variant& v, const std::vector<size_t>& ranges) {
  std::vector<size_t> tiles(ranges.size(), 1);
  const size_t choices[] = {2, 3, 4, 3, 4, 5};
  for (unsigned d = 0; d < ranges.size(); ++d)
    if (v.tiled & (1u << d)) tiles[d] = ranges.size() == 1 ? 17 : choices[d];
  return tiles;
}

std::string describe(const Recorder& r) {
  std::string s = "errors " + std::to_string(r.errors.load()) + " (" + r.first_error + ")";
  return s;
}

// Runs `v` on a pool of `threads` (0: NULL pool) over `ranges`/`tiles`; checks the loop.
void check_variant(const Variant& v, pthreadpool_t pool, std::vector<size_t> ranges,
                   std::vector<size_t> tiles, uint32_t flags = 0) {
  SCOPED_TRACE(std::string("variant ") + v.name);
  Recorder r(ranges, tiles, pthreadpool_get_threads_count(pool));
  r.expected_uarch = kUarch;
  v.call(pool, r, flags);
  EXPECT_EQ(r.errors.load(), 0) << describe(r);
  EXPECT_EQ(r.items_not_once(), 0) << "items not visited exactly once";
  size_t expected_calls = 1;
  for (unsigned d = 0; d < ranges.size(); ++d) expected_calls *= (ranges[d] + tiles[d] - 1) / tiles[d];
  if (r.total() == 0) expected_calls = 0;
  EXPECT_EQ(static_cast<size_t>(r.calls.load()), expected_calls);
  if (pool == nullptr || pthreadpool_get_threads_count(pool) == 1) {
    EXPECT_TRUE(r.in_order.load()) << "a one-thread run must go in row-major order";
  }
}

class PthreadpoolMatrix : public ::testing::TestWithParam<size_t> {};

TEST_P(PthreadpoolMatrix, EveryVariantVisitsEachItemOnceWithCorrectTiles) {
  Pool p(GetParam());
  if (GetParam() != 0) {
    ASSERT_NE(p.pool, nullptr);
    EXPECT_EQ(pthreadpool_get_threads_count(p.pool), GetParam());
  }
  for (const Variant& v : kVariants) {
    const auto ranges = ranges_for(v.dims);
    check_variant(v, p.pool, ranges, tiles_for(v, ranges));
  }
}

TEST_P(PthreadpoolMatrix, EdgeExtents) {
  Pool p(GetParam());
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    // An empty dimension: no call at all. All ones: exactly one call.
    for (unsigned zero = 0; zero < v.dims; ++zero) {
      std::vector<size_t> ranges(v.dims, 3), tiles(v.dims, 1);
      ranges[zero] = 0;
      for (unsigned d = 0; d < v.dims; ++d)
        if (v.tiled & (1u << d)) tiles[d] = 2;
      check_variant(v, p.pool, ranges, tiles);
    }
    check_variant(v, p.pool, std::vector<size_t>(v.dims, 1), std::vector<size_t>(v.dims, 1));
    // Tiles larger than the extent, and equal to it: one tile per dimension.
    std::vector<size_t> ranges(v.dims, 5), big(v.dims, 1), equal(v.dims, 1);
    for (unsigned d = 0; d < v.dims; ++d) {
      if (v.tiled & (1u << d)) {
        big[d] = 9;
        equal[d] = 5;
      }
    }
    check_variant(v, p.pool, ranges, big);
    check_variant(v, p.pool, ranges, equal);
  }
}

TEST_P(PthreadpoolMatrix, DisableDenormalsFlagHoldsDuringTheCallOnly) {
#if defined(WEFT_TEST_HAS_MXCSR)
  Pool p(GetParam());
  struct Ctx {
    std::atomic<int> without_ftz{0}, with_ftz{0};
  } ctx;
  auto task = [](void* c, size_t) {
    auto& x = *static_cast<Ctx*>(c);
    if ((_mm_getcsr() & 0x8040u) == 0x8040u) {
      x.with_ftz.fetch_add(1);
    } else {
      x.without_ftz.fetch_add(1);
    }
    // Enough work per item that a multi-thread pool spreads the loop.
    volatile double sink = 0;
    for (int i = 0; i < 2000; ++i) sink = sink + i * 0.5;
  };
  const unsigned before = _mm_getcsr();
  pthreadpool_parallelize_1d(p.pool, task, &ctx, 2000, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  EXPECT_EQ(ctx.with_ftz.load(), 2000);
  EXPECT_EQ(ctx.without_ftz.load(), 0);
  EXPECT_EQ(_mm_getcsr(), before) << "the caller's MXCSR must be restored";
  // Without the flag no thread (caller or worker) may still have FTZ/DAZ set.
  ctx.with_ftz = 0;
  ctx.without_ftz = 0;
  pthreadpool_parallelize_1d(p.pool, task, &ctx, 2000, PTHREADPOOL_FLAG_YIELD_WORKERS);
  EXPECT_EQ(ctx.without_ftz.load(), 2000);
  EXPECT_EQ(ctx.with_ftz.load(), 0);
#else
  GTEST_SKIP() << "no MXCSR on this architecture";
#endif
}

INSTANTIATE_TEST_SUITE_P(Pthreadpool, PthreadpoolMatrix, ::testing::Values(0, 1, 2, 3),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           return param_info.param == 0
                                      ? std::string("null_pool")
                                      : std::to_string(param_info.param) + "_threads";
                         });

// Items that take a while (about 20 us each), so that weft's right-sized teams invite
// the workers: the stats must then show items run on workers.
void slow_item(void* context, size_t) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < until) {
  }
  static_cast<std::atomic<size_t>*>(context)->fetch_add(1, std::memory_order_relaxed);
}

// slow_item's work behind a WorkerGate: a worker is certain to run some of the items.
struct GatedItems {
  std::thread::id caller = std::this_thread::get_id();
  weft::test::WorkerGate gate;
  std::atomic<size_t> done{0};
};

void gated_item(void* context, size_t i) {
  auto& items = *static_cast<GatedItems*>(context);
  slow_item(&items.done, i);
  items.gate.arrive(std::this_thread::get_id() != items.caller, "the pool's items");
}

TEST(Pthreadpool, StatsCountItemsOnWorkersAndCaller) {
  Pool p(2);
  ASSERT_NE(p.pool, nullptr);
  weft_pthreadpool_stats stats{};
  weft_pthreadpool_get_stats(p.pool, &stats);
  EXPECT_EQ(stats.calls, 0u);
  GatedItems items;
  pthreadpool_parallelize_1d(p.pool, gated_item, &items, 400, 0);
  EXPECT_TRUE(items.gate.opened());
  weft_pthreadpool_get_stats(p.pool, &stats);
  EXPECT_EQ(stats.calls, 1u);
  EXPECT_GT(stats.items_on_workers, 0u);
  EXPECT_EQ(stats.items_on_caller + stats.items_on_workers, items.done.load());
  EXPECT_EQ(stats.items_on_caller + stats.items_on_workers, 400u);
  EXPECT_EQ(stats.inline_calls, 0u);
  // One item: run inline on the caller.
  pthreadpool_parallelize_1d(p.pool, slow_item, &items.done, 1, 0);
  weft_pthreadpool_stats after{};
  weft_pthreadpool_get_stats(p.pool, &after);
  EXPECT_EQ(after.calls, stats.calls + 1);
  EXPECT_EQ(after.inline_calls, 1u);
  EXPECT_EQ(after.items_on_caller, stats.items_on_caller + 1);
  weft_pthreadpool_reset_stats(p.pool);
  weft_pthreadpool_get_stats(p.pool, &after);
  EXPECT_EQ(after.calls + after.inline_calls + after.items_on_caller + after.items_on_workers, 0u);
  // A NULL pool counts nothing and reports one thread.
  weft_pthreadpool_get_stats(nullptr, &after);
  EXPECT_EQ(after.calls, 0u);
  EXPECT_EQ(pthreadpool_get_threads_count(nullptr), 1u);
}

TEST(Pthreadpool, EveryPriorityRunsAndInvalidOnesAreRejected) {
  Pool p(2);
  ASSERT_NE(p.pool, nullptr);
  EXPECT_EQ(weft_pthreadpool_get_priority(p.pool), WEFT_PTHREADPOOL_PRIORITY_NORMAL);
  for (int prio : {WEFT_PTHREADPOOL_PRIORITY_LOW, WEFT_PTHREADPOOL_PRIORITY_NORMAL,
                   WEFT_PTHREADPOOL_PRIORITY_HIGH, WEFT_PTHREADPOOL_PRIORITY_CRITICAL}) {
    ASSERT_EQ(weft_pthreadpool_set_priority(p.pool, prio), 0);
    EXPECT_EQ(weft_pthreadpool_get_priority(p.pool), prio);
    std::atomic<size_t> done{0};
    pthreadpool_parallelize_1d(p.pool, slow_item, &done, 100, 0);
    EXPECT_EQ(done.load(), 100u);
  }
  EXPECT_EQ(weft_pthreadpool_set_priority(p.pool, 4), -1);
  EXPECT_EQ(weft_pthreadpool_set_priority(p.pool, -1), -1);
  EXPECT_EQ(weft_pthreadpool_set_priority(nullptr, 1), -1);
  EXPECT_EQ(weft_pthreadpool_get_priority(p.pool), WEFT_PTHREADPOOL_PRIORITY_CRITICAL);
}

TEST(Pthreadpool, WithThreadIndicesStayInRangeUnderContention) {
  Pool p(3);
  ASSERT_NE(p.pool, nullptr);
  // Slow items keep every thread busy at once, so a duplicate index would be caught; the
  // gate makes sure a worker ran some, so that more than one thread was checked.
  struct Context {
    Recorder recorder;
    GatedItems items;
  } ctx{Recorder({300}, {1}, pthreadpool_get_threads_count(p.pool)), {}};
  pthreadpool_parallelize_1d_with_thread(
      p.pool,
      [](void* c, size_t thread, size_t i) {
        auto& context = *static_cast<Context*>(c);
        context.recorder.enter(thread);
        gated_item(&context.items, i);
        size_t s[] = {i}, z[] = {1};
        context.recorder.visit(s, z);
        context.recorder.leave(thread);
      },
      &ctx, 300, 0);
  EXPECT_EQ(ctx.recorder.errors.load(), 0) << describe(ctx.recorder);
  EXPECT_EQ(ctx.recorder.items_not_once(), 0);
  EXPECT_TRUE(ctx.items.gate.opened());
  weft_pthreadpool_stats stats{};
  weft_pthreadpool_get_stats(p.pool, &stats);
  EXPECT_GT(stats.items_on_workers, 0u);
}

TEST(Pthreadpool, ConcurrentCallersOnOnePoolEachComplete) {
  Pool p(2);
  ASSERT_NE(p.pool, nullptr);
  std::atomic<size_t> a{0}, b{0};
  std::thread other([&] {
    for (int k = 0; k < 20; ++k) pthreadpool_parallelize_1d(p.pool, slow_item, &a, 50, 0);
  });
  for (int k = 0; k < 20; ++k) pthreadpool_parallelize_1d(p.pool, slow_item, &b, 50, 0);
  other.join();
  EXPECT_EQ(a.load(), 1000u);
  EXPECT_EQ(b.load(), 1000u);
}

TEST(Pthreadpool, NestedCallOnTheSamePoolCompletes) {
  // pthreadpool would deadlock here; weft's loops nest.
  Pool p(2);
  ASSERT_NE(p.pool, nullptr);
  struct Ctx {
    pthreadpool_t pool;
    std::atomic<size_t> inner{0};
  } ctx{p.pool};
  pthreadpool_parallelize_1d(
      p.pool,
      [](void* c, size_t) {
        auto& x = *static_cast<Ctx*>(c);
        pthreadpool_parallelize_1d(x.pool, slow_item, &x.inner, 10, 0);
      },
      &ctx, 8, 0);
  EXPECT_EQ(ctx.inner.load(), 80u);
}

TEST(Pthreadpool, ZeroThreadsMeansOnePerCoreAndCApiWorks) {
  pthreadpool_t pool = pthreadpool_create(0);
  ASSERT_NE(pool, nullptr);
  EXPECT_GE(pthreadpool_get_threads_count(pool), 1u);
  EXPECT_LE(pthreadpool_get_threads_count(pool), std::thread::hardware_concurrency() + 1);
  pthreadpool_destroy(pool);
  pthreadpool_destroy(nullptr);  // ignored, like pthreadpool
  EXPECT_EQ(weft_test_c_api_sum(100), 2u * 4950u);
  EXPECT_EQ(weft_pthreadpool_is_weft(), 1);
}

// ---- extremes: ranges near SIZE_MAX and tile counts that overflow size_t ----------------
// The C ABI has no error to return, so every such call must run correctly: tile counts
// are computed with checked arithmetic, and a grid whose tiles size_t cannot number
// walks its leading dimensions in order. Calls that would run for years stop by
// throwing from the task (which propagates out of the parallelize call, see the header).

constexpr size_t kSizeMax = std::numeric_limits<size_t>::max();
struct StopPool {};

// A NULL pool and pools of 1, 2 and 3 threads.
std::vector<std::unique_ptr<Pool>> extreme_pools() {
  std::vector<std::unique_ptr<Pool>> pools;
  for (size_t threads : {0, 1, 2, 3}) pools.push_back(std::make_unique<Pool>(threads));
  return pools;
}

TEST(PthreadpoolExtremes, FullRange1dTilesCoverEveryTileOnce) {
  for (size_t tile : {size_t{1} << 44, (size_t{1} << 63) + 1, kSizeMax, kSizeMax - 1}) {
    const size_t n = kSizeMax / tile + (kSizeMax % tile != 0);
    for (auto& p : extreme_pools()) {
      struct Ctx {
        size_t tile, n;
        std::vector<std::atomic<uint8_t>> hits;
        std::atomic<int> wrong{0};
      } ctx{tile, n, std::vector<std::atomic<uint8_t>>(n)};
      pthreadpool_parallelize_1d_tile_1d(
          p->pool,
          [](void* c, size_t start, size_t size) {
            auto& x = *static_cast<Ctx*>(c);
            const size_t k = start / x.tile;
            const size_t want = k + 1 == x.n ? kSizeMax - start : x.tile;
            if (start % x.tile != 0 || k >= x.n || size != want) {
              x.wrong.fetch_add(1);
              return;
            }
            x.hits[k].fetch_add(1, std::memory_order_relaxed);
          },
          &ctx, kSizeMax, tile, 0);
      EXPECT_EQ(ctx.wrong.load(), 0) << "tile " << tile;
      size_t bad = 0;
      for (auto& h : ctx.hits) bad += h.load() != 1;
      EXPECT_EQ(bad, 0u) << "tile " << tile;
    }
  }
}

TEST(PthreadpoolExtremes, FullRange1dRunsUntilTheTaskStops) {
  for (auto& p : extreme_pools()) {
    std::atomic<size_t> calls{0};
    EXPECT_THROW(pthreadpool_parallelize_1d(
                     p->pool,
                     [](void* c, size_t) {
                       if (static_cast<std::atomic<size_t>*>(c)->fetch_add(1) >= 20000)
                         throw StopPool{};
                     },
                     &calls, kSizeMax, 0),
                 StopPool);
    EXPECT_GT(calls.load(), 20000u);
  }
}

TEST(PthreadpoolExtremes, TilesNearSizeMaxCarryIntoTheNextRow) {
  // The second tile of a row starts at 2^63 + 1; the next start, (2^63 + 1) * 2, used to
  // wrap to 2, still "inside" the row, instead of carrying into the next row.
  const size_t big = (size_t{1} << 63) + 1;
  for (auto& p : extreme_pools()) {
    struct Ctx {
      std::mutex mutex;
      std::vector<std::array<size_t, 4>> seen;
    } ctx;
    pthreadpool_parallelize_2d_tile_2d(
        p->pool,
        [](void* c, size_t i, size_t j, size_t ti, size_t tj) {
          auto& x = *static_cast<Ctx*>(c);
          std::lock_guard<std::mutex> lock(x.mutex);
          x.seen.push_back({i, j, ti, tj});
        },
        &ctx, 2, kSizeMax, 1, big, 0);
    std::sort(ctx.seen.begin(), ctx.seen.end());
    const std::vector<std::array<size_t, 4>> want = {
        {0, 0, 1, big}, {0, big, 1, kSizeMax - big}, {1, 0, 1, big}, {1, big, 1, kSizeMax - big}};
    EXPECT_EQ(ctx.seen, want);
  }
}

// Records (i, j, k) calls of a 3-D loop; throws once `limit` calls were made.
struct GridCalls {
  size_t limit;
  std::mutex mutex;
  std::vector<std::array<size_t, 3>> seen;
  std::atomic<size_t> calls{0};
  explicit GridCalls(size_t l) : limit(l) {}
  void call(size_t i, size_t j, size_t k) {
    if (calls.fetch_add(1) >= limit) throw StopPool{};
    std::lock_guard<std::mutex> lock(mutex);
    seen.push_back({i, j, k});
  }
};

TEST(PthreadpoolExtremes, TileCountOverflowWalksTheLeadingDimensionsInOrder) {
  // 2^40 x 2^40 tiles: the count used to wrap to 0 and the call returned at once having
  // run nothing. Now row 0 runs (as a parallel loop over its 2^40 tiles) until stopped.
  for (auto& p : extreme_pools()) {
    GridCalls g(5000);
    EXPECT_THROW(pthreadpool_parallelize_2d_tile_2d(
                     p->pool,
                     [](void* c, size_t i, size_t j, size_t ti, size_t tj) {
                       static_cast<GridCalls*>(c)->call(i, j, ti + tj - 2);
                     },
                     &g, size_t{1} << 40, size_t{1} << 40, 1, 1, 0),
                 StopPool);
    ASSERT_EQ(g.seen.size(), 5000u);
    std::set<size_t> columns;
    for (auto [i, j, sizes] : g.seen) {
      EXPECT_EQ(i, 0u);
      EXPECT_EQ(sizes, 0u);  // both tiles of size 1
      EXPECT_TRUE(columns.insert(j).second) << "column " << j << " twice";
    }
  }
  // 2^62 x 2^62 x 4: dimensions 0 and 1 are walked in order, dimension 2 (4 tiles) runs
  // in parallel for each of their tiles; 22 calls finish (0, 0..4, *) and start (0, 5, *).
  for (auto& p : extreme_pools()) {
    GridCalls g(22);
    EXPECT_THROW(pthreadpool_parallelize_3d(
                     p->pool,
                     [](void* c, size_t i, size_t j, size_t k) {
                       static_cast<GridCalls*>(c)->call(i, j, k);
                     },
                     &g, size_t{1} << 62, size_t{1} << 62, 4, 0),
                 StopPool);
    std::sort(g.seen.begin(), g.seen.end());
    ASSERT_EQ(g.seen.size(), 22u);
    for (size_t n = 0; n < 20; ++n) {
      const std::array<size_t, 3> want = {0, n / 4, n % 4};
      EXPECT_EQ(g.seen[n], want);
    }
    EXPECT_EQ(g.seen[20][1], 5u);
    EXPECT_EQ(g.seen[21][1], 5u);
    EXPECT_NE(g.seen[20][2], g.seen[21][2]);
  }
  // The legacy 3-D tiled entry point takes the same path.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  for (auto& p : extreme_pools()) {
    GridCalls g(100);
    EXPECT_THROW(pthreadpool_compute_3d_tiled(
                     p->pool,
                     [](void* c, size_t i, size_t j, size_t k, size_t, size_t, size_t) {
                       static_cast<GridCalls*>(c)->call(i, j, k);
                     },
                     &g, 2, size_t{1} << 40, size_t{1} << 40, 1, 1, 1),
                 StopPool);
    for (auto [i, j, k] : g.seen) {
      EXPECT_EQ(i, 0u);
      EXPECT_EQ(j, 0u);
      EXPECT_LT(k, size_t{1} << 40);
    }
  }
#pragma GCC diagnostic pop
}

}  // namespace
