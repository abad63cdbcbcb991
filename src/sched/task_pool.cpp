// Task blocks: a per-thread free list, so steady-state submit does not call malloc.
//
// A block returns to the list of the thread that drops its last reference. Most blocks
// come back where they were made (a worker's spawns run on it or a thief returns them
// on the thief's own later spawns; a Future's block is freed by the thread that called
// get()). A thread that only frees (fire-and-forget submits from one external thread,
// run by workers) keeps up to `max_cached` blocks and hands the rest back to malloc.
#include <cstddef>
#include <new>

#include "weft/detail/task.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t max_cached = 4096;  // 512 KiB of blocks per thread at most

// A freed block's memory, reused as a list node (the Task in it is already destroyed).
struct FreeNode {
  FreeNode* next;
};

struct FreeList {
  FreeNode* head = nullptr;
  std::size_t count = 0;
  FreeList() = default;
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;
  ~FreeList() {
    while (head != nullptr) {
      FreeNode* next = head->next;
      ::operator delete(static_cast<void*>(head), std::align_val_t{alignof(Task)});
      head = next;
    }
  }
};

thread_local FreeList free_list;

}  // namespace

Task* allocate_task() {
  FreeList& list = free_list;
  if (FreeNode* node = list.head) {
    list.head = node->next;
    --list.count;
    node->~FreeNode();
    return reinterpret_cast<Task*>(node);
  }
  return static_cast<Task*>(::operator new(sizeof(Task), std::align_val_t{alignof(Task)}));
}

void free_task(Task* task) noexcept {
  FreeList& list = free_list;
  if (list.count >= max_cached) {
    ::operator delete(static_cast<void*>(task), std::align_val_t{alignof(Task)});
    return;
  }
  list.head = ::new (static_cast<void*>(task)) FreeNode{list.head};
  ++list.count;
}

}  // namespace weft::detail
