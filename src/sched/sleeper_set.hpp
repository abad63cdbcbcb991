// SleeperSet: which workers are parked (or about to park), as one bit each, and the
// sets of workers a waker may pick from. The parking protocol that uses it is written
// down at the head of scheduler_core.cpp; this class holds its bits and nothing else.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

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

  // Step 2-3 of the protocol: the bit, then a seq_cst fence.
  void announce(unsigned worker);
  // Step 6: a stale bit only costs a waker a wasted unpark.
  void withdraw(unsigned worker);
  // Claims `worker`'s bit; true if this caller cleared it (it then must unpark it).
  bool claim(unsigned worker);
  // Claims the bit of some parked worker of `group`, or returns nothing.
  std::optional<unsigned> claim_one(WakeGroup group);
  // Workers of `group` whose bit is set now (a hint).
  unsigned parked(WakeGroup group) const;

 private:
  std::size_t words_;
  // Bit i set: worker i is parked (or about to) and may be woken by claiming the bit.
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
  // Per group, per word: the workers in the group.
  std::unique_ptr<std::uint64_t[]> groups_[num_wake_groups];
};

}  // namespace weft::detail
