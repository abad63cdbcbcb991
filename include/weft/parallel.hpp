// The loop family: parallel_for, parallel_for_2d, parallel_for_3d, parallel_reduce.
//
// Each entry point is the parallel version of a plain sequential loop (stated at each
// function below) and has two forms: a member of weft::Scheduler, and a free function
// in namespace weft that runs on weft::default_scheduler().
//
// How a loop runs (details in docs/loops.md):
//  - The range is split into contiguous shares, one per participating thread, in
//    order: the caller runs share 0, the k-th invited worker share k. Calling the same
//    loop again with the same size runs the same iterations on the same cores.
//  - A thread that finishes its share steals the back half of the largest share left
//    (range stealing). No chunk is queued and nothing is allocated per loop
//    (parallel_reduce excepted, see there): the loop's state lives on the caller's stack.
//  - Teams are sized from the work: the caller runs and times the first few iterations
//    (or grains); a loop with less than ~4 us of work left finishes on the caller
//    alone, a larger one invites threads so that each gets at least ~2 us.
//    ForOptions::chunk asks for OpenMP's schedule(dynamic, chunk) instead: exact
//    chunks, the whole team invited (see weft/options.hpp).
//  - Loops nest (a body may call parallel_for): the inner loop never blocks waiting for
//    a thread and never creates one.
//  - If a body throws, no new chunk is started, the first exception is rethrown from the
//    call once every participant has left, and no iteration runs after the call returns.
//  - Arguments that make no sense (begin > end, a tile size of 0 for a non-empty
//    extent, more tiles than std::size_t can count) and bad ForOptions (see
//    weft/options.hpp) raise weft::ConfigError naming the argument and its value, before
//    any iteration runs. Every range that fits in std::size_t is valid: a range of up to
//    SIZE_MAX iterations is covered exactly once (counts are computed without wrapping).
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/scheduler.hpp"  // Safe both ways: scheduler.hpp includes this file at its end.
#include "weft/detail/options_check.hpp"
#include "weft/detail/range_exec.hpp"
#include "weft/detail/range_loop.hpp"
#include "weft/detail/range_reduce.hpp"
#include "weft/options.hpp"

