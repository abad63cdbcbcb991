// The pieces of parallel_for / _2d / _3d / parallel_reduce that do not depend on the
// Scheduler: how each loop maps units to calls of the user's body, how it measures
// the body's cost and runs on a team, and the checks of the arguments. The sizing
// policy those measurements feed is out of line (loop_policy.hpp); parallel_reduce's
// partials are range_reduce.hpp. What stays inline here is a template over the body,
// runs per chunk (unit_items: a call into the library would be a visible part of a
// small chunk's cost), or is one relaxed atomic access (CostHint) with no policy in it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "weft/config.hpp"
#include "weft/options.hpp"
#include "weft/detail/checked.hpp"
#include "weft/detail/loop_policy.hpp"
#include "weft/detail/range_loop.hpp"
#include "weft/detail/share_hint.hpp"
#include "weft/export.hpp"

namespace weft::detail {

// One dimension of a tiled loop, for the tile count and its errors.
struct TileDim {
  const char* extent_name;
  std::size_t extent;
  const char* tile_name;
  std::size_t tile;
};

// Argument errors, thrown out of line (cold, and keeps the templates small).
[[noreturn]] WEFT_EXPORT void throw_bad_range(const char* loop, std::size_t begin, std::size_t end);
[[noreturn]] WEFT_EXPORT void throw_bad_tile(const char* loop, const char* tile_name,
                                             const char* extent_name, std::size_t extent);
[[noreturn]] WEFT_EXPORT void throw_too_many_tiles(const char* loop, const TileDim* dims,
                                                   unsigned n);

// The number of tiles of a 2D/3D loop, row-major; tiles[d] gets dimension d's count.
// 0 when an extent is 0. ConfigError for a tile of 0 on a non-empty extent, and for a
// product of tile counts that does not fit in size_t (no loop could number its tiles).
template <unsigned N>
std::size_t count_tiles(const char* loop, const TileDim (&dims)[N], std::size_t (&tiles)[N]) {
  bool empty = false;
  for (const TileDim& d : dims) {
    if (d.tile == 0 && d.extent != 0) throw_bad_tile(loop, d.tile_name, d.extent_name, d.extent);
    empty = empty || d.extent == 0;
  }
  if (empty) return 0;
  std::size_t count = 1;
  for (unsigned d = 0; d < N; ++d) {
    tiles[d] = ceil_div(dims[d].extent, dims[d].tile);
    if (!checked_mul(count, tiles[d], count)) throw_too_many_tiles(loop, dims, N);
  }
  return count;
}

// The body's cost per unit from an earlier run of the same loop (the same lambda
// type): lets a loop known to be large invite its team at once instead of probing
// first. A float's bits in an atomic; 0 = unknown. Relaxed: a hint, never a contract.
class CostHint {
 public:
  double get() const noexcept {
    std::uint32_t bits = bits_.load(std::memory_order_relaxed);
    float v;
    static_assert(sizeof v == sizeof bits);
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  void set(double ns_per_unit) noexcept {
    float v = static_cast<float>(ns_per_unit);
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof v);
    bits_.store(bits, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint32_t> bits_{0};
};

// The items [begin, end) of units [first, last) of a range of `count` items in units of
// `unit` (first < last <= the shape's units). Not last * unit: for the last unit of a
// range near SIZE_MAX that product wraps.
struct ItemSpan {
  std::size_t begin, end;
};
inline ItemSpan unit_items(std::uint32_t first, std::uint32_t last, std::size_t unit,
                           std::size_t count) noexcept {
  return {first * unit, clamped_end(std::size_t{last - 1} * unit, unit, count)};
}

// Awake workers of a real Scheduler; 0 for the plain-thread drivers of the tests.
template <class Sched, class = void>
struct has_awake_workers : std::false_type {};
template <class Sched>
struct has_awake_workers<
    Sched, std::void_t<decltype(std::declval<const Sched&>().awake_workers())>>
    : std::true_type {};

template <class Sched>
unsigned awake_workers_of(const Sched& sched) noexcept {
  if constexpr (has_awake_workers<Sched>::value) {
    return sched.awake_workers();
  } else {
    return 0;
  }
}

// Whether a real Scheduler runs a loop of `priority` from this thread on its background
// workers alone; false for the plain-thread drivers of the tests.
template <class Sched, class = void>
struct has_hands_off : std::false_type {};
template <class Sched>
struct has_hands_off<
    Sched, std::void_t<decltype(std::declval<const Sched&>().hands_off(Priority::low))>>
    : std::true_type {};

template <class Sched>
bool hands_off_of(const Sched& sched, Priority priority) {
  if constexpr (has_hands_off<Sched>::value) {
    return sched.hands_off(priority);
  } else {
    return false;
  }
}

// Runs units [0, k) on the caller for growing k, timing them, until they took
// probe_target_ns() or `max_units` are done. Returns k; sets `ns_per_unit`.
template <class Exec>
std::uint32_t probe_cost(Exec& exec, std::uint32_t max_units, double& ns_per_unit) {
  using Clock = std::chrono::steady_clock;
  const double target_ns = probe_target_ns();  // out of line: read once, not per step
  const auto start = Clock::now();
  std::uint32_t done = 0, step = 1;
  for (;;) {
    std::uint32_t n = std::min(step, max_units - done);
    exec(0u, done, done + n);
    done += n;
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    if (ns >= target_ns || done >= max_units) {
      ns_per_unit = ns / done;
      return done;
    }
    step = step > (1u << 28) ? step : step * 4;
  }
}

// Times the first chunk slot 0 runs, for the CostHint of a loop that skipped the probe.
template <class Exec>
struct FirstChunkTimer {
  Exec& exec;
  double ns_per_unit = 0;

  void operator()(unsigned slot, std::uint32_t first, std::uint32_t last) {
    if (slot != 0 || ns_per_unit != 0) {
      exec(slot, first, last);
      return;
    }
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    exec(slot, first, last);
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    ns_per_unit = std::max(ns / (last - first), 0.01);
  }
};

// One CostHint per loop body type (each lambda is its own type: one per call site).
template <class Exec>
CostHint& cost_hint_for() noexcept {
  static CostHint hint;  // constant-initialized: no guard on the hot path
  return hint;
}

// The most threads a loop of `units` units may use.
template <class Sched>
unsigned loop_cap(const Sched& sched, const ForOptions& options, std::uint32_t units) {
  unsigned cap = sched.num_threads();
  if (options.max_threads != 0 && options.max_threads < cap) cap = options.max_threads;
  if (units < cap) cap = units;
  return cap == 0 ? 1 : cap;
}

// Splits a team's range by the loop site's ShareHint (equal when it has nothing to
// say), share 0 keeping the `done` units the probe ran; a loop of `work_ns` in all
// that is long enough also measures its slots' rates for the hint.
template <class Job>
void split_for(Job& job, const ShareHint& hint, std::uint32_t units, unsigned team,
               std::uint32_t done, double work_ns) {
  if (team <= ShareHint::max_slots && worth_adapting_shares(team, work_ns)) {
    float weights[ShareHint::max_slots];
    if (hint.weights(team, weights)) job.splitter().reweight(units, weights, done);
    job.measure_rates();
  }
  if (done > 0) job.splitter().skip_front(done);
}

// After a team's call that measured its slots' rates: learn from them.
template <class Job>
void learn_shares(const Job& job, ShareHint& hint, unsigned team) {
  if (!job.measuring_rates() || job.failed()) return;
  SlotRun runs[ShareHint::max_slots];
  for (unsigned k = 0; k < team; ++k) runs[k] = job.run_of(k);
  hint.learn(team, runs);
}

template <class Sched, class Job>
void run_job(Sched& sched, Job& job, unsigned team, Priority priority, const ForOptions& options) {
  job.name = options.name;
  sched.run_loop(job, team, priority, LoopDomain{options.numa_node, options.l3});
  job.rethrow_if_failed();
}

// Runs units [0, units) of `exec`: on the caller alone, or on a right-sized team.
// Without ForOptions::chunk the team and chunk sizes come from a measurement of the
// units' cost (a unit being the least a thread claims: an iteration, a tile, a grain);
// with it, every unit is taken on its own and the number of units caps the team, as
// OpenMP's schedule(dynamic, chunk). `Sched` is a Scheduler (a template so that tests
// can drive this with plain threads).
// The options were checked by the entry point (check_loop_options).
template <class Sched, class Exec>
void run_units(Sched& sched, Exec& exec, std::uint32_t units, const ForOptions& options) {
  if (units == 0) return;
  const unsigned cap = loop_cap(sched, options, units);
  // The caller runs its share (probe, serial fallback, slot 0) at the loop's priority.
  const ThreadPriorityScope scope(options.priority);
  const Priority priority = scope.priority();
  // A loop handed to background workers runs nothing here (run_loop), not even alone.
  const bool handed_off = hands_off_of(sched, priority);
  if (options.chunk != 0) {
    if (cap <= 1 && !handed_off) {
      for (std::uint32_t u = 0; u < units; ++u) exec(0u, u, u + 1);
      return;
    }
    RangeLoopJob<Exec> job(exec, units, cap, ChunkPolicy{1, 1});
    run_job(sched, job, cap, priority, options);
    return;
  }
  if (cap <= 1 && !handed_off) {
    exec(0u, 0u, units);
    return;
  }
  CostHint& hint = cost_hint_for<Exec>();
  ShareHint& shares = share_hint_for<Exec>();
  // Known to be large from an earlier call: invite at once (no serial probe) and time
  // the caller's first chunk to keep the hint current. A handed-off loop is never
  // probed here: the whole team, from the start.
  if (double known = hint.get(); known > 0 || handed_off) {
    if (unsigned team = handed_off ? cap : team_for(known, units, cap, awake_workers_of(sched));
        team > 1 || handed_off) {
      FirstChunkTimer<Exec> timer{exec};
      // Unknown cost (a handed-off first call): chunks of a quarter of what is left.
      const ChunkPolicy policy = known > 0 ? chunk_policy_for(known, priority)
                                           : ChunkPolicy{1, std::uint32_t(max_range_units)};
      RangeLoopJob<FirstChunkTimer<Exec>> job(timer, units, team, policy);
      split_for(job, shares, units, team, 0, known * units);
      job.name = options.name;
      sched.run_loop(job, team, priority, LoopDomain{options.numa_node, options.l3});
      if (timer.ns_per_unit > 0) hint.set(timer.ns_per_unit);
      learn_shares(job, shares, team);
      job.rethrow_if_failed();
      return;
    }
  }
  // Probe: at most the smallest share slot 0 can get, so the split below stays the
  // same whatever the probe took.
  double ns_per_unit = 0;
  const std::uint32_t done = probe_cost(exec, units / cap, ns_per_unit);
  hint.set(ns_per_unit);
  if (done == units) return;
  const unsigned team = team_for(ns_per_unit, units - done, cap, awake_workers_of(sched));
  if (team <= 1) {
    exec(0u, done, units);
    return;
  }
  RangeLoopJob<Exec> job(exec, units, team, chunk_policy_for(ns_per_unit, priority));
  split_for(job, shares, units, team, done, ns_per_unit * (units - done));
  job.name = options.name;
  sched.run_loop(job, team, priority, LoopDomain{options.numa_node, options.l3});
  learn_shares(job, shares, team);
  job.rethrow_if_failed();
}

// parallel_for: unit u covers items [u * unit, (u + 1) * unit) of [begin, end).
template <class Body>
struct ForExec {
  Body& body;
  std::size_t begin;
  std::size_t count;
  std::size_t unit;
  // ForOptions::chunk (0: none). A unit may hold several chunks (a grain above the
  // chunk, a huge range); a chunk body still gets exactly `chunk` items per call.
  std::size_t chunk = 0;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    const ItemSpan items = unit_items(first, last, unit, count);
    const std::size_t b = begin + items.begin, e = begin + items.end;
    if constexpr (std::is_invocable_v<Body&, std::size_t, std::size_t>) {
      if (chunk == 0) {
        body(b, e);
      } else {
        for (std::size_t c = b; c < e;) {
          const std::size_t ce = clamped_end(c, chunk, e);
          body(c, ce);
          c = ce;
        }
      }
    } else {
      for (std::size_t i = b; i < e; ++i) body(i);
    }
  }
};

// parallel_for_2d: items are tiles, row-major (tile (tr, tc) is item tr * tiles_c + tc),
// so a share is a run of whole tile rows and the tiles of a row stay together.
template <class Body>
struct For2dExec {
  Body& body;
  std::size_t rows, cols, tile_r, tile_c, tiles_c, count, unit;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    const ItemSpan items = unit_items(first, last, unit, count);
    std::size_t t = items.begin;
    const std::size_t t_end = items.end;
    std::size_t tr = t / tiles_c, tc = t % tiles_c;
    for (; t < t_end; ++t) {
      // tr * tile_r < rows (tr < the row tiles); the ends are clamped without wrapping.
      std::size_t r0 = tr * tile_r, c0 = tc * tile_c;
      body(r0, clamped_end(r0, tile_r, rows), c0, clamped_end(c0, tile_c, cols));
      if (++tc == tiles_c) {
        tc = 0;
        ++tr;
      }
    }
  }
};

// parallel_for_3d: tile (t0, t1, t2) is item (t0 * tiles1 + t1) * tiles2 + t2.
template <class Body>
struct For3dExec {
  Body& body;
  std::size_t d0, d1, d2, tile0, tile1, tile2, tiles1, tiles2, count, unit;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    const ItemSpan items = unit_items(first, last, unit, count);
    std::size_t t = items.begin;
    const std::size_t t_end = items.end;
    const std::size_t plane = tiles1 * tiles2;  // <= count, which count_tiles checked
    std::size_t a = t / plane, rest = t % plane;
    std::size_t b = rest / tiles2, c = rest % tiles2;
    for (; t < t_end; ++t) {
      std::size_t i0 = a * tile0, j0 = b * tile1, k0 = c * tile2;
      body(i0, clamped_end(i0, tile0, d0), j0, clamped_end(j0, tile1, d1), k0,
           clamped_end(k0, tile2, d2));
      if (++c == tiles2) {
        c = 0;
        if (++b == tiles1) {
          b = 0;
          ++a;
        }
      }
    }
  }
};

}  // namespace weft::detail
