// libweft_gomp's internals: the state an OpenMP program's threads carry, shared by the
// entry points (one file per construct). docs/openmp.md describes the design.
//
// A parallel region is one weft team (Scheduler::run_team): its Team lives on the
// encountering thread's stack for the region's duration, and each member runs the
// outlined function with a ThreadState of its own (on its stack) installed as the
// thread's current state. Everything a construct shares between the members (loop
// counters, the single winner, copyprivate data, the barrier, the task queue) hangs off
// the Team.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::gomp {

// Prints "libweft_gomp: <what>" and aborts: an entry point or a use we do not support
// (never a silent wrong answer).
[[noreturn]] void fatal(const char* what);

// OpenMP's loop schedules as the GOMP ABI numbers them (GFS_*; monotonic is a flag bit).
enum class Schedule : int { runtime = 0, static_ = 1, dynamic = 2, guided = 3, auto_ = 4 };
inline constexpr long schedule_monotonic_bit = 0x80000000L;

// The internal control variables a task carries (OpenMP's data environment).
struct Icvs {
  unsigned nthreads = 1;       // nthreads-var: team size for the next region
  bool dynamic = false;        // dyn-var
  Schedule run_sched = Schedule::dynamic;  // run-sched-var (schedule(runtime))
  long run_chunk = 1;
  unsigned bind = 0;           // bind-var (omp_proc_bind_t)
};

// Process-wide settings, read from the environment once (env.cpp).
struct Settings {
  Icvs initial;                       // the initial task's ICVs
  unsigned nthreads_list[8] = {};     // OMP_NUM_THREADS per nesting level (0: inherit)
  unsigned nthreads_levels = 0;
  std::atomic<unsigned> max_active_levels{1};
  unsigned thread_limit = 0;          // OMP_THREAD_LIMIT (0: none but weft's)
  bool cancellation = false;          // OMP_CANCELLATION (we never activate it)
  long spin_ns = 0;                   // how long waits spin before they sleep
  unsigned wait_policy = 0;           // 0 default, 1 active, 2 passive
};
Settings& settings();
// OpenBLAS's OpenMP build is in the process (blas_probe.cpp): no background workers then.
bool openmp_openblas_loaded();
// A thread's OS class follows the level weft_set_thread_priority gives it: the idle class
// while low, where low work runs there (thread_class.cpp).
void follow_level_at_os(unsigned level);

// weft's default scheduler, configured from the OpenMP environment on first use.
unsigned weft_threads();

struct TaskGroup;

// An explicit task (task.cpp), or a thread's implicit task (inside its ThreadState).
struct Task {
  void (*fn)(void*) = nullptr;
  void* data = nullptr;
  Task* parent = nullptr;       // whose taskwait waits for this one
  TaskGroup* group = nullptr;   // the innermost taskgroup it was created in
  // Children created and not yet finished: taskwait waits for 0. acq_rel decrements:
  // a child's writes happen-before the taskwait that sees 0.
  std::atomic<unsigned> children{0};
  bool final = false;
  long data_align = 0;          // a queued task's data block: its alignment (to free it)
  Icvs icvs;                    // the task's data environment
};

struct TaskGroup {
  TaskGroup* outer = nullptr;
  // Tasks created in this group (descendants included) and not yet finished.
  std::atomic<unsigned> pending{0};
};

// One worksharing construct (loop, sections, single) being run by a team. A ring of
// these lets threads be several nowait constructs apart (workshare.cpp).
struct WorkShare {
  // 4*k + phase: phase 0: free for the team's k-th construct, 1: being set up for it,
  // 2: ready. Threads entering construct k wait for phase 2 of k (or set it up).
  std::atomic<std::uint64_t> state{0};
  std::atomic<unsigned> left{0};   // members that have not left it yet
  // A loop over iterations 0..count-1 (iteration i is start + i*incr, unsigned wrap).
  std::uint64_t start = 0, incr = 0, end = 0, count = 0, chunk = 0;
  Schedule kind = Schedule::static_;
  bool ordered = false;
  alignas(64) std::atomic<std::uint64_t> next{0};   // next iteration (dynamic, guided)
  alignas(64) std::atomic<std::uint64_t> ordered_next{0};  // first iteration whose turn it is
  void* copy_data = nullptr;       // copyprivate: the single thread's data
};

inline constexpr unsigned ring_size = 8;

class Team {
 public:
  Team(void (*fn)(void*), void* data, struct ThreadState* parent, unsigned level,
       unsigned active_level);

