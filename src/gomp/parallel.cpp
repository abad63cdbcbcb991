// Parallel regions: GOMP_parallel and its combined forms, on a weft team.
//
// The encountering thread decides the team size (num_threads clause, else nthreads-var;
// one thread when the active-levels limit is reached; never more than weft's thread
// count, see weft/team.hpp), builds the Team on its stack and calls Scheduler::run_team
// at its own priority (weft::current_priority(): a PriorityScope or
// weft_set_thread_priority). Each member installs a ThreadState, sets up the combined
// construct if any, runs the outlined function, and meets the others at the implicit
// barrier at the end (which also runs the region's remaining tasks).
#include <algorithm>

#include "gomp/runtime.hpp"
#include "weft/scheduler.hpp"

namespace weft::gomp {

namespace {
thread_local ThreadState* tls_state = nullptr;
thread_local ThreadState tls_initial;  // a thread's state outside any region
thread_local bool tls_initial_ready = false;

class RegionJob final : public TeamJob {
 public:
  explicit RegionJob(Team& team) : team_(team) { name = "omp parallel"; }
  void run_member(unsigned index, unsigned size) noexcept override;

 private:
  Team& team_;
};

void RegionJob::run_member(unsigned index, unsigned size) noexcept {
  Team& team = team_;
  ThreadState* const outer = tls_state;
  ThreadState ts;
  ts.team = &team;
  ts.num = index;
  ts.size = size;
  ts.level = team.level;
  ts.active_level = team.active_level + (size > 1 ? 1 : 0);
  ts.parent = team.parent;
  ts.implicit.icvs = team.parent->task->icvs;
  const Settings& s = settings();
  if (team.level < s.nthreads_levels) ts.implicit.icvs.nthreads = s.nthreads_list[team.level];
  tls_state = &ts;
  if (team.combined == Team::Combined::loop) {
    loop_init(ts, team.loop_start, team.loop_end, team.loop_incr, team.loop_kind, team.loop_chunk);
  } else if (team.combined == Team::Combined::sections) {
    sections_init(ts, team.sections);
  }
  team.fn(team.data);
  region_end_barrier(ts);
  tls_state = outer;
}

}  // namespace

ThreadState& current() {
  if (tls_state != nullptr) return *tls_state;
  if (!tls_initial_ready) {
    // Outside any region a thread is the one member of its own implicit team: orphaned
    // worksharing constructs and barriers work on it like on any team of one.
    static thread_local Team solo(nullptr, nullptr, nullptr, 0, 0);
    tls_initial.team = &solo;
    tls_initial.implicit.icvs = settings().initial;
    tls_initial_ready = true;
  }
  tls_state = &tls_initial;
  return tls_initial;
}

void set_current(ThreadState* state) { tls_state = state; }

Team::Team(void (*f)(void*), void* d, ThreadState* p, unsigned lvl, unsigned active)
    : fn(f), data(d), parent(p), level(lvl), active_level(active) {
  // Slot i starts free for construct i (phase 0 of 4*i).
  // relaxed: the team is not shared yet; run_team's publication orders it.
  for (unsigned i = 0; i < ring_size; ++i) ring[i].state.store(4u * i, std::memory_order_relaxed);
}

void Team::notify() {
  // release: a waiter that sees the new value sees what we changed before it.
  wake.fetch_add(1, std::memory_order_release);
  wake.notify_all();
}

unsigned team_size_for(ThreadState& ts, unsigned requested) {
  const Settings& s = settings();
  unsigned n = requested != 0 ? requested : ts.task->icvs.nthreads;
  // relaxed: a setting read once per region.
  if (ts.active_level >= s.max_active_levels.load(std::memory_order_relaxed)) n = 1;
  if (s.thread_limit != 0) n = std::min(n, s.thread_limit);
  return std::max(1u, std::min(n, weft_threads()));
}

void run_region(Team& team, unsigned requested) {
  ThreadState& ts = *team.parent;
  const unsigned n = team_size_for(ts, requested);
  RegionJob job(team);
  if (n == 1) {
    job.run_member(0, 1);  // no other thread: skip the scheduler altogether
    return;
  }
  // dyn-var false (the default) promises the team the size asked for, and code relies
  // on it (OpenBLAS's exec_blas hands item k to thread k and makes items wait for each
  // other). A region started outside any active region asks for all or nothing: its
  // thread holds no worker while it waits, so nothing waits for it. Nested regions (and
  // regions from inside weft tasks, decided by run_team) take the workers that are free
  // instead: waiting there could wait for a member of the very region that waits.
  const bool exact = !ts.task->icvs.dynamic && ts.active_level == 0;
  weft::default_scheduler().run_team(job, n, weft::current_priority(), exact);
}

void parallel(void (*fn)(void*), void* data, unsigned num_threads, Team::Combined combined,
              long start, long end, long incr, Schedule kind, long chunk, unsigned sections) {
  ThreadState& ts = current();
  Team team(fn, data, &ts, ts.level + 1, ts.active_level);
  team.combined = combined;
  team.loop_start = start;
  team.loop_end = end;
  team.loop_incr = incr;
  team.loop_kind = kind;
  team.loop_chunk = chunk;
  team.sections = sections;
  run_region(team, num_threads);
}

Schedule runtime_schedule(long& chunk) {
  const Icvs& icvs = current().task->icvs;
  chunk = icvs.run_chunk;
  return icvs.run_sched;
}

}  // namespace weft::gomp

