// Explicit tasks: task, taskwait, taskgroup, taskyield, taskloop.
//
// A region's tasks are queued on its Team and run only by the team's own threads (at
// taskwait, taskgroup end, barriers, and while a member waits for anything else), so
// that omp_get_thread_num() and the ICVs inside a task are its team's. Rules kept
// conservative where the ABI allows:
// - Undeferred (run at once by the creating thread): if(false), inside a final task, in
//   a team of one (there is nobody else, and a program may exit without a barrier), and
//   a task with depend clauses, which first waits for all its siblings created so far:
//   a stricter order than any dependence graph asks for.
// - A task does not complete before its children have: the finishing thread waits for
//   them (as taskwait would), so a child never outlives its parent's record.
// Task priorities, untied and mergeable are hints we take as plain tasks.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "gomp/runtime.hpp"

namespace weft::gomp {

namespace {

constexpr unsigned flag_final = 1u << 1;
constexpr unsigned flag_depend = 1u << 3;
constexpr unsigned flag_up = 1u << 8;
constexpr unsigned flag_grainsize = 1u << 9;
constexpr unsigned flag_if = 1u << 10;
constexpr unsigned flag_nogroup = 1u << 11;
constexpr unsigned flag_reduction = 1u << 12;
constexpr unsigned flag_detach = 1u << 13;

std::align_val_t alignment(long arg_align) {
  return std::align_val_t(std::max<std::size_t>(static_cast<std::size_t>(std::max(arg_align, 1L)),
                                                alignof(std::max_align_t)));
}

// Runs `task` on this thread as the current task, then completes it.
void execute(ThreadState& ts, Task& task) {
  Task* const outer = ts.task;
  ts.task = &task;
  task.fn(task.data);
  // acquire: pairs with the children's release decrements.
  if (task.children.load(std::memory_order_acquire) != 0) {
    wait_until(ts, [&] { return task.children.load(std::memory_order_acquire) == 0; });
  }
  ts.task = outer;
}

void complete(ThreadState& ts, Task& task) {
  // acq_rel (each): the task's writes happen-before whoever sees the count reach 0.
  task.parent->children.fetch_sub(1, std::memory_order_acq_rel);
  if (task.group != nullptr) task.group->pending.fetch_sub(1, std::memory_order_acq_rel);
  ts.team->pending_tasks.fetch_sub(1, std::memory_order_acq_rel);
  if (ts.size > 1) ts.team->notify();
}

// Copies the task's data the way GOMP_task promises: cpyfn into a fresh block, else a
// byte copy. `fixup` adjusts the copy (taskloop writes its bounds into it).
template <class Fixup>
void* copy_args(void* data, void (*cpyfn)(void*, void*), long arg_size, long arg_align,
                Fixup fixup) {
  const std::size_t size = static_cast<std::size_t>(std::max(arg_size, 1L));
  void* block = ::operator new(size, alignment(arg_align));
  if (cpyfn != nullptr) {
    cpyfn(block, data);
  } else if (arg_size > 0) {
    std::memcpy(block, data, static_cast<std::size_t>(arg_size));
  }
  fixup(block);
  return block;
}

template <class Fixup>
void spawn(ThreadState& ts, void (*fn)(void*), void* data, void (*cpyfn)(void*, void*),
           long arg_size, long arg_align, bool deferred, bool final, Fixup fixup) {
  Task* const parent = ts.task;
  final = final || parent->final;
  if (!deferred || final || ts.size == 1) {
    // Undeferred: on this thread now, with its own copy of the data if asked for one.
    Task task;
    task.fn = fn;
    task.parent = parent;
    task.group = parent->group;
    task.final = final;
    task.icvs = parent->icvs;
    void* block = nullptr;
    if (cpyfn != nullptr || !std::is_same_v<Fixup, void (*)(void*)>) {
      block = copy_args(data, cpyfn, arg_size, arg_align, fixup);
      task.data = block;
    } else {
      task.data = data;
    }
    execute(ts, task);
    if (block != nullptr) ::operator delete(block, alignment(arg_align));
    return;
  }
  auto* task = new Task;
  task->fn = fn;
  task->data = copy_args(data, cpyfn, arg_size, arg_align, fixup);
  task->data_align = arg_align;
  task->parent = parent;
  task->group = parent->group;
  task->final = final;
  task->icvs = parent->icvs;
  // relaxed: the counts only need to be up before the task can finish, which the queue's
  // mutex orders (the task is published below, after them).
  parent->children.fetch_add(1, std::memory_order_relaxed);
  if (task->group != nullptr) task->group->pending.fetch_add(1, std::memory_order_relaxed);
  ts.team->pending_tasks.fetch_add(1, std::memory_order_relaxed);
  // relaxed: a hint for members leaving the region (region_end_barrier); the master's
  // end barrier waits for the tasks either way.
  if (!ts.team->tasks_queued.load(std::memory_order_relaxed)) {
    ts.team->tasks_queued.store(true, std::memory_order_relaxed);
  }
  {
    std::lock_guard<std::mutex> lock(ts.team->task_mutex);
    ts.team->tasks.push_back(task);
  }
  ts.team->notify();
}

void task_wait(ThreadState& ts) {
  Task& task = *ts.task;
  // acquire: pairs with complete()'s release decrement.
  wait_until(ts, [&] { return task.children.load(std::memory_order_acquire) == 0; });
}

}  // namespace

bool run_one_task(ThreadState& ts) {
  Team* const team = ts.team;
  // relaxed: a hint to skip the lock when nothing is queued or running.
  if (team->pending_tasks.load(std::memory_order_relaxed) == 0) return false;
  Task* task = nullptr;
  {
    std::lock_guard<std::mutex> lock(team->task_mutex);
    if (team->tasks.empty()) return false;
    task = team->tasks.back();  // newest first: its data is likeliest in cache
    team->tasks.pop_back();
  }
  execute(ts, *task);
  complete(ts, *task);
  ::operator delete(task->data, alignment(task->data_align));
  delete task;
  return true;
}

void task_group_start(ThreadState& ts) {
  auto* group = new TaskGroup;
  group->outer = ts.task->group;
  ts.task->group = group;
}

void task_group_end(ThreadState& ts) {
  TaskGroup* group = ts.task->group;
  if (group == nullptr) fatal("GOMP_taskgroup_end without GOMP_taskgroup_start");
  // acquire: pairs with complete()'s release decrement.
  wait_until(ts, [&] { return group->pending.load(std::memory_order_acquire) == 0; });
  ts.task->group = group->outer;
  delete group;
}

template <class T>
void taskloop(void (*fn)(void*), void* data, void (*cpyfn)(void*, void*), long arg_size,
              long arg_align, unsigned flags, unsigned long num_tasks, T start, T end, T step) {
  if ((flags & flag_reduction) != 0) fatal("GOMP_taskloop: reductions are not supported");
  ThreadState& ts = current();
  const bool up = std::is_signed_v<T> ? step > 0 : (flags & flag_up) != 0;
  using U = unsigned long long;
  const U ustep = up ? static_cast<U>(step) : U{0} - static_cast<U>(step);
  if (ustep == 0) fatal("GOMP_taskloop: step 0");
  const bool empty = up ? start >= end : start <= end;
  const U span = empty ? 0 : (up ? static_cast<U>(end) - static_cast<U>(start)
                                 : static_cast<U>(start) - static_cast<U>(end));
  const U count = span / ustep + (span % ustep != 0 ? 1 : 0);
  const bool group = (flags & flag_nogroup) == 0;
  if (group) task_group_start(ts);
  if (count > 0) {
    U tasks;
    if ((flags & flag_grainsize) != 0) {
      tasks = std::max<U>(1, num_tasks == 0 ? count : count / num_tasks);
    } else {
      tasks = num_tasks == 0 ? ts.size : num_tasks;
    }
    tasks = std::min<U>(tasks, count);
    const U q = count / tasks, r = count % tasks;
    U begin = 0;
    for (U i = 0; i < tasks; ++i) {
      const U n = q + (i < r ? 1 : 0);
      const T lo = static_cast<T>(static_cast<U>(start) + begin * static_cast<U>(step));
      const T hi = begin + n == count ? end
                                      : static_cast<T>(static_cast<U>(start) +
                                                       (begin + n) * static_cast<U>(step));
      begin += n;
      spawn(ts, fn, data, cpyfn, arg_size, arg_align, (flags & flag_if) != 0,
            (flags & flag_final) != 0, [lo, hi](void* block) {
              // GOMP_taskloop's contract: the first two words of the task's copy of the
              // data are its iteration bounds.
              static_cast<T*>(block)[0] = lo;
              static_cast<T*>(block)[1] = hi;
            });
    }
  }
  if (group) task_group_end(ts);
}

}  // namespace weft::gomp

