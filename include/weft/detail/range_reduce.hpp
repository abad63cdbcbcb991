// The parallel_reduce parts of the loop family: the partials each slot folds and their
// combination in range order (the default mode), and the deterministic mode's fixed
// chunks. The rest of the loop machinery (run_units, unit_items) is range_exec.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/checked.hpp"
#include "weft/detail/loop_policy.hpp"
#include "weft/detail/range_exec.hpp"
#include "weft/detail/range_loop.hpp"
#include "weft/options.hpp"

namespace weft::detail {

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
  std::size_t chunk;  // ForOptions::chunk: one chunk_body call per chunk (0: per run)
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
    const ItemSpan items = unit_items(first, last, unit, count);
    const std::size_t b = begin + items.begin, e = begin + items.end;
    for (std::size_t c = b; c < e;) {
      const std::size_t ce = chunk == 0 ? e : clamped_end(c, chunk, e);
      s.acc.emplace(chunk_body(c, ce, std::move(*s.acc)));
      c = ce;
    }
    s.next = last;
  }
};

// Combines the segments of every slot in range order.
template <class T, class Combine>
T combine_segments(SlotArray<ReduceSlot<T>, 16>& slots, T init, Combine& combine) {
  // Slot order is range order only when every slot ran one segment and their starts
  // rise with the slot. A steal usually leaves a finished segment behind, but not when
  // it was a slot's first run (its own share was empty, or taken before it joined):
  // that segment lies inside another slot's share, so the starts decide, not `done`.
  bool in_slot_order = true;
  std::optional<std::size_t> previous_start;
  for (unsigned k = 0; k < slots.size(); ++k) {
    if (!slots[k].done.empty()) in_slot_order = false;
    if (!slots[k].acc) continue;
    if (previous_start && slots[k].start < *previous_start) in_slot_order = false;
    previous_start = slots[k].start;
  }
  std::optional<T> result;
  auto add = [&](T&& part) {
    if (result) {
      result.emplace(combine(std::move(*result), std::move(part)));
    } else {
      result.emplace(std::move(part));
    }
  };
  if (in_slot_order) {
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

// parallel_reduce, deterministic mode: one partial per fixed chunk of `chunk` items
// (a unit is a whole number of chunks), each chunk_body(b, e, init); combined left to
// right in chunk order. Split points do not depend on threads or stealing, so float
// results are bit-identical. Runs one window of chunks (deterministic_reduce below).
template <class T, class ChunkBody>
struct DeterministicReduceExec {
  ChunkBody& chunk_body;
  const T& init;
  std::size_t begin, count, unit, chunk;
  std::vector<std::optional<T>>& partials;

  void operator()(unsigned, std::uint32_t first, std::uint32_t last) const {
    const ItemSpan items = unit_items(first, last, unit, count);
    for (std::size_t c = items.begin; c < items.end;) {
      const std::size_t ce = clamped_end(c, chunk, items.end);
      partials[c / chunk].emplace(chunk_body(begin + c, begin + ce, T(init)));
      c = ce;
    }
  }
};

// parallel_reduce's deterministic mode over items [begin, begin + count), count > 0.
// The partials of at most loop_tuning::deterministic_window chunks exist at a time (one
// allocation per call, sized min(chunks, window)), not one per chunk of the range: a
// chunk of 1 over [0, 2^40) runs in bounded memory instead of asking for terabytes.
// Each window is folded left to right into the result before the next one runs, so the
// combine order, and the result, is that of one partial per chunk.
template <class Sched, class T, class ChunkBody, class Combine>
T deterministic_reduce(Sched& sched, std::size_t begin, std::size_t count, const T& init,
                       ChunkBody& chunk_body, Combine& combine, const ForOptions& options) {
  const std::size_t chunk = options.chunk != 0 ? options.chunk : loop_tuning::deterministic_chunk;
  const std::size_t chunks = ceil_div(count, chunk);
  std::vector<std::optional<T>> partials(std::min(chunks, loop_tuning::deterministic_window));
  std::optional<T> result;
  for (std::size_t first_chunk = 0; first_chunk < chunks;) {
    const std::size_t n = std::min(partials.size(), chunks - first_chunk);
    // first_chunk * chunk < count (chunk first_chunk exists); when more chunks follow
    // this window, n * chunk < count - offset, so neither product wraps.
    const std::size_t offset = first_chunk * chunk;
    const std::size_t items = first_chunk + n == chunks ? count - offset : n * chunk;
    // A unit is whole chunks (at least the grain), n < 2^32 of them: no widening.
    const LoopShape shape = shape_for(items, least_claim(options.grain, chunk));
    DeterministicReduceExec<T, ChunkBody> exec{chunk_body, init, begin + offset, items,
                                               shape.unit, chunk, partials};
    run_units(sched, exec, shape.units, options);
    for (std::size_t k = 0; k < n; ++k) {
      if (result) {
        result.emplace(combine(std::move(*result), std::move(*partials[k])));
      } else {
        result.emplace(std::move(*partials[k]));
      }
      partials[k].reset();
    }
    first_chunk += n;
  }
  return std::move(*result);
}

}  // namespace weft::detail