using weft::gomp::Schedule;
using weft::gomp::Team;

extern "C" {

void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned /*flags*/) {
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::none, 0, 0, 0, Schedule::static_,
                       0, 0);
}

void GOMP_parallel_loop_static(void (*fn)(void*), void* data, unsigned num_threads, long start,
                               long end, long incr, long chunk, unsigned /*flags*/) {
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::loop, start, end, incr,
                       Schedule::static_, chunk, 0);
}

void GOMP_parallel_loop_dynamic(void (*fn)(void*), void* data, unsigned num_threads, long start,
                                long end, long incr, long chunk, unsigned /*flags*/) {
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::loop, start, end, incr,
                       Schedule::dynamic, chunk, 0);
}

void GOMP_parallel_loop_guided(void (*fn)(void*), void* data, unsigned num_threads, long start,
                               long end, long incr, long chunk, unsigned /*flags*/) {
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::loop, start, end, incr,
                       Schedule::guided, chunk, 0);
}

void GOMP_parallel_loop_nonmonotonic_dynamic(void (*fn)(void*), void* data, unsigned num_threads,
                                             long start, long end, long incr, long chunk,
                                             unsigned flags) {
  GOMP_parallel_loop_dynamic(fn, data, num_threads, start, end, incr, chunk, flags);
}

void GOMP_parallel_loop_nonmonotonic_guided(void (*fn)(void*), void* data, unsigned num_threads,
                                            long start, long end, long incr, long chunk,
                                            unsigned flags) {
  GOMP_parallel_loop_guided(fn, data, num_threads, start, end, incr, chunk, flags);
}

void GOMP_parallel_loop_runtime(void (*fn)(void*), void* data, unsigned num_threads, long start,
                                long end, long incr, unsigned /*flags*/) {
  long chunk = 0;
  const Schedule kind = weft::gomp::runtime_schedule(chunk);
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::loop, start, end, incr, kind,
                       chunk, 0);
}

void GOMP_parallel_loop_nonmonotonic_runtime(void (*fn)(void*), void* data, unsigned num_threads,
                                             long start, long end, long incr, unsigned flags) {
  GOMP_parallel_loop_runtime(fn, data, num_threads, start, end, incr, flags);
}

void GOMP_parallel_loop_maybe_nonmonotonic_runtime(void (*fn)(void*), void* data,
                                                   unsigned num_threads, long start, long end,
                                                   long incr, unsigned flags) {
  GOMP_parallel_loop_runtime(fn, data, num_threads, start, end, incr, flags);
}

void GOMP_parallel_sections(void (*fn)(void*), void* data, unsigned num_threads, unsigned count,
                            unsigned /*flags*/) {
  weft::gomp::parallel(fn, data, num_threads, Team::Combined::sections, 0, 0, 0,
                       Schedule::static_, 0, count);
}

}  // extern "C"
