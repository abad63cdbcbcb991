// Wait depth: how a waiting thread's stack stays bounded, and who does its helping then.
//
// Waiting helps: Future::get and TaskGroup::wait run queued tasks on the waiting
// thread's own stack (wait.cpp). A chain in which task k submits task k+1 and waits on
// it therefore nests one set of frames (wait_on, execute, the task, its wait) per link
// on one stack, and a chain of a few thousand links (ASan) or tens of thousands
// (release) would overflow a worker's stack.
//
// The rule: a thread runs a task inline only while fewer than max_inline_depth tasks
// are nested on its stack (ThreadContext::depth, counted by execute and run_ahead) and
// less than half of its stack is used (checked against the bounds pthread reports, for
// workers and for threads weft did not create alike; the task being started needs room
// of its own). A wait that may not nest (must_not_nest) blocks instead, without
// running anything, and hands its helping to a spare thread:
//
//   - Progress. A blocked thread takes no work, so the work it would have run must
//     still find a thread: the spare runs exactly the wait loop the blocked thread
//     would have (Future's task first if still queued, then anything it can take, as an
//     external thread does), on a fresh stack of its own, until the awaited thing is
//     done, and only then lets the blocked thread return. So every blocked waiter is
//     replaced by one running helper: even when every worker is blocked deep (one
//     worker, a chain of 100000), the chain goes on, one spare per max_inline_depth
//     links, and unwinds as each link finishes.
//   - Why not just run the awaited task only? In a chain, that task is the next link:
//     running it inline nests exactly as deep. Only a fresh stack bounds the depth.
//   - Why not a fibre (switching this thread to a new stack)? It would keep the thread
//     count, but break sanitizers' and debuggers' view of the stack and thread-locals
//     that user code keeps per thread. A thread costs microseconds once per
//     max_inline_depth links; idle spares are kept for reuse (up to max_idle_spares).
//   - Strict tasks (TaskOptions::strict) queued for a worker blocked this way wait for
//     that worker, as they wait for it while it runs any long task; a spare takes them
//     only for a thread that drains at shutdown (DeepWait::draining).
//   - If no thread can be started, the waiter keeps helping on its own stack (as before
//     this rule existed) and says so once on stderr.
//
// The limit: measured per link on x86-64 with gcc 12 (the chains of
// tests/sched/sched_depth_test.cpp, minimal tasks): 368 bytes (Future) and 640 bytes
// (TaskGroup) in release, 1632 and 3168 bytes under ASan. 1024 links of the costlier
// kind take 3.1 MiB under ASan (640 KiB in release), under half of the 8 MiB stack weft
// gives its threads; the other half is left to the tasks' own frames. A task with big
// frames reaches half the stack sooner, and the stack check then stops the nesting.
#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "sched/cpu_relax.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {

constexpr std::size_t default_stack_size = std::size_t{8} << 20;
// Spares left idle after their wait ended stay for the next deep wait, up to this many;
// more leave (a deep chain that needed 100 of them should not keep 100 stacks).
constexpr unsigned max_idle_spares = 4;

// This thread's stack as pthread reports it (the main thread's too); size 0: unknown.
struct StackBounds {
  std::uintptr_t low = 0;
  std::size_t size = 0;
  bool probed = false;
};
thread_local StackBounds tls_stack;

const StackBounds& this_thread_stack() {
  StackBounds& stack = tls_stack;
  if (!stack.probed) {
    // Once per thread (for the main thread glibc reads /proc/self/maps).
    stack.probed = true;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* low = nullptr;
      std::size_t size = 0;
      if (pthread_attr_getstack(&attr, &low, &size) == 0) {
        stack.low = reinterpret_cast<std::uintptr_t>(low);
        stack.size = size;
      }
      pthread_attr_destroy(&attr);
    }
  }
  return stack;
}

}  // namespace

std::size_t thread_stack_size() {
  static const std::size_t size = [] {
    std::size_t bytes = default_stack_size;
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
      std::size_t process_default = 0;
      if (pthread_attr_getstacksize(&attr, &process_default) == 0 && process_default > bytes)
        bytes = process_default;
      pthread_attr_destroy(&attr);
    }
    return bytes;
  }();
  return size;
}

int start_thread(pthread_t& thread, void* (*entry)(void*), void* arg) {
  pthread_attr_t attr;
  int error = pthread_attr_init(&attr);
  if (error != 0) return error;
  error = pthread_attr_setstacksize(&attr, thread_stack_size());
  if (error == 0) error = pthread_create(&thread, &attr, entry, arg);
  pthread_attr_destroy(&attr);
  return error;
}

bool SchedulerCore::must_not_nest(const ThreadContext& context) const {
  if (context.depth >= max_inline_depth) return true;
  const StackBounds& stack = this_thread_stack();
  if (stack.size == 0) return false;  // unknown bounds: the depth alone decides
  const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  // Outside the bounds (an alternate signal stack, a user's fibre): the depth decides.
  if (here < stack.low || here - stack.low > stack.size) return false;
  // Stacks grow down: what is left lies between `here` and `low`.
  return here - stack.low < stack.size / 2;
}

