// weft-soak (soak.cpp): what every operation shares: the run's settings, the
// seed-replayable randomness, the ledger the checks balance, and one operation's
// context. The operations themselves: ops_tasks.cpp, ops_loops.cpp, ops_process.cpp.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loop_contract.hpp"
#include "sched/sched_test_support.hpp"
#include "weft/metrics.hpp"
#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace soak {

using Clock = std::chrono::steady_clock;
constexpr auto relaxed = std::memory_order_relaxed;

// Sanitizers run everything 5-20x slower: smaller operations, a longer grace.
#ifdef WEFT_TEST_SANITIZED
constexpr std::size_t size_divisor = 8;
constexpr double default_grace_s = 120;
#else
constexpr std::size_t size_divisor = 1;
constexpr double default_grace_s = 60;
#endif
#if defined(WEFT_TEST_TSAN)
constexpr bool fork_supported = false;  // TSan does not support fork() with threads running
#elif defined(__SANITIZE_ADDRESS__)
// GCC 12's libasan takes no allocator locks around fork() (LLVM added that atfork handler
// only in late 2023), so a child forked while another thread is inside malloc can hang on
// the lock that thread held: seen once in CI as a child killed by its 20 s alarm. The
// release and TSan soaks keep covering the rest; release covers fork.
constexpr bool fork_supported = false;
#else
constexpr bool fork_supported = true;
#endif

inline std::size_t sized(std::size_t n) { return std::max<std::size_t>(1, n / size_divisor); }

// ---------------------------------------------------------------------------------------
// Randomness: splitmix64. Own arithmetic (no <random> distributions, whose results
// differ between standard libraries) so that a seed means the same run everywhere.

inline std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix(state_ += 0x9e3779b97f4a7c15ull); }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  bool percent(unsigned p) { return below(100) < p; }

 private:
  std::uint64_t state_;
};

// A per-item decision that does not depend on the thread that runs the item.
inline std::uint64_t item_hash(std::uint64_t op_seed, std::uint64_t item) {
  return mix(op_seed ^ mix(item + 0x51ed27u));
}

// What the tasks and loops throw.
struct SoakError {};

// Throws a SoakError, first keeping its identity in `slot`. A waiter tells exactly which
// exception reached it by comparing std::current_exception() with the slots, without
// reading the object: a read would let TSan report the thrower's thread freeing the
// object later, since libstdc++'s exception reference count is not instrumented and TSan
// cannot see that the free comes after the read. The slot also keeps the object alive
// until the operation's thread drops it. The slot is published to the waiter by weft's
// own completion (the Future's, the group's, the loop's).
[[noreturn]] inline void throw_recorded(std::exception_ptr& slot) {
  try {
    throw SoakError{};
  } catch (...) {
    slot = std::current_exception();
    throw;
  }
}

// The index of the slot holding the exception being handled; slots.size() if none.
inline std::size_t which(const std::vector<std::exception_ptr>& slots) {
  const std::exception_ptr got = std::current_exception();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] && slots[i] == got) return i;
  }
  return slots.size();
}

// ---------------------------------------------------------------------------------------
// The ledger. relaxed everywhere: the totals are read after every thread was joined and
// the scheduler destroyed (both synchronize).

struct Ledger {
  std::atomic<std::uint64_t> operations{0};
  std::atomic<std::uint64_t> tasks_accepted{0};  // submit()/run() returned normally
  std::atomic<std::uint64_t> tasks_ran{0};       // the task's body started
  std::atomic<std::uint64_t> tasks_skipped{0};   // accepted, not run: group cancelled or failed
  std::atomic<std::uint64_t> loops{0};
  std::atomic<std::uint64_t> exceptions_thrown{0};
  std::atomic<std::uint64_t> exceptions_caught{0};      // each by exactly one waiter
  std::atomic<std::uint64_t> exceptions_discarded{0};   // dropped by design (see above)
  std::atomic<std::uint64_t> cancellations{0};          // TaskGroup::cancel() calls
  std::atomic<std::uint64_t> forks{0};
  std::atomic<std::uint64_t> late_runs{0};  // a loop body ran after its loop returned
};
inline Ledger ledger;
// Whether this process made weft::default_scheduler() (the watchdog then shows it too).
inline std::atomic<bool> default_used{false};

// What the watchdog prints per external thread.
struct Status {
  std::atomic<const char*> op{"starting"};
  std::atomic<const char*> step{""};
  std::atomic<std::uint64_t> index{0};
  std::atomic<std::int64_t> since_ns{0};
};

struct Settings {
  double seconds = 10;
  std::uint64_t seed = 0;
  unsigned threads = 4;
  unsigned workers = 3;
  double grace = default_grace_s;  // seconds the run may overrun before the watchdog fires
};
inline Settings settings;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

inline void print_replay() {
  std::fprintf(stderr, "weft-soak: replay this operation sequence with: weft-soak --seed %llu "
               "--threads %u --workers %u --seconds %g\n",
               static_cast<unsigned long long>(settings.seed), settings.threads,
               settings.workers, settings.seconds);
}