  void (*fn)(void*);
  void* data;
  struct ThreadState* parent;  // the encountering thread's state
  unsigned level, active_level;
  // A combined construct's loop or sections, set up by each member before fn runs.
  enum class Combined { none, loop, sections } combined = Combined::none;
  long loop_start = 0, loop_end = 0, loop_incr = 0, loop_chunk = 0;
  Schedule loop_kind = Schedule::static_;
  unsigned sections = 0;

  // Barrier (barrier.cpp): arrivals this round, and the round.
  alignas(64) std::atomic<unsigned> arrived{0};
  std::atomic<unsigned> round{0};
  // Bumped (and waited on) for everything a waiting member may wait for: an arrival, a
  // new round, a task queued or finished, an ordered turn.
  alignas(64) std::atomic<std::uint32_t> wake{0};
  // Tasks queued or running (task.cpp); a barrier ends only at 0.
  alignas(64) std::atomic<unsigned> pending_tasks{0};
  // Some task was queued in this region: members then stay at the end barrier to help.
  std::atomic<bool> tasks_queued{false};
  std::mutex task_mutex;
  // Guarded by task_mutex; a vector (not a deque) so that a region without tasks
  // allocates nothing.
  std::vector<Task*> tasks;

  WorkShare ring[ring_size];

  void notify();  // bump wake and wake sleepers
};

// What a thread is doing right now: in which team, as which member.
struct ThreadState {
  Team* team = nullptr;      // null: not in a parallel region
  unsigned num = 0;          // omp_get_thread_num
  unsigned size = 1;         // omp_get_num_threads
  unsigned level = 0;        // omp_get_level
  unsigned active_level = 0; // omp_get_active_level
  ThreadState* parent = nullptr;  // the state of the thread that started the region
  std::uint64_t ws_seq = 0;  // worksharing constructs this member entered
  WorkShare* ws = nullptr;   // the loop or sections it is in
  // Static schedule: chunks this member has taken; ordered: its current chunk.
  std::uint64_t static_trip = 0;
  std::uint64_t chunk_begin = 0, chunk_end = 0;
  bool holds_chunk = false;
  Task implicit;             // the implicit task
  Task* task = &implicit;    // the task it runs now
};

// The calling thread's state (a thread outside any region gets its initial state).
ThreadState& current();
void set_current(ThreadState* state);

// Regions (parallel.cpp): the team size a region started here gets, and running one.
unsigned team_size_for(ThreadState& ts, unsigned requested);
void run_region(Team& team, unsigned requested);
Schedule runtime_schedule(long& chunk);  // run-sched-var of the current task

// Worksharing set-up a combined construct does in each member before its body (loop.cpp,
// sections.cpp).
void loop_init(ThreadState& ts, long start, long end, long incr, Schedule kind, long chunk);
void sections_init(ThreadState& ts, unsigned count);

// Waits (barrier.cpp): spins, runs queued tasks, then sleeps on team.wake.
void team_barrier(ThreadState& ts);
// The implicit barrier that ends a region (barrier.cpp).
void region_end_barrier(ThreadState& ts);
// Runs one queued task of the team; false when none was queued (task.cpp).
bool run_one_task(ThreadState& ts);
// Waits until done() holds, running the team's tasks meanwhile (barrier.cpp).
template <class Done>
void wait_until(ThreadState& ts, Done done);
void sleep_until_notified(Team& team, std::uint32_t seen, unsigned& rounds);

// Worksharing (workshare.cpp): enter the member's next construct; true for the thread
// that sets it up (`setup` ran on it). leave_workshare: this member is done with it.
template <class Setup>
WorkShare& enter_workshare(ThreadState& ts, bool& first, Setup setup);
void leave_workshare(ThreadState& ts, WorkShare& ws);
WorkShare& enter_workshare_raw(ThreadState& ts, bool& first);
void publish_workshare(ThreadState& ts, WorkShare& ws);

template <class Setup>
WorkShare& enter_workshare(ThreadState& ts, bool& first, Setup setup) {
  WorkShare& ws = enter_workshare_raw(ts, first);
  if (first) {
    setup(ws);
    publish_workshare(ts, ws);
  }
  return ws;
}

template <class Done>
void wait_until(ThreadState& ts, Done done) {
  Team* team = ts.team;
  unsigned rounds = 0;
  for (;;) {
    // acquire: a notifier's release bump orders what it changed before our re-check.
    const std::uint32_t seen = team->wake.load(std::memory_order_acquire);
    if (done()) return;
    if (run_one_task(ts)) {
      rounds = 0;
      continue;
    }
    sleep_until_notified(*team, seen, rounds);
  }
}

}  // namespace weft::gomp