bool SchedulerCore::wait_deep(WaitState& state, Task* ahead) {
  // A short spin first: what we wait for may be finishing on another thread, and a
  // hand-over costs a wake-up (or a thread start).
  for (unsigned round = 0; round < 64; ++round) {
    if (state.done()) return true;
    cpu_relax();
  }
  ThreadContext& context = this_thread_context();
  DeepWait wait;
  wait.state = &state;
  wait.ahead = ahead;
  wait.level = context.level;
  wait.draining = context.core == this && context.draining;
  wait.handed_back.add(1);
  if (!hand_over(wait)) return false;
  // Block without helping: nothing more goes onto this stack. Woken by the spare's
  // finish_one (Parker::done); a `work` wake-up of a worker's parker just loops.
  Parker& parker = this_thread_parker();
  while (!wait.handed_back.done()) {
    parker.prepare();
    if (!wait.handed_back.register_waiter(parker)) break;
    if (!wait.handed_back.done()) parker.park();
    wait.handed_back.unregister_waiter(parker);
  }
  return true;
}

bool SchedulerCore::hand_over(DeepWait& wait) {
  std::vector<pthread_t> exited;
  int error = 0;
  {
    std::lock_guard<std::mutex> lock(spares_.mutex);
    if (spares_.stop) return false;  // shut down: nobody would take it
    exited.swap(spares_.exited);
    spares_.waits.push_back(&wait);
    // Each idle spare takes one handed-over wait; start one more if they are too few.
    if (spares_.waits.size() <= spares_.idle) {
      spares_.cv.notify_one();
    } else {
      pthread_t thread;
      error = start_thread(thread, &SchedulerCore::spare_entry, this);
      if (error == 0) {
        spares_.running.push_back(thread);
      } else {
        spares_.waits.pop_back();  // ours: nobody else pops while we hold the lock
      }
    }
  }
  // Spares that left on their own are joined here, off their lock.
  for (pthread_t thread : exited) pthread_join(thread, nullptr);
  if (error != 0) {
    static std::atomic<bool> reported{false};
    if (!reported.exchange(true, std::memory_order_relaxed)) {  // relaxed: once per process
      std::fprintf(stderr,
                   "weft: a wait nested %u tasks deep could not start a spare thread (%s); "
                   "it keeps running tasks on its own stack\n",
                   this_thread_context().depth, std::strerror(error));
    }
    return false;
  }
  return true;
}

void* SchedulerCore::spare_entry(void* core) {
  pthread_setname_np(pthread_self(), "weft-spare");
  static_cast<SchedulerCore*>(core)->spare_main();
  return nullptr;
}

void SchedulerCore::spare_main() {
  std::unique_lock<std::mutex> lock(spares_.mutex);
  for (;;) {
    ++spares_.idle;
    spares_.cv.wait(lock, [this] { return !spares_.waits.empty() || spares_.stop; });
    --spares_.idle;
    if (spares_.waits.empty()) return;  // stopped: stop_spares joins us
    DeepWait* wait = spares_.waits.front();
    spares_.waits.erase(spares_.waits.begin());
    lock.unlock();
    help_deep_wait(*wait);
    lock.lock();
    if (!spares_.stop && spares_.idle >= max_idle_spares) {
      // Enough spares wait already: leave; the next hand-over (or stop_spares) joins us.
      const pthread_t self = pthread_self();
      for (auto it = spares_.running.begin(); it != spares_.running.end(); ++it) {
        if (pthread_equal(*it, self)) {
          spares_.running.erase(it);
          break;
        }
      }
      spares_.exited.push_back(self);
      return;
    }
  }
}

void SchedulerCore::help_deep_wait(DeepWait& wait) {
  // The blocked thread's wait, from the top of a fresh stack: an external thread of
  // this scheduler (its spawns go to a borrowed slot), at the blocked thread's level.
  ThreadContext& context = this_thread_context();
  context = ThreadContext{this, nullptr, nullptr, wait.draining};
  context.level = wait.level;
  if (wait.ahead != nullptr) run_ahead(wait.ahead);  // a Future's task, if still queued
  if (!wait.state->done()) wait_on(*wait.state);
  // release: the next borrower's acquire sees our deque operations (as in wait.cpp).
  if (context.slot != nullptr) context.slot->in_use.store(false, std::memory_order_release);
  context = ThreadContext{};
  wait.handed_back.finish_one();  // the blocked thread may return now: `wait` is gone
}

void SchedulerCore::stop_spares() {
  std::vector<pthread_t> threads;
  {
    std::lock_guard<std::mutex> lock(spares_.mutex);
    spares_.stop = true;
    threads.swap(spares_.running);
    threads.insert(threads.end(), spares_.exited.begin(), spares_.exited.end());
    spares_.exited.clear();
    spares_.cv.notify_all();
  }
  for (pthread_t thread : threads) pthread_join(thread, nullptr);
}

}  // namespace weft::detail
