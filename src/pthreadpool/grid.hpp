// The pthreadpool ABI's internals (pthreadpool.cpp, pthreadpool_4d_6d.cpp): the pool
// object, and the N-d grid of tiles every parallelize/compute variant runs (see the head
// of pthreadpool.cpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <xmmintrin.h>

#include "weft/config.hpp"
#include "weft/detail/checked.hpp"
#include "weft/options.hpp"
#include "weft/pthreadpool.h"
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

#if defined(__SSE__) || defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define WEFT_PTHREADPOOL_HAS_MXCSR 1
#endif

namespace weft::pthreadpool_impl {

// Per thread index (0: threads that are not workers of the pool, k: worker k - 1), so
// that threads counting their items do not share a cache line.
struct alignas(64) ItemCounter {
  std::atomic<std::uint64_t> items{0};
};

}  // namespace weft::pthreadpool_impl

struct pthreadpool {
  // Null for a one-thread pool: everything runs on the caller, as in pthreadpool.
  std::unique_ptr<weft::Scheduler> scheduler;
  unsigned threads = 1;
  std::atomic<weft::Priority> priority{weft::Priority::normal};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> inline_calls{0};
  std::unique_ptr<weft::pthreadpool_impl::ItemCounter[]> items;  // `threads` entries
};

namespace weft::pthreadpool_impl {

// The thread's index for *_with_thread tasks and the counters: 0 for a thread that is
// not one of the pool's workers (the caller), worker w -> w + 1. Unique among the
// threads running one call: a call has at most one non-worker thread (its caller).
inline unsigned thread_index(const pthreadpool& pool) {
  if (!pool.scheduler) return 0;
  const int worker = pool.scheduler->current_worker();
  return worker < 0 ? 0u : static_cast<unsigned>(worker) + 1;
}

// Flush-to-zero and denormals-are-zero for the lifetime of the guard, on this thread.
class DenormalGuard {
 public:
  explicit DenormalGuard(bool enable) noexcept {
#if defined(WEFT_PTHREADPOOL_HAS_MXCSR)
    if (enable) {
      saved_ = _mm_getcsr();
      // 0x8000: FTZ (flush denormal results to zero); 0x0040: DAZ (read denormal
      // inputs as zero).
      _mm_setcsr(saved_ | 0x8040u);
      active_ = true;
    }
#else
    (void)enable;
#endif
  }
  ~DenormalGuard() {
#if defined(WEFT_PTHREADPOOL_HAS_MXCSR)
    if (active_) _mm_setcsr(saved_);
#endif
  }
  DenormalGuard(const DenormalGuard&) = delete;
  DenormalGuard& operator=(const DenormalGuard&) = delete;

 private:
  unsigned saved_ = 0;
  bool active_ = false;
};

constexpr unsigned max_dims = 6;

// The loop nest: dimension d has range[d] items in tiles of tile[d] (1: untiled).
struct Grid {
  unsigned dims = 0;
  std::size_t range[max_dims] = {};
  std::size_t tile[max_dims] = {};
  std::size_t tiles[max_dims] = {};

