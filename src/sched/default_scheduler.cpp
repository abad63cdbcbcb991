// weft::default_scheduler() and what happens to it across fork().
//
// Created on first use from Config::from_env(). It is never destroyed (its workers may
// be running tasks while static destructors run at exit; joining them there could
// deadlock), so tasks still queued when the process exits do not run.
//
// fork(): only the forking thread exists in the child, so the parent's workers are
// gone. A pthread_atfork child handler forgets the default scheduler (its object is
// leaked in the child: destroying it would join threads that do not exist) and the
// next default_scheduler() call in the child builds a fresh one. Other Scheduler
// objects are unusable in a child; do not touch them there.
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <new>

#include "sched/scheduler_core.hpp"
#include "weft/scheduler.hpp"

namespace weft {

namespace {

std::atomic<Scheduler*> default_instance{nullptr};
std::mutex default_mutex;  // taken only to create, and around fork()

void before_fork() { default_mutex.lock(); }
void after_fork_in_parent() { default_mutex.unlock(); }
void after_fork_in_child() {
  // The forking thread held the mutex across fork(), so no creation is half done.
  default_instance.store(nullptr, std::memory_order_relaxed);  // leak: its threads are gone
  detail::this_thread_context() = detail::ThreadContext{};
  default_mutex.unlock();
}

}  // namespace

Scheduler& default_scheduler() {
  // acquire: pairs with the release below, so the scheduler is fully built.
  if (Scheduler* s = default_instance.load(std::memory_order_acquire)) return *s;
  static std::once_flag atfork_once;
  std::call_once(atfork_once,
                 [] { pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child); });
  std::lock_guard<std::mutex> lock(default_mutex);
  Scheduler* s = default_instance.load(std::memory_order_relaxed);  // relaxed: under the mutex
  if (s == nullptr) {
    s = new Scheduler(Config::from_env());
    default_instance.store(s, std::memory_order_release);
  }
  return *s;
}

}  // namespace weft
