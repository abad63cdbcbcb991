#include "sched/sleeper_set.hpp"

#include <bit>

namespace weft::detail {

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

}  // namespace weft::detail