namespace weft {

// The parallel version of:
//   for (std::size_t i = begin; i < end; ++i) body(i);
// `body` is called as body(i), or, if it accepts two indices, as body(b, e) once per
// chunk [b, e) (then it runs: for (i = b; i < e; ++i) ...). options.grain > 0 makes
// every chunk at least `grain` iterations, options.chunk > 0 exactly `chunk` (the last
// one shorter in both cases).
template <class Body>
void Scheduler::parallel_for(std::size_t begin, std::size_t end, Body&& body,
                             const ForOptions& options) {
  using B = std::remove_reference_t<Body>;
  static_assert(std::is_invocable_v<B&, std::size_t, std::size_t> ||
                    std::is_invocable_v<B&, std::size_t>,
                "parallel_for: the body must be callable as body(i) or body(begin, end)");
  detail::check_loop_options(*this, options);
  if (begin > end) detail::throw_bad_range("parallel_for", begin, end);
  const std::size_t count = end - begin;
  const detail::LoopShape shape = detail::shape_for(count, detail::least_claim(options));
  detail::ForExec<B> exec{body, begin, count, shape.unit, options.chunk};
  detail::run_units(*this, exec, shape.units, options);
}

// The parallel version of:
//   for (std::size_t r0 = 0; r0 < rows; r0 += tile_rows)
//     for (std::size_t c0 = 0; c0 < cols; c0 += tile_cols)
//       body(r0, min(r0 + tile_rows, rows), c0, min(c0 + tile_cols, cols));
// Tiles are numbered row-major and split like parallel_for's iterations, so each
// thread gets a run of consecutive tiles. options.grain and options.chunk count tiles
// (the body gets one tile per call either way). More tiles than
// std::size_t counts (rows / tile_rows x cols / tile_cols > SIZE_MAX) is a ConfigError.
template <class Body>
void Scheduler::parallel_for_2d(std::size_t rows, std::size_t cols, std::size_t tile_rows,
                                std::size_t tile_cols, Body&& body, const ForOptions& options) {
  using B = std::remove_reference_t<Body>;
  detail::check_loop_options(*this, options);
  const detail::TileDim dims[] = {{"rows", rows, "tile_rows", tile_rows},
                                  {"cols", cols, "tile_cols", tile_cols}};
  std::size_t tiles[2];
  const std::size_t count = detail::count_tiles("parallel_for_2d", dims, tiles);
  if (count == 0) return;
  const detail::LoopShape shape = detail::shape_for(count, detail::least_claim(options));
  detail::For2dExec<B> exec{body, rows, cols, tile_rows, tile_cols, tiles[1], count, shape.unit};
  detail::run_units(*this, exec, shape.units, options);
}

// The parallel version of:
//   for (i0 = 0; i0 < d0; i0 += tile0)
//     for (j0 = 0; j0 < d1; j0 += tile1)
//       for (k0 = 0; k0 < d2; k0 += tile2)
//         body(i0, min(i0 + tile0, d0), j0, min(j0 + tile1, d1), k0, min(k0 + tile2, d2));
// Tiles are numbered in that (row-major) order. options.grain and chunk count tiles. More tiles
// than std::size_t counts is a ConfigError, as for parallel_for_2d.
template <class Body>
void Scheduler::parallel_for_3d(std::size_t d0, std::size_t d1, std::size_t d2,
                                std::size_t tile0, std::size_t tile1, std::size_t tile2,
                                Body&& body, const ForOptions& options) {
  using B = std::remove_reference_t<Body>;
  detail::check_loop_options(*this, options);
  const detail::TileDim dims[] = {
      {"d0", d0, "tile0", tile0}, {"d1", d1, "tile1", tile1}, {"d2", d2, "tile2", tile2}};
  std::size_t tiles[3];
  const std::size_t count = detail::count_tiles("parallel_for_3d", dims, tiles);
  if (count == 0) return;
  const detail::LoopShape shape = detail::shape_for(count, detail::least_claim(options));
  detail::For3dExec<B> exec{body, d0, d1, d2, tile0, tile1, tile2, tiles[1], tiles[2], count,
                            shape.unit};
  detail::run_units(*this, exec, shape.units, options);
}

// The parallel version of:
//   T acc = init;
//   for (chunk [b, e) of [begin, end), in order) acc = chunk_body(b, e, acc);
//   return acc;
// except that the range is cut into several runs of chunks, each folded from `init`,
// and the runs' results are combined left to right with combine(left, right): `init`
// must be an identity of `combine` (0 for +, 1 for *, "" for concatenation) and
// `combine` associative; it need not be commutative.
// Split points depend on stealing, so float sums may differ in the last bits from run
// to run. options.deterministic = true fixes them: chunks of exactly `chunk`
// iterations (chunk 0: 1024, whatever the thread count), one result per chunk,
// combined in order: bit-identical across runs and thread counts. That mode allocates
// room for the partials of at most 16 Ki chunks per call (a longer range runs as
// consecutive windows of chunks, with the same result); the default mode allocates
// only when threads stole work.
template <class T, class ChunkBody, class Combine>
T Scheduler::parallel_reduce(std::size_t begin, std::size_t end, T init, ChunkBody&& chunk_body,
                             Combine&& combine, const ForOptions& options) {
  using C = std::remove_reference_t<ChunkBody>;
  static_assert(std::is_invocable_v<C&, std::size_t, std::size_t, T>,
                "parallel_reduce: the chunk body must be callable as chunk_body(b, e, acc)");
  detail::check_loop_options(*this, options);
  if (begin > end) detail::throw_bad_range("parallel_reduce", begin, end);
  const std::size_t count = end - begin;
  if (count == 0) return init;
  if (options.deterministic) {
    return detail::deterministic_reduce(*this, begin, count, init, chunk_body, combine, options);
  }
  const detail::LoopShape shape = detail::shape_for(count, detail::least_claim(options));
  detail::SlotArray<detail::ReduceSlot<T>, 16> slots(detail::loop_cap(*this, options, shape.units));
  detail::ReduceExec<T, C> exec{chunk_body, init, begin, count, shape.unit, options.chunk, slots};
  detail::run_units(*this, exec, shape.units, options);
  return detail::combine_segments(slots, std::move(init), combine);
}

// On weft::default_scheduler(): see the Scheduler members above.
template <class Body>
void parallel_for(std::size_t begin, std::size_t end, Body&& body, const ForOptions& options = {}) {
  default_scheduler().parallel_for(begin, end, std::forward<Body>(body), options);
}

template <class Body>
void parallel_for_2d(std::size_t rows, std::size_t cols, std::size_t tile_rows,
                     std::size_t tile_cols, Body&& body, const ForOptions& options = {}) {
  default_scheduler().parallel_for_2d(rows, cols, tile_rows, tile_cols, std::forward<Body>(body),
                                      options);
}

template <class Body>
void parallel_for_3d(std::size_t d0, std::size_t d1, std::size_t d2, std::size_t tile0,
                     std::size_t tile1, std::size_t tile2, Body&& body,
                     const ForOptions& options = {}) {
  default_scheduler().parallel_for_3d(d0, d1, d2, tile0, tile1, tile2, std::forward<Body>(body),
                                      options);
}

template <class T, class ChunkBody, class Combine>
T parallel_reduce(std::size_t begin, std::size_t end, T init, ChunkBody&& chunk_body,
                  Combine&& combine, const ForOptions& options = {}) {
  return default_scheduler().parallel_reduce(begin, end, std::move(init),
                                             std::forward<ChunkBody>(chunk_body),
                                             std::forward<Combine>(combine), options);
}

}  // namespace weft
