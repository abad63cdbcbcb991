// The omp_* user API (the ones that are not locks, tasks or devices) and weft's own
// weft_set_thread_priority / weft_get_thread_priority.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "gomp/runtime.hpp"
#include "weft/options.hpp"
#include "weft/scheduler.hpp"

using weft::gomp::current;
using weft::gomp::ThreadState;

namespace {

// The state of the team at nesting `level` on the path to the calling thread, or null.
const ThreadState* at_level(int level) {
  const ThreadState* ts = &current();
  if (level < 0 || level > static_cast<int>(ts->level)) return nullptr;
  while (ts != nullptr && static_cast<int>(ts->level) > level) ts = ts->parent;
  return ts;
}

// Places: weft's threads, when they are pinned. Place 0 is the calling thread's core
// (Placement::caller_cpus), place k the k-th worker's cpus.
const std::vector<unsigned>* place_cpus(int place) {
  const weft::Placement& p = weft::default_scheduler().placement();
  if (place == 0) return &p.caller_cpus;
  if (place > 0 && static_cast<std::size_t>(place) <= p.workers.size()) {
    return &p.workers[static_cast<std::size_t>(place) - 1].cpus;
  }
  return nullptr;
}

int num_places() {
  weft::gomp::settings();
  const weft::Placement& p = weft::default_scheduler().placement();
  // Unpinned workers are on no place (libgomp: 0 places without OMP_PLACES/binding).
  if (p.workers.empty() || p.workers[0].cpus.empty()) return 0;
  return static_cast<int>(p.workers.size() + 1);
}

}  // namespace

extern "C" {

int omp_get_num_threads(void) { return static_cast<int>(current().size); }
int omp_get_thread_num(void) { return static_cast<int>(current().num); }
int omp_in_parallel(void) { return current().active_level > 0 ? 1 : 0; }
int omp_get_level(void) { return static_cast<int>(current().level); }
int omp_get_active_level(void) { return static_cast<int>(current().active_level); }

int omp_get_max_threads(void) {
  // nthreads-var, bounded by what a region can get (weft's thread count).
  const unsigned n = current().task->icvs.nthreads;
  return static_cast<int>(std::min(n, weft::gomp::weft_threads()));
}

void omp_set_num_threads(int n) {
  if (n < 1) {
    std::fprintf(stderr, "libweft_gomp: omp_set_num_threads(%d): ignored, must be positive\n", n);
    return;
  }
  current().task->icvs.nthreads = static_cast<unsigned>(n);
}

int omp_get_num_procs(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

void omp_set_dynamic(int on) { current().task->icvs.dynamic = on != 0; }
int omp_get_dynamic(void) { return current().task->icvs.dynamic ? 1 : 0; }

void omp_set_nested(int on) {
  // relaxed: a setting for regions started later (by any thread).
  weft::gomp::settings().max_active_levels.store(on != 0 ? 255u : 1u, std::memory_order_relaxed);
}
int omp_get_nested(void) {
  return weft::gomp::settings().max_active_levels.load(std::memory_order_relaxed) > 1 ? 1 : 0;
}
void omp_set_max_active_levels(int n) {
  if (n < 0) return;  // OpenMP: a negative value is ignored
  weft::gomp::settings().max_active_levels.store(static_cast<unsigned>(n),
                                                 std::memory_order_relaxed);  // relaxed: as above
}
int omp_get_max_active_levels(void) {
  return static_cast<int>(weft::gomp::settings().max_active_levels.load(std::memory_order_relaxed));
}
int omp_get_supported_active_levels(void) { return 255; }

int omp_get_thread_limit(void) {
  const unsigned limit = weft::gomp::settings().thread_limit;
  const unsigned weft_limit = weft::gomp::weft_threads();
  return static_cast<int>(limit != 0 ? std::min(limit, weft_limit) : weft_limit);
}

void omp_set_schedule(int kind, int chunk) {
  weft::gomp::Icvs& icvs = current().task->icvs;
  const int k = kind & 0x7fffffff;  // drop omp_sched_monotonic
  if (k < 1 || k > 4) {
    std::fprintf(stderr, "libweft_gomp: omp_set_schedule(%d, %d): ignored, unknown kind\n", kind,
                 chunk);
    return;
  }
  icvs.run_sched = static_cast<weft::gomp::Schedule>(k);
  icvs.run_chunk = chunk >= 1 ? chunk : (k == 1 ? 0 : 1);
}

void omp_get_schedule(int* kind, int* chunk) {
  const weft::gomp::Icvs& icvs = current().task->icvs;
  *kind = static_cast<int>(icvs.run_sched);
  *chunk = static_cast<int>(icvs.run_chunk);
}

int omp_get_ancestor_thread_num(int level) {
  const ThreadState* ts = at_level(level);
  return ts == nullptr ? -1 : static_cast<int>(ts->num);
}

int omp_get_team_size(int level) {
  const ThreadState* ts = at_level(level);
  return ts == nullptr ? -1 : static_cast<int>(ts->size);
}

int omp_get_cancellation(void) { return 0; }  // never activated (GOMP_cancel says false)
int omp_get_proc_bind(void) { return static_cast<int>(current().task->icvs.bind); }
int omp_get_max_task_priority(void) { return 0; }

double omp_get_wtime(void) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double omp_get_wtick(void) {
  return std::chrono::duration<double>(std::chrono::steady_clock::duration(1)).count();
}

int omp_get_num_places(void) { return num_places(); }
int omp_get_place_num_procs(int place) {
  if (place < 0 || place >= num_places()) return 0;
  return static_cast<int>(place_cpus(place)->size());
}
void omp_get_place_proc_ids(int place, int* ids) {
  if (place < 0 || place >= num_places()) return;
  for (unsigned cpu : *place_cpus(place)) *ids++ = static_cast<int>(cpu);
}
int omp_get_place_num(void) {
  if (num_places() == 0) return -1;
  const int worker = weft::default_scheduler().current_worker();
  return worker < 0 ? 0 : worker + 1;  // a thread weft did not create: the caller's place
}
int omp_get_partition_num_places(void) { return num_places(); }
void omp_get_partition_place_nums(int* places) {
  for (int i = 0, n = num_places(); i < n; ++i) places[i] = i;
}

// weft's extension for C and ctypes callers: the priority (0 low, 1 normal, 2 high, 3
// critical) at which the regions this thread starts run; a low thread also runs at the
// OS's idle class where low work does (thread_class.cpp). Returns the previous level,
// or -1 (with a message) for a level out of range. C++ code can use weft::PriorityScope.
int weft_set_thread_priority(int level) {
  if (level < 0 || level >= static_cast<int>(weft::num_priorities)) {
    std::fprintf(stderr, "libweft_gomp: weft_set_thread_priority(%d): not 0..3 (low..critical)\n",
                 level);
    return -1;
  }
  const unsigned previous = weft::detail::exchange_thread_level(static_cast<unsigned>(level));
  weft::gomp::follow_level_at_os(static_cast<unsigned>(level));
  return previous < weft::num_priorities ? static_cast<int>(previous)
                                         : static_cast<int>(weft::Priority::normal);
}

int weft_get_thread_priority(void) { return static_cast<int>(weft::current_priority()); }

}  // extern "C"
