// The pieces of parallel_for / _2d / _3d / parallel_reduce that do not depend on the
// Scheduler: how each loop maps units to calls of the user's body, how a loop is sized
// from its measured cost, and the checks of the arguments.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/config.hpp"
#include "weft/options.hpp"
#include "weft/detail/range_loop.hpp"
#include "weft/export.hpp"

namespace weft::detail {

// Thresholds of right-sized teams (README, "Right-sized teams"). Times are of the
// loop body as measured on the calling thread.
namespace loop_tuning {
// The probe (the first iterations, run and timed on the caller) grows by 4x until it
// took this long, so that a clock read (~20 ns) is a small part of what it measures.
inline constexpr double probe_ns = 1000;
// A thread is invited only if it gets at least this much work: waking a worker and
// handing it a share costs about a microsecond, more when it sleeps. A loop with less
// than twice this much left after the probe finishes on the caller alone.
inline constexpr double min_ns_per_thread = 2000;
// A worker that is awake (spinning, or finishing other work) takes an invitation from
// its mailbox with no syscall on either side (~0.3 us when it spins), so it is worth
// inviting for less. If it does not come, the caller steals its share back.
inline constexpr double min_ns_per_awake_thread = 500;
// Chunks taken from a share are a quarter of what is left, but no shorter than this
// (so that a claim, one uncontended CAS, stays ~1% of the work)...
inline constexpr double min_chunk_ns = 1000;
// ...and no longer than this: the time after a body threw before the others stop,
// and for Priority::low the longest a loop keeps a worker from more urgent work (the
// preemption point of background loops: every chunk boundary).
inline constexpr double max_chunk_ns = 1'000'000;
inline constexpr double low_max_chunk_ns = 100'000;
// parallel_reduce with deterministic = true and grain = 0 uses chunks of this many
// iterations, whatever the number of threads.
inline constexpr std::size_t deterministic_grain = 1024;
}  // namespace loop_tuning

// Argument errors, thrown out of line (cold, and keeps the templates small).
[[noreturn]] WEFT_EXPORT void throw_bad_range(const char* loop, std::size_t begin, std::size_t end);
[[noreturn]] WEFT_EXPORT void throw_bad_priority(Priority priority);
[[noreturn]] WEFT_EXPORT void throw_bad_tile(const char* loop, const char* tile_name,
                                             const char* extent_name, std::size_t extent);

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

// How one loop runs: units of `unit` items; `team` threads; chunk sizes.
struct LoopShape {
  std::size_t unit = 1;
  std::uint32_t units = 0;
};

inline LoopShape shape_for(std::size_t items, std::size_t grain) noexcept {
  LoopShape s;
  s.unit = grain == 0 ? 1 : grain;
  std::size_t units = items / s.unit + (items % s.unit != 0);
  if (units > max_range_units) {
    // Too many units for 32-bit indices: make each unit a whole number of grains.
    std::size_t per = (units + max_range_units - 1) / max_range_units;
    s.unit *= per;
    units = items / s.unit + (items % s.unit != 0);
  }
  s.units = static_cast<std::uint32_t>(units);
  return s;
}

inline std::size_t tiles_of(std::size_t extent, std::size_t tile) noexcept {
  return extent / tile + (extent % tile != 0);
}

// Chunk sizes (in units) for a body that costs `ns_per_unit`.
inline ChunkPolicy chunk_policy_for(double ns_per_unit, Priority priority) noexcept {
  double ns = std::max(ns_per_unit, 0.01);
  double max_ns = priority == Priority::low ? loop_tuning::low_max_chunk_ns
                                            : loop_tuning::max_chunk_ns;
  auto units_for = [&](double t) {
    double u = t / ns;
    return u < 1 ? std::uint32_t{1}
                 : static_cast<std::uint32_t>(std::min(u, double{max_range_units}));
  };
  return ChunkPolicy{units_for(loop_tuning::min_chunk_ns), units_for(max_ns)};
}

// Threads worth inviting for `units` units of `ns_per_unit` each, at most `cap`, when
// `awake` workers are not parked: those are cheap to add, parked ones cost a wake-up.
inline unsigned team_for(double ns_per_unit, std::uint32_t units, unsigned cap,
                         unsigned awake = 0) noexcept {
  const double work = ns_per_unit * units;
  auto threads_for = [&](double ns_per_thread, double most) {
    const double want = work / ns_per_thread;
    return want >= most ? most : std::floor(want);
  };
  const double awake_team = threads_for(loop_tuning::min_ns_per_awake_thread,
                                        std::min<double>(cap, 1.0 + awake));
  const double any_team = threads_for(loop_tuning::min_ns_per_thread, cap);
  return std::max(1u, static_cast<unsigned>(std::max(awake_team, any_team)));
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

// Runs units [0, k) on the caller for growing k, timing them, until they took
// loop_tuning::probe_ns or `max_units` are done. Returns k; sets `ns_per_unit`.
template <class Exec>
std::uint32_t probe_cost(Exec& exec, std::uint32_t max_units, double& ns_per_unit) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::uint32_t done = 0, step = 1;
  for (;;) {
    std::uint32_t n = std::min(step, max_units - done);
    exec(0u, done, done + n);
    done += n;
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    if (ns >= loop_tuning::probe_ns || done >= max_units) {
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

template <class Sched, class Job>
void run_job(Sched& sched, Job& job, unsigned team, Priority priority, const ForOptions& options) {
  job.name = options.name;
  sched.run_loop(job, team, priority, LoopDomain{options.numa_node, options.l3});
  job.rethrow_if_failed();
}

// Runs units [0, units) of `exec`: on the caller alone, or on a right-sized team.
// `auto_grain`: units are single iterations (or tiles) whose cost is unknown, so the
// team and chunk sizes come from a measurement; otherwise every unit is one
// user-chosen grain and the number of grains caps the team. `Sched` is a Scheduler
// (a template so that tests can drive this with plain threads).
template <class Sched, class Exec>
void run_units(Sched& sched, Exec& exec, std::uint32_t units, bool auto_grain,
               const ForOptions& options) {
  if (units == 0) return;
  if (options.priority && static_cast<unsigned>(*options.priority) >= num_priorities) {
    throw_bad_priority(*options.priority);
  }
  const unsigned cap = loop_cap(sched, options, units);
  // The caller runs its share (probe, serial fallback, slot 0) at the loop's priority.
  const ThreadPriorityScope scope(options.priority);
  const Priority priority = scope.priority();
  if (!auto_grain) {
    if (cap <= 1) {
      for (std::uint32_t u = 0; u < units; ++u) exec(0u, u, u + 1);
      return;
    }
    RangeLoopJob<Exec> job(exec, units, cap, ChunkPolicy{1, 1});
    run_job(sched, job, cap, priority, options);
    return;
  }
  if (cap <= 1) {
    exec(0u, 0u, units);
    return;
  }
  CostHint& hint = cost_hint_for<Exec>();
  // Known to be large from an earlier call: invite at once (no serial probe) and time
  // the caller's first chunk to keep the hint current.
  if (double known = hint.get(); known > 0) {
    if (unsigned team = team_for(known, units, cap, awake_workers_of(sched)); team > 1) {
      FirstChunkTimer<Exec> timer{exec};
      RangeLoopJob<FirstChunkTimer<Exec>> job(timer, units, team,
                                              chunk_policy_for(known, priority));
      job.name = options.name;
      sched.run_loop(job, team, priority, LoopDomain{options.numa_node, options.l3});
      if (timer.ns_per_unit > 0) hint.set(timer.ns_per_unit);
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
  job.splitter().skip_front(done);
  run_job(sched, job, team, priority, options);
}

// parallel_for: unit u covers items [u * unit, (u + 1) * unit) of [begin, end).
template <class Body>
struct ForExec {
  Body& body;
  std::size_t begin;
  std::size_t count;
  std::size_t unit;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    std::size_t b = begin + first * unit;
    std::size_t e = begin + std::min(last * unit, count);
    if constexpr (std::is_invocable_v<Body&, std::size_t, std::size_t>) {
      body(b, e);
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
    std::size_t t = first * unit;
    std::size_t t_end = std::min(last * unit, count);
    std::size_t tr = t / tiles_c, tc = t % tiles_c;
    for (; t < t_end; ++t) {
      std::size_t r0 = tr * tile_r, c0 = tc * tile_c;
      body(r0, std::min(r0 + tile_r, rows), c0, std::min(c0 + tile_c, cols));
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
    std::size_t t = first * unit;
    std::size_t t_end = std::min(last * unit, count);
    std::size_t a = t / (tiles1 * tiles2), rest = t % (tiles1 * tiles2);
    std::size_t b = rest / tiles2, c = rest % tiles2;
    for (; t < t_end; ++t) {
      std::size_t i0 = a * tile0, j0 = b * tile1, k0 = c * tile2;
      body(i0, std::min(i0 + tile0, d0), j0, std::min(j0 + tile1, d1), k0,
           std::min(k0 + tile2, d2));
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

// parallel_reduce, default mode: each slot folds the contiguous runs of units it
// executes (its share from the front, then each range it stole) into one partial
// per run ("segment"); at the end the segments are combined in range order, so an
// associative combine that is not commutative still gives the sequential answer.
// A slot's first segment lives in place; later ones (one per steal) go to a vector.
template <class T>
struct alignas(64) ReduceSlot {
  std::optional<T> acc;
  std::size_t start = 0;      // first unit of the current segment
  std::size_t next = 0;       // the unit after the last one run
  std::vector<std::pair<std::size_t, T>> done;  // finished segments: (first unit, partial)
};

template <class T, class ChunkBody>
struct ReduceExec {
  ChunkBody& chunk_body;
  const T& init;
  std::size_t begin, count, unit;
  SlotArray<ReduceSlot<T>, 16>& slots;

  void operator()(unsigned slot, std::uint32_t first, std::uint32_t last) const {
    ReduceSlot<T>& s = slots[slot];
    if (!s.acc || s.next != first) {
      // A steal: the previous run ends here. The vector allocates (rarely: once per
      // steal at most, amortized); a loop without steals never does.
      if (s.acc) s.done.emplace_back(s.start, std::move(*s.acc));
      s.acc.emplace(init);
      s.start = first;
    }
    std::size_t b = begin + first * unit;
    std::size_t e = begin + std::min(last * unit, count);
    s.acc.emplace(chunk_body(b, e, std::move(*s.acc)));
    s.next = last;
  }
};

// Combines the segments of every slot in range order.
template <class T, class Combine>
T combine_segments(SlotArray<ReduceSlot<T>, 16>& slots, T init, Combine& combine) {
  bool stolen = false;
  for (unsigned k = 0; k < slots.size(); ++k) stolen = stolen || !slots[k].done.empty();
  std::optional<T> result;
  auto add = [&](T&& part) {
    if (result) {
      result.emplace(combine(std::move(*result), std::move(part)));
    } else {
      result.emplace(std::move(part));
    }
  };
  if (!stolen) {
    // At most one segment per slot, and slot k's share precedes slot k+1's.
    for (unsigned k = 0; k < slots.size(); ++k) {
      if (slots[k].acc) add(std::move(*slots[k].acc));
    }
  } else {
    // Allocates: only after steals, which already cost far more.
    std::vector<std::pair<std::size_t, T*>> order;
    for (unsigned k = 0; k < slots.size(); ++k) {
      for (auto& [start, part] : slots[k].done) order.emplace_back(start, &part);
      if (slots[k].acc) order.emplace_back(slots[k].start, &*slots[k].acc);
    }
    std::sort(order.begin(), order.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& seg : order) add(std::move(*seg.second));
  }
  return result ? std::move(*result) : std::move(init);
}

// parallel_reduce, deterministic mode: one partial per fixed chunk of `grain` items
// (a unit is a whole number of chunks), each chunk_body(b, e, init); combined left to
// right in chunk order. Split points do not depend on threads or stealing, so float
// results are bit-identical. The partials vector is one allocation per call.
template <class T, class ChunkBody>
struct DeterministicReduceExec {
  ChunkBody& chunk_body;
  const T& init;
  std::size_t begin, count, unit, grain;
  std::vector<std::optional<T>>& partials;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    std::size_t b = first * unit;
    std::size_t e = std::min(last * unit, count);
    for (std::size_t c = b; c < e; c += grain) {
      std::size_t ce = std::min(c + grain, e);
      partials[c / grain].emplace(chunk_body(begin + c, begin + ce, T(init)));
    }
  }
};

}  // namespace weft::detail
