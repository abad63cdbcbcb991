// A thread that declares itself low (weft_set_thread_priority(0)) runs at the OS's idle
// class, like the background workers that run its regions' other members.
//
// Why: the thread that starts an OpenMP region is member 0 of its team and runs its
// share itself (its thread-local state, omp_get_thread_num() == 0), so unlike a low weft
// loop it cannot hand the region to the background workers and sleep. At the normal
// class it then takes a CPU from an urgent team: measured with PyTorch (two models in one
// process, BLIS; docs/weft-run.md), the batch thread's regions, ~10 ms each, left the
// critical model's team one CPU for every request that met one, and A's p99 beside B was
// 8-9 ms against 2.4 ms alone. With the batch thread at the idle class, 1.5-1.7 ms in
// four runs of five (4.3 ms in the fifth).
//
// Only where low work runs at the idle class at all (background workers on: not next to
// OpenBLAS's OpenMP build, whose spinning buffer makes that an inversion, blas_probe.cpp;
// not with WEFT_BACKGROUND_WORKERS=0), only for threads weft did not create (workers keep
// their own class), and only from SCHED_OTHER or SCHED_BATCH (a real-time thread was put
// there on purpose). A PriorityScope changes nothing here: it is a scope, and leaving the
// idle class is not free (below).
//
// Raising the thread's level restores its policy. The kernel allows that only with
// CAP_SYS_NICE or RLIMIT_NICE >= 20 (it counts SCHED_IDLE as nice 20); without them the
// thread stays at the idle class, its regions run at the level asked for, and this says
// so once per thread.
//
// Threads inherit their creator's class, and an idle-class thread cannot start a
// normal-class one. A low thread does create process-wide threads: PyTorch recreates its
// pthreadpool (caffe2::pthreadpool(), weft's pthreadpool under weft-run) from every
// thread's first parallel operator, so the pool's workers took the class of whichever
// thread came last, a low one included. So before the first thread moves to the idle
// class, this starts one thread that stays at the normal class and starts threads for
// the others: weft_run_at_normal_class (exported), which libweft_pthreadpool's
// pthreadpool_create calls from an idle-class thread. It waits on a condition variable
// and costs nothing else. After fork the child has no such thread (the flag below is
// reset): a pool created there by an idle-class thread gets idle-class workers.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "gomp/runtime.hpp"
#include "weft/scheduler.hpp"

namespace weft::gomp {

namespace {
struct ThreadClass {
  bool idle = false;         // this file moved the thread to SCHED_IDLE
  int policy = SCHED_OTHER;  // the policy it had, to go back to
  int reset_on_fork = 0;     // SCHED_RESET_ON_FORK as it was
  bool told = false;         // the "stays idle" line was printed
};
thread_local ThreadClass tls_class;

// The normal-class thread that runs jobs for idle-class threads, one job at a time.
class NormalClassRunner {
 public:
  NormalClassRunner() {
    std::thread([this] { serve(); }).detach();  // lives as long as the process
  }
  void run(void (*fn)(void*), void* arg) {
    std::unique_lock<std::mutex> caller(turn_);  // one job at a time
    std::unique_lock<std::mutex> lock(mutex_);
    fn_ = fn;
    arg_ = arg;
    done_ = false;
    changed_.notify_all();
    changed_.wait(lock, [this] { return done_; });
  }

 private:
  void serve() {
    pthread_setname_np(pthread_self(), "weft-normal");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return fn_ != nullptr; });
      void (*const fn)(void*) = fn_;
      void* const arg = arg_;
      lock.unlock();
      fn(arg);
      lock.lock();
      fn_ = nullptr;
      done_ = true;
      changed_.notify_all();
    }
  }
  std::mutex turn_;
  std::mutex mutex_;
  std::condition_variable changed_;
  void (*fn_)(void*) = nullptr;
  void* arg_ = nullptr;
  bool done_ = false;
};

std::mutex runner_mutex;
NormalClassRunner* runner = nullptr;  // never freed: its thread runs until exit

// Called by the first thread about to move to the idle class, still at the normal class.
void start_runner() {
  std::lock_guard<std::mutex> lock(runner_mutex);
  if (runner != nullptr) return;
  static bool registered = false;
  if (!registered) {
    registered = true;
    // The child of a fork has the object but not its thread: forget it there (leaked).
    // runner_mutex is held across the fork, so the child's copy is not held by a thread
    // it does not have (the child runs its handler on the forking thread).
    pthread_atfork([] { runner_mutex.lock(); }, [] { runner_mutex.unlock(); },
                   [] {
                     runner = nullptr;
                     runner_mutex.unlock();
                   });
  }
  runner = new NormalClassRunner;
}

void to_idle(ThreadClass& c) {
  const int current = sched_getscheduler(0);
  if (current < 0) return;
  const int policy = current & ~SCHED_RESET_ON_FORK;
  if (policy != SCHED_OTHER && policy != SCHED_BATCH) return;
  start_runner();
  sched_param param{};
  if (sched_setscheduler(0, SCHED_IDLE | (current & SCHED_RESET_ON_FORK), &param) != 0) return;
  c.idle = true;
  c.policy = policy;
  c.reset_on_fork = current & SCHED_RESET_ON_FORK;
}

void from_idle(ThreadClass& c, int level) {
  sched_param param{};
  if (sched_setscheduler(0, c.policy | c.reset_on_fork, &param) == 0) {
    c.idle = false;
    return;
  }
  const int error = errno;
  if (c.told) return;
  c.told = true;
  rlimit nice{};
  getrlimit(RLIMIT_NICE, &nice);
  std::fprintf(stderr,
               "libweft_gomp: weft_set_thread_priority(%d): this thread stays at the OS's idle "
               "class (SCHED_IDLE), which it took as a low thread: leaving it needs "
               "CAP_SYS_NICE or RLIMIT_NICE >= 20 (it is %lld; %s). Give low work a thread of "
               "its own, or set WEFT_BACKGROUND_WORKERS=0 to keep low threads at the normal "
               "class\n",
               level, static_cast<long long>(nice.rlim_cur), std::strerror(error));
}
}  // namespace

void follow_level_at_os(unsigned level) {
  ThreadClass& c = tls_class;
  if (level == static_cast<unsigned>(Priority::low)) {
    if (c.idle) return;
    Scheduler& scheduler = default_scheduler();
    if (scheduler.current_worker() >= 0 || scheduler.background_workers() == 0) return;
    to_idle(c);
  } else if (c.idle) {
    from_idle(c, static_cast<int>(level));
  }
}

}  // namespace weft::gomp

extern "C" int weft_run_at_normal_class(void (*fn)(void*), void* arg) {
  if (fn == nullptr) return 0;
  weft::gomp::NormalClassRunner* target = nullptr;
  {
    std::lock_guard<std::mutex> lock(weft::gomp::runner_mutex);
    target = weft::gomp::runner;
  }
  if (target == nullptr) return 0;
  target->run(fn, arg);
  return 1;
}
