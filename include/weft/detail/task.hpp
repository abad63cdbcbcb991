// The type-erased task: one 128-byte block holding the callable's captures inline.
//
// A block is both the queued unit of work and, for submit(), the Future's shared state:
// after the callable runs, its result replaces it in the same storage. Blocks are
// recycled through thread-local free lists (src/sched/task_pool.cpp): allocate_task()
// pops from the calling thread's list, and free_task() pushes onto the list of the
// thread that drops the block's last reference, which need not be the thread that
// allocated it. Each list keeps at most 4096 blocks; beyond that a freed block goes
// back to operator delete. So steady-state submit and TaskGroup::run do not call
// malloc as long as blocks are freed on the threads that allocate them (a worker's own
// spawns, a Future's block freed by the thread that called get()); an external thread
// that submits fire-and-forget tasks, which workers run and free, gets a new block
// from operator new each time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "weft/detail/wait.hpp"
#include "weft/export.hpp"

namespace weft::detail {

// Bytes of captures (or of a result) stored inline in a task block. A callable or result
// that is larger, or needs more than 16-byte alignment, is moved to the heap instead.
inline constexpr std::size_t task_inline_size = 64;
inline constexpr std::size_t task_inline_align = 16;

struct Task;

enum class TaskOp : unsigned char {
  run,      // run the callable (or skip it when cancelled) and signal completion
  destroy,  // the last reference is gone: destroy a stored result
  discard,  // the task never got queued (submit raised): destroy the callable
};
using TaskFn = void (*)(Task*, TaskOp) noexcept;

// Who runs a queued task. See SchedulerCore::execute and run_ahead.
enum class TaskClaim : std::uint8_t {
  open,    // whoever dequeues it
  taken,   // a waiter on its Future ran it ahead of the queue (priority boosting); the
           // dequeuer then only drops the queue's reference
  strict,  // never run by a waiter, only dequeued (TaskOptions::strict)
};

struct alignas(64) Task {
  TaskFn fn = nullptr;
  Task* next = nullptr;              // links in overflow lists and the free list
  std::atomic<std::uint32_t> refs{1};  // the queue's reference, plus a Future's
  std::uint8_t has_result = 0;       // a result lives in storage (set by the runner)
  std::uint8_t level = 0;            // its Priority (set by enqueue), for traces
  std::atomic<TaskClaim> claimed{TaskClaim::open};  // who runs it (TaskClaim)
  WaitState completion;              // a Future's: pending 1 until the task ran
  std::exception_ptr error;          // a Future's: what the callable threw
  void* owner = nullptr;             // a TaskGroup task's group state
  const char* name = nullptr;        // TaskOptions::name (set by enqueue), for traces
  alignas(task_inline_align) unsigned char storage[task_inline_size];

  template <class T>
  static constexpr bool fits_inline =
      sizeof(T) <= task_inline_size && alignof(T) <= task_inline_align &&
      std::is_nothrow_move_constructible_v<T>;

  // Constructs a T in storage, or on the heap with a pointer in storage.
  template <class T, class... Args>
  void emplace(Args&&... args) {
    if constexpr (fits_inline<T>) {
      ::new (static_cast<void*>(storage)) T(std::forward<Args>(args)...);
    } else {
      ::new (static_cast<void*>(storage)) T*(new T(std::forward<Args>(args)...));
    }
  }
  template <class T>
  T& get() noexcept {
    if constexpr (fits_inline<T>) {
      return *std::launder(reinterpret_cast<T*>(storage));
    } else {
      return **std::launder(reinterpret_cast<T**>(storage));
    }
  }
  template <class T>
  void destroy() noexcept {
    if constexpr (fits_inline<T>) {
      get<T>().~T();
    } else {
      delete *std::launder(reinterpret_cast<T**>(storage));
    }
  }
};
static_assert(sizeof(Task) == 128, "a task block is two cache lines");

// A block from the calling thread's free list (malloc only when the list is empty).
WEFT_EXPORT Task* allocate_task();
// Returns a block (whose contents are already destroyed) to the calling thread's list,
// or to operator delete when that list already holds 4096 blocks.
WEFT_EXPORT void free_task(Task* task) noexcept;

// A fresh block holding a copy of `f` (moved in). If that throws, the block goes back to
// the free list and the exception propagates: nothing was queued.
template <class Fn, class F>
Task* make_task(F&& f) {
  Task* task = ::new (static_cast<void*>(allocate_task())) Task;
  try {
    task->emplace<Fn>(std::forward<F>(f));
  } catch (...) {
    task->~Task();
    free_task(task);
    throw;
  }
  return task;
}

// Undoes make_task for a block that never got queued (enqueue raised): destroys the
// callable and returns the block to the free list.
inline void discard_task(Task* task) noexcept {
  task->fn(task, TaskOp::discard);
  task->~Task();
  free_task(task);
}

// Drops one reference; the last one destroys a stored result and frees the block.
inline void release_task(Task* task) noexcept {
  // acq_rel: the last releaser must see every write made through other references
  // (the result written by the runner) before destroying; release publishes ours.
  if (task->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    task->fn(task, TaskOp::destroy);
    task->~Task();
    free_task(task);
  }
}

}  // namespace weft::detail
