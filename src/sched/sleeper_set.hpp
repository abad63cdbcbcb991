// SleeperSet: which workers are parked (or about to park), as one bit each, and the
// sets of workers a waker may pick from. The parking protocol that uses it is written
// down at the head of scheduler_core.cpp; this class holds its bits and nothing else.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "sched/fence.hpp"

namespace weft::detail {

// Who may be woken for a kind of work.
enum class WakeGroup : unsigned {
  unreserved,  // workers that take normal work (not reserved, not background)
  ordinary,    // every worker but the background ones (urgent work)
  background,  // the background workers (low work, when there are any)
};
inline constexpr unsigned num_wake_groups = 3;

class SleeperSet {
 public:
  explicit SleeperSet(std::size_t workers);

  // Before any thread runs: puts `worker` in `group` (a worker may be in several).
  void add_to_group(unsigned worker, WakeGroup group);
  unsigned group_size(WakeGroup group) const;

  // Inline below: they run on every submit and loop (a call into another object file
  // cost fib(30) 4% when they were not).

  // Step 2-3 of the protocol: the bit, then a seq_cst fence.
  void announce(unsigned worker) {
    bits_[worker / bits_per_word].fetch_or(bit_of(worker), std::memory_order_seq_cst);
    seq_cst_fence();
  }
  // Step 6.
  void withdraw(unsigned worker) {
    // relaxed: a stale bit only costs a waker a wasted unpark of a running worker, and
    // the waker's task is still found by this worker's next scan.
    std::atomic<std::uint64_t>& word = bits_[worker / bits_per_word];
    if ((word.load(std::memory_order_relaxed) & bit_of(worker)) != 0)
      word.fetch_and(~bit_of(worker), std::memory_order_relaxed);
  }
  // Claims `worker`'s bit; true if this caller cleared it (it then must unpark it).
  bool claim(unsigned worker) {
    std::atomic<std::uint64_t>& word = bits_[worker / bits_per_word];
    // relaxed load: a pre-check that avoids the RMW when the worker is awake; the
    // caller's seq_cst fence orders it against the worker's announcement.
    if ((word.load(std::memory_order_relaxed) & bit_of(worker)) == 0) return false;
    // acq_rel: exactly one waker claims the bit.
    return (word.fetch_and(~bit_of(worker), std::memory_order_acq_rel) & bit_of(worker)) != 0;
  }
  // Claims the bit of some parked worker of `group`, or returns nothing.
  std::optional<unsigned> claim_one(WakeGroup group) {
    const std::uint64_t* members = groups_[static_cast<unsigned>(group)].get();
    for (std::size_t w = 0; w < words_; ++w) {
      // relaxed: ordered by the caller's fence (protocol step c).
      std::uint64_t candidates = bits_[w].load(std::memory_order_relaxed) & members[w];
      while (candidates != 0) {
        const auto worker = static_cast<unsigned>(w * bits_per_word) +
                            static_cast<unsigned>(std::countr_zero(candidates));
        if (claim(worker)) return worker;
        candidates &= candidates - 1;
      }
    }
    return std::nullopt;
  }
  // Workers of `group` whose bit is set now (a hint; every loop asks).
  unsigned parked(WakeGroup group) const {
    const std::uint64_t* members = groups_[static_cast<unsigned>(group)].get();
    unsigned n = 0;
    for (std::size_t w = 0; w < words_; ++w) {
      // relaxed: a hint (see the callers).
      n += static_cast<unsigned>(std::popcount(bits_[w].load(std::memory_order_relaxed) & members[w]));
    }
    return n;
  }

 private:
  static constexpr unsigned bits_per_word = 64;
  static std::uint64_t bit_of(unsigned worker) {
    return std::uint64_t{1} << (worker % bits_per_word);
  }

  std::size_t words_;
  // Bit i set: worker i is parked (or about to) and may be woken by claiming the bit.
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
  // Per group, per word: the workers in the group.
  std::unique_ptr<std::uint64_t[]> groups_[num_wake_groups];
};

}  // namespace weft::detail
