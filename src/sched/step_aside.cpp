// Unbound workers and their callers' CPUs: a worker woken onto its inviter's CPU moves
// away from it (step_aside), and a caller about to sleep at a loop's join moves the
// workers still in its loop onto its own CPU (pull_stragglers).
//
// A loop's caller runs its own share while its invited workers run theirs; a team's
// members run at the same time by definition. Both need the worker on another CPU than
// the caller. Unbound (Config::pinning none, the default on a machine the process does
// not own), the kernel decides, and it often decides wrong: a wake-up from the caller's
// CPU puts the worker beside the caller, and the load balancer leaves two threads that
// take turns (one waits while the other runs, so at a tick only one is runnable) where
// they are, while the other CPU idles. Measured with `perf sched timehist`: PyTorch
// serving batch-1 requests through libweft_gomp ran the caller 1557 ms and the worker
// 1039 ms on CPU 1 against 311 and 371 ms on CPU 0, which idled 3294 ms of 9 s; requests
// whose caller and worker shared a CPU took 25-60 ms instead of 1.5 ms. Next to a
// process pinned to one core, the worker sat beside the caller and left the other core
// to that process (docs/elastic.md).
//
// So a worker that starts a loop part or a team member on the CPU its caller posted
// from takes that CPU out of its affinity mask and puts the mask back at once: the
// first call makes the kernel move it now (to an allowed CPU of its choosing), the
// second leaves the kernel free to place it anywhere later. Two system calls, only when
// stacked, and at most once a millisecond per worker, so a kernel that keeps putting it
// back cannot make it bounce on every loop. Bound workers are where the placement put
// them and are left alone (caller_cpu_for_invitations returns -1 for them).
//
// The pull is the converse, for a worker the kernel preempted for another process while
// it holds a chunk: the caller's sleep at the join leaves the caller's CPU idle, but the
// kernel's idle balancing skips a CPU whose average idle time is short and will not
// take a task that ran within the last half millisecond, so the worker waits out the
// other process's time slice (perf sched: a loop's caller CPU idle 894 ms of ~2.8 s next
// to a CPU hog). The caller, having slept 100 us more, moves it itself.
//
// Only one thread changes a worker's mask at a time (Worker::moving): the worker's own
// step aside and a caller's pull both save and restore the mask, and interleaved they
// could leave it narrowed.
#include <sched.h>

#include "observe/clock.hpp"
#include "sched/scheduler_core.hpp"

namespace weft::detail {

namespace {
constexpr std::uint64_t step_aside_interval_ns = 1'000'000;
}  // namespace

int SchedulerCore::caller_cpu_for_invitations() const {
  return unbound_workers_ ? sched_getcpu() : -1;  // glibc reads the rseq area: no system call
}

void SchedulerCore::step_aside(Worker& self, int caller_cpu) {
  if (self.bound || self.background || sched_getcpu() != caller_cpu) return;
  const std::uint64_t now = now_ns();
  if (now - self.last_step_aside_ns < step_aside_interval_ns) return;
  // acquire: after a pull's release of the flag, its restored mask is what we read.
  if (self.moving.exchange(true, std::memory_order_acquire)) return;  // a caller pulls it
  self.last_step_aside_ns = now;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    cpu_set_t elsewhere = allowed;
    CPU_CLR(caller_cpu, &elsewhere);
    // Empty: the caller's CPU is the only one we may use.
    if (CPU_COUNT(&elsewhere) > 0 && sched_setaffinity(0, sizeof(elsewhere), &elsewhere) == 0) {
      sched_setaffinity(0, sizeof(allowed), &allowed);
      if (self.obs != nullptr) self.obs->stepped_aside();
    }
  }
  self.moving.store(false, std::memory_order_release);
}

void SchedulerCore::pull_stragglers(const LoopControl& control) {
  const int here = sched_getcpu();
  if (here < 0) return;
  for (auto& wp : workers_) {
    Worker& w = *wp;
    if (w.bound || w.background) continue;
    if (w.running_loop.load(std::memory_order_relaxed) != &control) continue;
    if (w.moving.exchange(true, std::memory_order_acquire)) continue;  // it steps aside
    const pid_t tid = w.tid.load(std::memory_order_relaxed);
    cpu_set_t allowed;
    if (tid > 0 && sched_getaffinity(tid, sizeof(allowed), &allowed) == 0 &&
        CPU_ISSET(here, &allowed)) {
      cpu_set_t only_here;
      CPU_ZERO(&only_here);
      CPU_SET(here, &only_here);
      // The first call moves it now (a running thread too: it then finishes its part
      // here, on a CPU this thread leaves idle); the second lets it go anywhere again.
      if (sched_setaffinity(tid, sizeof(only_here), &only_here) == 0) {
        sched_setaffinity(tid, sizeof(allowed), &allowed);
        // Counted on the worker's counters by this thread: `moving` makes it the one writer.
        if (w.obs != nullptr) w.obs->pulled();
      }
    }
    w.moving.store(false, std::memory_order_release);
  }
}

}  // namespace weft::detail