using weft::gomp::current;

extern "C" {

void GOMP_task(void (*fn)(void*), void* data, void (*cpyfn)(void*, void*), long arg_size,
               long arg_align, bool if_clause, unsigned flags, void** depend, int /*priority*/,
               void* detach) {
  using namespace weft::gomp;
  if ((flags & flag_detach) != 0 || detach != nullptr) {
    fatal("GOMP_task: detach is not supported");
  }
  ThreadState& ts = current();
  bool deferred = if_clause;
  if ((flags & flag_depend) != 0 && depend != nullptr) {
    task_wait(ts);  // every sibling created before it is done: its dependences hold
    deferred = false;
  }
  spawn(ts, fn, data, cpyfn, arg_size, arg_align, deferred, (flags & flag_final) != 0,
        static_cast<void (*)(void*)>([](void*) {}));
}

void GOMP_taskwait(void) { weft::gomp::task_wait(current()); }

void GOMP_taskyield(void) {
  // A hint: run one queued task if there is one.
  weft::gomp::ThreadState& ts = current();
  weft::gomp::run_one_task(ts);
}

void GOMP_taskgroup_start(void) { weft::gomp::task_group_start(current()); }
void GOMP_taskgroup_end(void) { weft::gomp::task_group_end(current()); }

void GOMP_taskloop(void (*fn)(void*), void* data, void (*cpyfn)(void*, void*), long arg_size,
                   long arg_align, unsigned flags, unsigned long num_tasks, int /*priority*/,
                   long start, long end, long step) {
  weft::gomp::taskloop<long>(fn, data, cpyfn, arg_size, arg_align, flags, num_tasks, start, end,
                             step);
}

void GOMP_taskloop_ull(void (*fn)(void*), void* data, void (*cpyfn)(void*, void*), long arg_size,
                       long arg_align, unsigned flags, unsigned long num_tasks, int /*priority*/,
                       unsigned long long start, unsigned long long end,
                       unsigned long long step) {
  weft::gomp::taskloop<unsigned long long>(fn, data, cpyfn, arg_size, arg_align, flags,
                                           num_tasks, start, end, step);
}

int omp_in_final(void) { return current().task->final ? 1 : 0; }

}  // extern "C"
