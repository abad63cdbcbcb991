#include "sched/sleeper_set.hpp"

#include <bit>

#include "sched/fence.hpp"

namespace weft::detail {

namespace {
constexpr unsigned bits_per_word = 64;
std::uint64_t bit_of(unsigned worker) { return std::uint64_t{1} << (worker % bits_per_word); }
}  // namespace

SleeperSet::SleeperSet(std::size_t workers)
    : words_((workers + bits_per_word - 1) / bits_per_word),
      bits_(std::make_unique<std::atomic<std::uint64_t>[]>(words_)) {
  for (std::size_t w = 0; w < words_; ++w) bits_[w].store(0, std::memory_order_relaxed);
  for (auto& group : groups_) group = std::make_unique<std::uint64_t[]>(words_);  // zeroed
}

void SleeperSet::add_to_group(unsigned worker, WakeGroup group) {
  groups_[static_cast<unsigned>(group)][worker / bits_per_word] |= bit_of(worker);
}

unsigned SleeperSet::group_size(WakeGroup group) const {
  unsigned n = 0;
  for (std::size_t w = 0; w < words_; ++w)
    n += static_cast<unsigned>(std::popcount(groups_[static_cast<unsigned>(group)][w]));
  return n;
}

void SleeperSet::announce(unsigned worker) {
  bits_[worker / bits_per_word].fetch_or(bit_of(worker), std::memory_order_seq_cst);
  seq_cst_fence();
}

void SleeperSet::withdraw(unsigned worker) {
  // relaxed: a stale bit only costs a waker a wasted unpark of a running worker, and
  // the waker's task is still found by this worker's next scan.
  std::atomic<std::uint64_t>& word = bits_[worker / bits_per_word];
  if ((word.load(std::memory_order_relaxed) & bit_of(worker)) != 0)
    word.fetch_and(~bit_of(worker), std::memory_order_relaxed);
}

bool SleeperSet::claim(unsigned worker) {
  std::atomic<std::uint64_t>& word = bits_[worker / bits_per_word];
  // relaxed load: a pre-check that avoids the RMW when the worker is awake; the caller's
  // seq_cst fence orders it against the worker's announcement.
  if ((word.load(std::memory_order_relaxed) & bit_of(worker)) == 0) return false;
  // acq_rel: exactly one waker claims the bit.
  return (word.fetch_and(~bit_of(worker), std::memory_order_acq_rel) & bit_of(worker)) != 0;
}

std::optional<unsigned> SleeperSet::claim_one(WakeGroup group) {
  const std::uint64_t* members = groups_[static_cast<unsigned>(group)].get();
  for (std::size_t w = 0; w < words_; ++w) {
    // relaxed: ordered by the caller's fence (protocol step c).
    std::uint64_t candidates = bits_[w].load(std::memory_order_relaxed) & members[w];
    while (candidates != 0) {
      const auto worker = static_cast<unsigned>(w * bits_per_word +
                                                static_cast<unsigned>(std::countr_zero(candidates)));
      if (claim(worker)) return worker;
      candidates &= candidates - 1;
    }
  }
  return std::nullopt;
}

unsigned SleeperSet::parked(WakeGroup group) const {
  unsigned n = 0;
  for (std::size_t w = 0; w < words_; ++w) {
    // relaxed: a hint (see the callers).
    n += static_cast<unsigned>(std::popcount(bits_[w].load(std::memory_order_relaxed) &
                                             groups_[static_cast<unsigned>(group)][w]));
  }
  return n;
}

}  // namespace weft::detail