// One operation of one external thread.
struct Ctx {
  weft::Scheduler& s;
  Rng& rng;
  Status& status;
  unsigned thread;
  std::uint64_t index;
  const char* op;
  const std::vector<bool>& reserved;  // per worker

  void step(const char* what) const { status.step.store(what, relaxed); }

  [[noreturn]] void fail(const std::string& what) const {
    std::fprintf(stderr,
                 "weft-soak: LEDGER MISMATCH: seed %llu, thread %u, operation #%llu (%s): %s\n",
                 static_cast<unsigned long long>(settings.seed), thread,
                 static_cast<unsigned long long>(index), op, what.c_str());
    print_replay();
    std::fflush(stderr);
    std::_Exit(1);
  }
  void expect(bool ok, const std::string& what) const {
    if (!ok) fail(what);
  }
  unsigned workers() const { return static_cast<unsigned>(reserved.size()); }
};

inline std::string str(std::uint64_t v) { return std::to_string(v); }

// ---------------------------------------------------------------------------------------
// Options: a task's from a hash of its item, a loop's from the operation's PRNG.

inline std::optional<weft::Priority> priority_of(std::uint64_t h) {
  unsigned k = static_cast<unsigned>(h % 5);
  if (k == 4) return std::nullopt;  // inherit
  return static_cast<weft::Priority>(k);
}

// Any priority; one task in eight gets a worker or NUMA hint, some of them strict (only
// where the target can run it: a strict low/normal task for a reserved worker is a
// ConfigError by design).
inline weft::TaskOptions task_options(const Ctx& c, std::uint64_t h) {
  weft::TaskOptions o;
  o.priority = priority_of(h);
  if ((h >> 8) % 8 == 0) {
    unsigned w = static_cast<unsigned>((h >> 12) % c.workers());
    bool urgent = o.priority && *o.priority >= weft::Priority::high;
    if ((h >> 20) % 4 == 0) {
      o.numa_node = 0;  // node 0 always has an unreserved worker
    } else {
      o.worker = static_cast<int>(w);
      o.strict = (h >> 24) % 3 == 0 && (!c.reserved[w] || urgent);
    }
  }
  return o;
}

// A grain, exact chunks, both or neither; any priority, capped teams, a NUMA domain now
// and then.
inline weft::ForOptions loop_options(Rng& rng, unsigned workers) {
  weft::ForOptions o;
  static constexpr std::size_t sizes[] = {0, 0, 0, 1, 3, 16, 100};
  o.grain = sizes[rng.below(7)];
  if (rng.percent(30)) o.chunk = sizes[rng.below(7)];
  o.priority = priority_of(rng.next());
  static constexpr unsigned caps[] = {0, 0, 0, 1, 2, 64};
  o.max_threads = caps[rng.below(6)];
  if (rng.percent(10)) o.max_threads = workers + 1;
  if (rng.percent(10)) o.numa_node = 0;
  return o;
}

// Per-index hit counters.
class Hits {
 public:
  explicit Hits(std::size_t n) : n_(n), hits_(std::make_unique<std::atomic<unsigned>[]>(n)) {}
  void hit(std::size_t i) { hits_[i].fetch_add(1, relaxed); }
  unsigned at(std::size_t i) const { return hits_[i].load(relaxed); }
  std::size_t size() const { return n_; }
  // The first index whose count is not 1, or n.
  std::size_t first_not_once() const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (at(i) != 1) return i;
    }
    return n_;
  }
  void expect_once(const Ctx& c, const char* what) const {
    std::size_t i = first_not_once();
    if (i != n_) {
      c.fail(std::string(what) + ": index " + str(i) + " ran " + str(at(i)) + " times (of " +
             str(n_) + ")");
    }
  }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<unsigned>[]> hits_;
};

// "No iteration runs after the call returns": bodies call enter() first, the operation
// calls close() as soon as the loop returned; a body entering later is counted in
// ledger.late_runs (checked at the end). The operation's frame is still alive then, so
// the check itself cannot crash.
struct LateGuard {
  std::atomic<bool> returned{false};
  void enter() const {
    if (returned.load(std::memory_order_seq_cst)) ledger.late_runs.fetch_add(1, relaxed);
  }
  void close() { returned.store(true, std::memory_order_seq_cst); }
};

// ---------------------------------------------------------------------------------------
// The operations, each run by one external thread with its own Ctx.
// ops_tasks.cpp: tasks, groups, cancellation, waits inside tasks.
void op_submit(Ctx& c);
void op_group(Ctx& c);
void op_cancel(Ctx& c);
void op_wait_in_task(Ctx& c);
// ops_loops.cpp: loops, reductions, nesting, throwing bodies.
void op_loop_small(Ctx& c);
void op_loop_large(Ctx& c);
void op_reduce(Ctx& c);
void op_nested(Ctx& c);
void op_throw_loop(Ctx& c);
// ops_process.cpp: the default scheduler, fork(), metrics().
void op_default(Ctx& c);
void op_fork(Ctx& c);
void op_metrics(Ctx& c);

}  // namespace soak
