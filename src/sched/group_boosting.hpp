// A TaskGroup's record for priority boosting (priority.cpp): where its home worker
// queued its tasks, whether anyone else did, and the level a waiter raised it to. It
// lives in GroupState::boosting, opaque bytes in the public header, so that changing
// it does not change weft's ABI; set_group_home constructs it when the group is made.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <type_traits>

#include "weft/task_group.hpp"

namespace weft::detail {

struct GroupBoosting {
  // The worker that made the group (-1: none); the tasks it queues land on its own
  // deques.
  int home = -1;
  // Some task of the group was queued anywhere but home's deques.
  std::atomic<bool> foreign{false};
  // 0, or 1 + the level a waiter raised the group to (tasks queued meanwhile get at
  // least that level).
  std::atomic<unsigned> boost{0};
  // Home's thread only: per level (bit l of marked_levels set), the lowest position of
  // home's deque at that level that holds one of the group's tasks.
  unsigned marked_levels = 0;
  std::int64_t home_mark[num_priorities];

  std::int64_t mark(unsigned level) const noexcept {
    return (marked_levels >> level) & 1u ? home_mark[level] : -1;
  }
  // After a wait, before reuse. relaxed: only the waiting thread touches an idle group.
  void forget_placement() noexcept {
    marked_levels = 0;
    foreign.store(false, std::memory_order_relaxed);
  }
};

// GroupState::boosting is group_boosting_bytes, aligned to 8.
static_assert(sizeof(GroupBoosting) <= group_boosting_bytes && alignof(GroupBoosting) <= 8,
              "GroupState::boosting must hold a GroupBoosting");
// Never destroyed: GroupState's destructor knows nothing of it.
static_assert(std::is_trivially_destructible_v<GroupBoosting>);

inline GroupBoosting& boosting_of(GroupState& group) noexcept {
  return *std::launder(reinterpret_cast<GroupBoosting*>(group.boosting));
}
inline const GroupBoosting& boosting_of(const GroupState& group) noexcept {
  return *std::launder(reinterpret_cast<const GroupBoosting*>(group.boosting));
}

}  // namespace weft::detail