  Grid& dim(std::size_t r, std::size_t t = 1) {
    // pthreadpool divides by the tile size; a zero tile is treated as 1 instead.
    t = std::max<std::size_t>(t, 1);
    range[dims] = r;
    tile[dims] = t;
    tiles[dims] = weft::detail::ceil_div(r, t);
    ++dims;
    return *this;
  }
};

// How a grid runs: dimensions [0, outer) in order on the caller, and for each of their
// tiles one parallel_for over the `count` tiles of dimensions [outer, dims). outer is 0
// unless the product of all tile counts overflows size_t.
struct GridSplit {
  unsigned outer = 0;
  std::size_t count = 0;  // 0: an empty grid
};

inline GridSplit split_grid(const Grid& g) {
  for (unsigned d = 0; d < g.dims; ++d) {
    if (g.tiles[d] == 0) return {};
  }
  GridSplit split;
  split.count = 1;
  // The longest suffix of dimensions whose tiles size_t can count.
  for (unsigned d = g.dims; d-- > 0;) {
    if (!weft::detail::checked_mul(split.count, g.tiles[d], split.count)) {
      split.outer = d + 1;
      break;
    }
  }
  return split;
}

// Moves the tile at start[d] (extent size[d]) to the next tile of dimension d; false
// when it was the last one (start[d] is then back at 0). No start + tile: with a tile
// near SIZE_MAX that sum wraps below the range.
inline bool next_tile(const Grid& g, unsigned d, std::size_t* start, std::size_t* size) {
  if (g.tile[d] < g.range[d] - start[d]) {
    start[d] += g.tile[d];
    size[d] = std::min(g.tile[d], g.range[d] - start[d]);
    return true;
  }
  start[d] = 0;
  size[d] = std::min(g.tile[d], g.range[d]);
  return false;
}

// Calls call(thread, start, size) for tiles [b, e) (numbered row-major over dimensions
// [outer, dims)) in order, where start[d] is the first item of the tile in dimension d
// and size[d] its extent there; start/size of dimensions [0, outer) come from `fixed`.
template <class Call>
void walk_tiles(const Grid& g, unsigned outer, const std::size_t* fixed_start,
                const std::size_t* fixed_size, std::size_t b, std::size_t e, unsigned thread,
                const Call& call) {
  std::size_t start[max_dims], size[max_dims];
  for (unsigned d = 0; d < outer; ++d) {
    start[d] = fixed_start[d];
    size[d] = fixed_size[d];
  }
  std::size_t rest = b;
  for (unsigned d = g.dims; d-- > outer;) {
    // (rest % tiles) * tile < range: the tile exists.
    start[d] = (rest % g.tiles[d]) * g.tile[d];
    rest /= g.tiles[d];
    size[d] = std::min(g.tile[d], g.range[d] - start[d]);
  }
  for (std::size_t t = b;;) {
    call(thread, static_cast<const std::size_t*>(start), static_cast<const std::size_t*>(size));
    if (++t == e) break;
    // Next tile: bump the last dimension, carrying into earlier ones. t < the count of
    // dimensions [outer, dims), so the carry stops before running off dimension outer.
    unsigned d = g.dims - 1;
    while (!next_tile(g, d, start, size)) --d;
  }
}

// One parallel_for (or an inline walk) over the trailing dimensions, with the leading
// ones fixed at start/size[0, outer).
template <class Call>
void run_part(pthreadpool* pool, const Grid& grid, const GridSplit& split,
              const std::size_t* start, const std::size_t* size, bool no_denormals,
              const Call& call) {
  if (pool == nullptr) {
    DenormalGuard guard(no_denormals);
    walk_tiles(grid, split.outer, start, size, 0, split.count, 0, call);
    return;
  }
  if (!pool->scheduler || split.count == 1) {
    const unsigned thread = thread_index(*pool);
    {
      DenormalGuard guard(no_denormals);
      walk_tiles(grid, split.outer, start, size, 0, split.count, thread, call);
    }
    pool->items[thread].items.fetch_add(split.count, std::memory_order_relaxed);
    return;
  }
  weft::ForOptions options;
  // Relaxed: a setting read once per call; no data travels with it.
  options.priority = pool->priority.load(std::memory_order_relaxed);
  options.name = "pthreadpool";
  // Automatic grain: weft times the first tiles and sizes the team and the chunks
  // from that, so a call with little work stays on the caller.
  pool->scheduler->parallel_for(
      0, split.count,
      [&](std::size_t b, std::size_t e) {
        const unsigned thread = thread_index(*pool);
        {
          // Per chunk, on every participating thread (two MXCSR writes, a few cycles,
          // only with the flag); each thread's own mode is back when its chunk is done.
          DenormalGuard guard(no_denormals);
          walk_tiles(grid, split.outer, start, size, b, e, thread, call);
        }
        pool->items[thread].items.fetch_add(e - b, std::memory_order_relaxed);
      },
      options);
}

template <class Call>
void run_grid(pthreadpool* pool, const Grid& grid, std::uint32_t flags, const Call& call) {
  const GridSplit split = split_grid(grid);
  if (split.count == 0) return;
  const bool no_denormals = (flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS) != 0;
  if (pool != nullptr) {
    // Relaxed (all counters): statistics, read after the counted calls returned, which
    // orders them (parallel_for's join, or the caller's own program order).
    pool->calls.fetch_add(1, std::memory_order_relaxed);
    if (!pool->scheduler || (split.outer == 0 && split.count == 1)) {
      pool->inline_calls.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // The leading dimensions' tiles, walked in order (none unless the count overflowed).
  std::size_t start[max_dims] = {}, size[max_dims] = {};
  for (unsigned d = 0; d < split.outer; ++d) size[d] = std::min(grid.tile[d], grid.range[d]);
  for (;;) {
    run_part(pool, grid, split, start, size, no_denormals, call);
    unsigned d = split.outer;
    while (d > 0 && !next_tile(grid, d - 1, start, size)) --d;
    if (d == 0) return;
  }
}

}  // namespace weft::pthreadpool_impl
