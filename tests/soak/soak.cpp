// weft-soak: a time-bounded random mix of everything weft offers, from several external
// threads at once, checked against an exact ledger.
//
//   weft-soak [--seconds N] [--seed S] [--threads T] [--workers W] [--grace G]
//
// Each external thread draws its operations (and every parameter of them) from its own
// PRNG, derived from the seed and the thread's index, before the operation starts, so
// `--seed S` replays the same operation sequence per thread; only the interleavings
// differ. Decisions taken inside tasks (throw here? cancel here?) are a hash of the
// operation's seed and the item, never of who runs it.
//
// The ledger: every accepted task ran exactly once or was skipped because its group was
// cancelled or failed (per-task counters, and global totals once the scheduler has been
// destroyed); every exception reached exactly one waiter (or was dropped by design: the
// later exceptions of a group or loop, those of a Future nobody waits for); every loop
// covered its range exactly once (per-index counters for small ranges, count and two
// moments for large ones; reductions against a sequential reference, bit for bit where
// deterministic).
// A mismatch prints the seed, the thread, the operation and what differed, and exits 1.
//
// A watchdog ends a run that has not finished by --seconds plus --grace (default 60 s,
// 120 s under a sanitizer): it prints what every external thread is doing and the
// workers' metrics, then aborts.
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

namespace {

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

std::size_t sized(std::size_t n) { return std::max<std::size_t>(1, n / size_divisor); }

// ---------------------------------------------------------------------------------------
// Randomness: splitmix64. Own arithmetic (no <random> distributions, whose results
// differ between standard libraries) so that a seed means the same run everywhere.

std::uint64_t mix(std::uint64_t x) {
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
std::uint64_t item_hash(std::uint64_t op_seed, std::uint64_t item) {
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
[[noreturn]] void throw_recorded(std::exception_ptr& slot) {
  try {
    throw SoakError{};
  } catch (...) {
    slot = std::current_exception();
    throw;
  }
}

// The index of the slot holding the exception being handled; slots.size() if none.
std::size_t which(const std::vector<std::exception_ptr>& slots) {
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
Ledger ledger;
// Whether this process made weft::default_scheduler() (the watchdog then shows it too).
std::atomic<bool> default_used{false};

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
Settings settings;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void print_replay() {
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

std::string str(std::uint64_t v) { return std::to_string(v); }

// ---------------------------------------------------------------------------------------
// Options: a task's from a hash of its item, a loop's from the operation's PRNG.

std::optional<weft::Priority> priority_of(std::uint64_t h) {
  unsigned k = static_cast<unsigned>(h % 5);
  if (k == 4) return std::nullopt;  // inherit
  return static_cast<weft::Priority>(k);
}

// Any priority; one task in eight gets a worker or NUMA hint, some of them strict (only
// where the target can run it: a strict low/normal task for a reserved worker is a
// ConfigError by design).
weft::TaskOptions task_options(const Ctx& c, std::uint64_t h) {
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
weft::ForOptions loop_options(Rng& rng, unsigned workers) {
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
// Operations. Each draws all its parameters from c.rng before it starts.

// submit() with every priority and hint; results and exceptions through get(); some
// Futures dropped at once (their tasks still run: counted globally at the end).
void op_submit(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(64));
  const std::uint64_t seed = c.rng.next();
  const bool reverse = c.rng.percent(50);
  const bool wait_first = c.rng.percent(30);
  Hits ran(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<weft::Future<std::uint64_t>> futures(n);
  std::vector<unsigned char> kind(n);  // 0: value, 1: throws, 2: dropped
  c.step("submit");
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t h = item_hash(seed, i);
    kind[i] = h % 10 == 0 ? 1 : h % 10 == 1 ? 2 : 0;
    const std::uint64_t id = h | 1;
    const weft::TaskOptions o = task_options(c, h >> 4);
    if (kind[i] == 2) {
      const bool throws = (h >> 40) % 3 == 0;
      c.s.submit([throws]() -> std::uint64_t {
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (throws) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          ledger.exceptions_discarded.fetch_add(1, relaxed);  // nobody waits: dropped
          throw SoakError{};
        }
        return 0;
      }, o);
    } else {
      const bool throws = kind[i] == 1;
      Hits* hits = &ran;
      std::exception_ptr* error = &errors[i];
      futures[i] = c.s.submit([hits, error, i, id, throws]() -> std::uint64_t {
        hits->hit(i);
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (throws) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          throw_recorded(*error);
        }
        return id;
      }, o);
    }
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  c.step("get");
  if (wait_first) {
    for (std::size_t i = 0; i < n; ++i) {
      if (kind[i] != 2) futures[i].wait();
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = reverse ? n - 1 - k : k;
    if (kind[i] == 2) continue;
    const std::uint64_t id = item_hash(seed, i) | 1;
    try {
      std::uint64_t v = futures[i].get();
      if (kind[i] != 0) c.fail("task " + str(i) + " threw, but get() returned " + str(v));
      if (v != id) c.fail("task " + str(i) + ": get() returned " + str(v) + ", want " + str(id));
    } catch (const SoakError&) {
      if (kind[i] != 1) c.fail("task " + str(i) + " returned, but get() threw");
      if (std::current_exception() != errors[i]) {
        std::size_t other = which(errors);
        c.fail("task " + str(i) + ": get() rethrew " +
               (other < n ? "the exception of task " + str(other)
                          : std::string("an exception no task threw")));
      }
      ledger.exceptions_caught.fetch_add(1, relaxed);
    }
    if (futures[i].valid()) c.fail("a Future is still valid after get()");
    if (ran.at(i) != 1) c.fail("task " + str(i) + " ran " + str(ran.at(i)) + " times");
  }
}

// A group after wait() (failed or cancelled) takes new tasks, and each runs once.
void expect_reuse(Ctx& c, weft::TaskGroup& g, std::size_t reuse, const char* what) {
  Hits again(reuse);
  c.step("reuse");
  for (std::size_t i = 0; i < reuse; ++i) {
    g.run([&again, i] {
      again.hit(i);
      ledger.tasks_ran.fetch_add(1, relaxed);
    });
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  g.wait();
  again.expect_once(c, what);
}

// A TaskGroup whose tasks spawn subtrees into the same group; some throw. wait() must
// rethrow exactly one of the thrown exceptions, once; the group is reusable after.
void op_group(Ctx& c) {
  const std::size_t roots = c.rng.between(1, sized(48));
  const std::size_t depth = c.rng.below(3);
  const std::size_t fanout = c.rng.between(1, 3);
  const unsigned throw_one_in = c.rng.percent(30) ? static_cast<unsigned>(c.rng.between(3, 40)) : 0;
  const std::uint64_t seed = c.rng.next();
  const std::size_t reuse = c.rng.between(1, 16);
  // Nodes per tree, numbered heap-style: child j of node p is p * fanout + j + 1.
  std::size_t per_tree = 0;
  for (std::size_t d = 0, level = 1; d <= depth; ++d, level *= fanout) per_tree += level;
  const std::size_t n = roots * per_tree;

  struct State {
    weft::TaskGroup* group;
    Hits ran, accepted;
    std::vector<std::exception_ptr> errors;
    std::size_t per_tree, fanout, depth;
    std::uint64_t seed;
    unsigned throw_one_in;
    explicit State(std::size_t nodes)
        : group(nullptr), ran(nodes), accepted(nodes), errors(nodes) {}
  };
  State st(n);
  st.per_tree = per_tree;
  st.fanout = fanout;
  st.depth = depth;
  st.seed = seed;
  st.throw_one_in = throw_one_in;
  weft::TaskGroup g(c.s);
  st.group = &g;

  struct Node {
    static void spawn(const Ctx& ctx, State& s, std::size_t tree, std::size_t node, std::size_t d) {
      const std::size_t id = tree * s.per_tree + node;
      s.group->run([&ctx, &s, tree, node, d, id] {
        s.ran.hit(id);
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (d < s.depth) {
          for (std::size_t j = 0; j < s.fanout; ++j) {
            spawn(ctx, s, tree, node * s.fanout + j + 1, d + 1);
          }
        }
        if (s.throw_one_in != 0 && item_hash(s.seed, id) % s.throw_one_in == 0) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          throw_recorded(s.errors[id]);
        }
      }, task_options(ctx, item_hash(s.seed, id) >> 3));
      s.accepted.hit(id);
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
  };
  c.step("run");
  for (std::size_t t = 0; t < roots; ++t) Node::spawn(c, st, t, 0, 0);
  c.step("wait");
  std::optional<std::size_t> caught;  // which node's exception wait() rethrew
  try {
    g.wait();
  } catch (const SoakError&) {
    caught = which(st.errors);
  }
  std::size_t thrown = 0, skipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    thrown += st.errors[i] != nullptr;
    if (st.accepted.at(i) == 0) {
      if (st.ran.at(i) != 0) c.fail("node " + str(i) + " ran but was never accepted");
    } else if (st.ran.at(i) == 0) {
      skipped += 1;
    } else {
      if (st.ran.at(i) != 1) c.fail("node " + str(i) + " ran " + str(st.ran.at(i)) + " times");
    }
  }
  if (thrown == 0) {
    c.expect(!caught, "wait() threw, but no task threw");
    c.expect(skipped == 0, str(skipped) + " tasks skipped though nothing threw or cancelled");
  } else {
    c.expect(caught.has_value(), str(thrown) + " tasks threw, but wait() returned normally");
    c.expect(*caught < n, "wait() rethrew an exception no task of the group threw");
    ledger.exceptions_caught.fetch_add(1, relaxed);
    ledger.exceptions_discarded.fetch_add(thrown - 1, relaxed);
  }
  ledger.tasks_skipped.fetch_add(skipped, relaxed);
  c.expect(!g.is_cancelled(), "the group is still cancelled after wait()");
  // The exception reached one waiter: a second wait() has nothing to rethrow.
  c.step("second wait");
  try {
    g.wait();
  } catch (const SoakError&) {
    c.fail("a second wait() rethrew an exception again (node " + str(which(st.errors)) + ")");
  }
  // Reuse: every task runs now.
  expect_reuse(c, g, reuse, "reused group");
}

// TaskGroup::cancel(): from the external thread part way, from a task of the group, or
// while a gate task holds a worker (so that some tasks surely have not started).
void op_cancel(Ctx& c) {
  const std::size_t n = c.rng.between(2, sized(96));
  const unsigned mode = static_cast<unsigned>(c.rng.below(3));
  const std::size_t at = c.rng.below(n);
  const std::uint64_t seed = c.rng.next();
  const std::size_t reuse = c.rng.between(1, 16);
  Hits ran(n);
  std::atomic<bool> gate{false};
  weft::TaskGroup g(c.s);
  c.step("run");
  for (std::size_t i = 0; i < n; ++i) {
    if (mode == 0 && i == at) {
      g.cancel();
      ledger.cancellations.fetch_add(1, relaxed);
      c.expect(g.is_cancelled(), "is_cancelled() is false right after cancel()");
    }
    const bool cancels = mode == 1 && i == at;
    const bool gated = mode == 2 && i == 0;
    g.run([&ran, &g, &gate, i, cancels, gated] {
      ran.hit(i);
      ledger.tasks_ran.fetch_add(1, relaxed);
      if (cancels) {
        g.cancel();
        ledger.cancellations.fetch_add(1, relaxed);
      }
      // Released by the external thread before it waits on anything: bounded.
      while (gated && !gate.load(std::memory_order_acquire)) std::this_thread::yield();
    }, task_options(c, item_hash(seed, i)));
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  if (mode == 2) {
    g.cancel();
    ledger.cancellations.fetch_add(1, relaxed);
    c.expect(g.is_cancelled(), "is_cancelled() is false right after cancel()");
    gate.store(true, std::memory_order_release);
  }
  c.step("wait");
  try {
    g.wait();
  } catch (const SoakError&) {
    c.fail("wait() of a cancelled group threw, but no task throws");
  }
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (ran.at(i) > 1) c.fail("task " + str(i) + " ran " + str(ran.at(i)) + " times");
    skipped += ran.at(i) == 0;
  }
  // Only the cancelling task itself is sure to have run in mode 1.
  if (mode == 1) c.expect(ran.at(at) == 1, "the task that cancels (" + str(at) + ") did not run");
  ledger.tasks_skipped.fetch_add(skipped, relaxed);
  c.expect(!g.is_cancelled(), "the group is still cancelled after wait()");
  expect_reuse(c, g, reuse, "group reused after cancel");
}

// Small loops with per-index (per-cell) counters: 1D by index and by chunk (with the
// grain contract checked), 2D and 3D tiles.
void op_loop_small(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  weft::ForOptions o = loop_options(c.rng, c.workers());
  LateGuard late;
  c.step("loop");
  if (variant <= 1) {
    const std::size_t n = c.rng.below(sized(4096) + 1);
    const std::size_t begin = c.rng.below(1000);
    Hits hits(n);
    if (variant == 0) {
      c.s.parallel_for(begin, begin + n, [&](std::size_t i) {
        late.enter();
        hits.hit(i - begin);
      }, o);
    } else {
      std::atomic<std::size_t> bad_chunk{0};
      c.s.parallel_for(begin, begin + n, [&](std::size_t b, std::size_t e) {
        late.enter();
        if (!weft::test::chunk_contract_error(o, false, begin, begin + n, b, e).empty())
          bad_chunk.store(b + 1, relaxed);
        for (std::size_t i = b; i < e; ++i) hits.hit(i - begin);
      }, o);
      c.expect(bad_chunk.load() == 0, "a chunk starting at " + str(bad_chunk.load() - 1) +
                                           " broke the contract of grain " + str(o.grain) +
                                           ", chunk " + str(o.chunk));
    }
    late.close();
    hits.expect_once(c, "parallel_for");
  } else if (variant == 2) {
    const std::size_t rows = c.rng.between(1, 64), cols = c.rng.between(1, 64);
    const std::size_t tr = c.rng.between(1, 17), tc = c.rng.between(1, 17);
    Hits hits(rows * cols);
    std::atomic<bool> bad_tile{false};
    auto tile = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
      late.enter();
      if (r0 % tr != 0 || c0 % tc != 0 || r1 != std::min(r0 + tr, rows) ||
          c1 != std::min(c0 + tc, cols)) {
        bad_tile.store(true, relaxed);
      }
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t k = c0; k < c1; ++k) hits.hit(r * cols + k);
      }
    };
    c.s.parallel_for_2d(rows, cols, tr, tc, tile, o);
    late.close();
    c.expect(!bad_tile.load(), "parallel_for_2d handed out a malformed tile");
    hits.expect_once(c, "parallel_for_2d");
  } else {
    const std::size_t d0 = c.rng.between(1, 16), d1 = c.rng.between(1, 16),
                      d2 = c.rng.between(1, 16);
    const std::size_t t0 = c.rng.between(1, 5), t1 = c.rng.between(1, 5), t2 = c.rng.between(1, 5);
    Hits hits(d0 * d1 * d2);
    c.s.parallel_for_3d(d0, d1, d2, t0, t1, t2,
                        [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1,
                            std::size_t k0, std::size_t k1) {
      late.enter();
      for (std::size_t i = i0; i < i1; ++i) {
        for (std::size_t j = j0; j < j1; ++j) {
          for (std::size_t k = k0; k < k1; ++k) hits.hit((i * d1 + j) * d2 + k);
        }
      }
    }, o);
    late.close();
    hits.expect_once(c, "parallel_for_3d");
  }
  ledger.loops.fetch_add(1, relaxed);
}

// A large loop: count, sum and sum of squares of the indices (mod 2^64) against a
// sequential pass. A gap and an overlap compensating each other in all three is not
// a realistic failure.
void op_loop_large(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(1u << 20));
  const std::size_t begin = c.rng.below(std::size_t{1} << 32);
  const weft::ForOptions o = loop_options(c.rng, c.workers());
  const bool by_index = n <= sized(1u << 16) && c.rng.percent(50);
  std::atomic<std::uint64_t> count{0}, sum{0}, squares{0};
  c.step("loop");
  if (by_index) {
    c.s.parallel_for(begin, begin + n, [&](std::size_t i) {
      count.fetch_add(1, relaxed);
      sum.fetch_add(i, relaxed);
      squares.fetch_add(static_cast<std::uint64_t>(i) * i, relaxed);
    }, o);
  } else {
    c.s.parallel_for(begin, begin + n, [&](std::size_t b, std::size_t e) {
      std::uint64_t k = 0, s1 = 0, s2 = 0;
      for (std::size_t i = b; i < e; ++i) {
        k += 1;
        s1 += i;
        s2 += static_cast<std::uint64_t>(i) * i;
      }
      count.fetch_add(k, relaxed);
      sum.fetch_add(s1, relaxed);
      squares.fetch_add(s2, relaxed);
    }, o);
  }
  std::uint64_t s1 = 0, s2 = 0;
  for (std::size_t i = begin; i < begin + n; ++i) {
    s1 += i;
    s2 += static_cast<std::uint64_t>(i) * i;
  }
  c.expect(count.load() == n && sum.load() == s1 && squares.load() == s2,
           "parallel_for over " + str(n) + " indices: count " + str(count.load()) + ", sum " +
               str(sum.load()) + " (want " + str(s1) + "), squares " + str(squares.load()) +
               " (want " + str(s2) + ")");
  ledger.loops.fetch_add(1, relaxed);
}

// An interval [lo, hi): combined only when adjacent, so the result is [begin, end) and
// `ok` exactly when every chunk was folded once, in range order.
struct Span {
  std::size_t lo = 0, hi = 0;
  bool empty = true, ok = true;
};
Span join(const Span& a, const Span& b) {
  if (a.empty) return b;
  if (b.empty) return a;
  return Span{a.lo, b.hi, false, a.ok && b.ok && a.hi == b.lo};
}

double term(std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i % 1000003)); }

void op_reduce(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(3));
  const std::size_t n = c.rng.below(sized(1u << 18) + 1);
  const std::size_t begin = c.rng.below(100000);
  weft::ForOptions o = loop_options(c.rng, c.workers());
  const std::size_t end = begin + n;
  c.step("reduce");
  if (variant == 0) {
    // Exact integer sum, normal mode.
    auto body = [](std::size_t b, std::size_t e, std::uint64_t acc) {
      for (std::size_t i = b; i < e; ++i) acc += mix(i);
      return acc;
    };
    std::uint64_t got = c.s.parallel_reduce(begin, end, std::uint64_t{0}, body, std::plus<>{}, o);
    std::uint64_t want = body(begin, end, 0);
    c.expect(got == want, "parallel_reduce (uint64) over " + str(n) + ": " + str(got) +
                              ", want " + str(want));
  } else if (variant == 1) {
    // Deterministic doubles: bit-identical to the sequential chunked reference.
    o.deterministic = true;
    auto body = [](std::size_t b, std::size_t e, double acc) {
      for (std::size_t i = b; i < e; ++i) acc += term(i);
      return acc;
    };
    double got = c.s.parallel_reduce(begin, end, 0.0, body, std::plus<>{}, o);
    const std::size_t chunk =
        o.chunk != 0 ? o.chunk : weft::detail::loop_tuning::deterministic_chunk;
    double want = 0.0;
    for (std::size_t b = begin; b < end; b += chunk) {
      double part = body(b, std::min(b + chunk, end), 0.0);
      want = b == begin ? part : want + part;
    }
    c.expect(std::memcmp(&got, &want, sizeof got) == 0,
             "deterministic parallel_reduce over " + str(n) + " with chunk " + str(chunk) +
                 " differs from the sequential chunked sum");
  } else {
    // Non-commutative: the intervals must join in order, each chunk once.
    o.deterministic = c.rng.percent(30);
    std::atomic<std::uint64_t> covered{0};
    Span got = c.s.parallel_reduce(begin, end, Span{}, [&](std::size_t b, std::size_t e, Span acc) {
      covered.fetch_add(e - b, relaxed);
      return join(acc, Span{b, e, b == e, true});
    }, [](const Span& a, const Span& b) { return join(a, b); }, o);
    const bool good = n == 0 ? got.empty : !got.empty && got.ok && got.lo == begin && got.hi == end;
    c.expect(good && covered.load() == n,
             "parallel_reduce of intervals over [" + str(begin) + ", " + str(end) + "): got [" +
                 str(got.lo) + ", " + str(got.hi) + ") ok=" + str(got.ok) + " covered " +
                 str(covered.load()));
  }
  ledger.loops.fetch_add(1, relaxed);
}

// Loops inside loops, reductions inside loops, loops inside tasks, groups inside loops.
void op_nested(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  const std::size_t outer = c.rng.between(1, 32);
  const std::size_t inner = c.rng.between(1, sized(256));
  const weft::ForOptions oo = loop_options(c.rng, c.workers());
  const weft::ForOptions io = loop_options(c.rng, c.workers());
  const std::uint64_t seed = c.rng.next();
  Hits hits(outer * inner);
  c.step("nested");
  if (variant == 0) {
    // parallel_for in parallel_for (and a third level on some rows).
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      if (i % 4 == 3) {
        c.s.parallel_for(0, inner, [&](std::size_t b, std::size_t e) {
          c.s.parallel_for(b, e, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
        }, oo);
      } else {
        c.s.parallel_for(0, inner, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
      }
    }, oo);
    ledger.loops.fetch_add(1 + outer, relaxed);
  } else if (variant == 1) {
    // parallel_reduce in parallel_for: each row's sum checked.
    std::atomic<std::size_t> bad_row{0};
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      std::uint64_t got = c.s.parallel_reduce(0, inner, std::uint64_t{0},
          [&](std::size_t b, std::size_t e, std::uint64_t acc) {
            for (std::size_t j = b; j < e; ++j) {
              hits.hit(i * inner + j);
              acc += j;
            }
            return acc;
          }, std::plus<>{}, io);
      if (got != inner * (inner - 1) / 2) bad_row.store(i + 1, relaxed);
    }, oo);
    c.expect(bad_row.load() == 0, "the reduction of row " + str(bad_row.load() - 1) + " is wrong");
    ledger.loops.fetch_add(1 + outer, relaxed);
  } else if (variant == 2) {
    // Loops inside tasks: each task runs a parallel_for over its row.
    weft::TaskGroup g(c.s);
    for (std::size_t i = 0; i < outer; ++i) {
      g.run([&, i] {
        ledger.tasks_ran.fetch_add(1, relaxed);
        c.s.parallel_for(0, inner, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
      }, task_options(c, item_hash(seed, i)));
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
    g.wait();
    ledger.loops.fetch_add(outer, relaxed);
  } else {
    // A TaskGroup inside each iteration of a loop.
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      weft::TaskGroup g(c.s);
      for (std::size_t b = 0; b < inner; b += 16) {
        g.run([&hits, i, b, inner] {
          ledger.tasks_ran.fetch_add(1, relaxed);
          for (std::size_t j = b; j < std::min(b + 16, inner); ++j) hits.hit(i * inner + j);
        });
        ledger.tasks_accepted.fetch_add(1, relaxed);
      }
      g.wait();
    }, oo);
    ledger.loops.fetch_add(1, relaxed);
  }
  hits.expect_once(c, "nested loops");
}

std::uint64_t future_tree(weft::Scheduler& s, unsigned depth, std::uint64_t seed) {
  ledger.tasks_ran.fetch_add(1, relaxed);
  if (depth == 0) return 1;
  auto a = s.submit([&s, depth, seed] { return future_tree(s, depth - 1, mix(seed)); },
                    {priority_of(seed)});
  auto b = s.submit([&s, depth, seed] { return future_tree(s, depth - 1, mix(seed + 1)); },
                    {priority_of(seed >> 8)});
  ledger.tasks_accepted.fetch_add(2, relaxed);
  // Wait in either order: the waiter may run the other one itself.
  if (seed % 2 == 0) {
    std::uint64_t x = a.get();
    return 1 + x + b.get();
  }
  std::uint64_t y = b.get();
  return 1 + y + a.get();
}

std::uint64_t group_fib(weft::Scheduler& s, unsigned n) {
  if (n < 2) return n;
  std::uint64_t a = 0, b = 0;
  weft::TaskGroup g(s);
  g.run([&] {
    ledger.tasks_ran.fetch_add(1, relaxed);
    a = group_fib(s, n - 1);
  });
  g.run([&] {
    ledger.tasks_ran.fetch_add(1, relaxed);
    b = group_fib(s, n - 2);
  });
  ledger.tasks_accepted.fetch_add(2, relaxed);
  g.wait();
  return a + b;
}

// Tasks that wait: on Futures they submitted, on groups they made, on a Future made by
// the external thread (a critical task waiting on a low one), on a group made by the
// external thread.
void op_wait_in_task(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  const std::uint64_t seed = c.rng.next();
  weft::Scheduler& s = c.s;
  c.step("wait in task");
  if (variant == 0) {
    const unsigned depth = static_cast<unsigned>(c.rng.between(1, sized(64) >= 64 ? 7 : 4));
    auto f = s.submit([&s, depth, seed] { return future_tree(s, depth, seed); },
                      {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    const std::uint64_t want = (std::uint64_t{2} << depth) - 1;
    std::uint64_t got = f.get();
    c.expect(got == want,
             "a tree of Futures of depth " + str(depth) + " counted " + str(got) + " nodes");
  } else if (variant == 1) {
    const unsigned n = static_cast<unsigned>(c.rng.between(2, sized(64) >= 64 ? 16 : 11));
    auto f = s.submit([&s, n] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      return group_fib(s, n);
    }, {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    std::uint64_t a = 0, b = 1;
    for (unsigned k = 0; k < n; ++k) b = std::exchange(a, b) + b;
    std::uint64_t got = f.get();
    c.expect(got == a, "fib(" + str(n) + ") through TaskGroups in a task gave " + str(got) +
                           ", want " + str(a));
  } else if (variant == 2) {
    const std::uint64_t spin = c.rng.below(2000);
    weft::Future<std::uint64_t> low = s.submit([spin] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      std::uint64_t x = 0;
      for (std::uint64_t i = 0; i < spin; ++i) x += mix(i);
      return x | 1;
    }, {weft::Priority::low});
    weft::Future<std::uint64_t> high = s.submit([f = std::move(low)]() mutable {
      ledger.tasks_ran.fetch_add(1, relaxed);
      return f.get() + 1;
    }, {weft::Priority::critical});
    ledger.tasks_accepted.fetch_add(2, relaxed);
    std::uint64_t x = 0;
    for (std::uint64_t i = 0; i < spin; ++i) x += mix(i);
    std::uint64_t got = high.get();
    c.expect(got == (x | 1) + 1, "a task waiting on a Future got " + str(got));
  } else {
    const std::size_t n = c.rng.between(1, sized(64));
    Hits hits(n);
    weft::TaskGroup g(s);
    for (std::size_t i = 0; i < n; ++i) {
      g.run([&hits, i] {
        ledger.tasks_ran.fetch_add(1, relaxed);
        hits.hit(i);
      }, task_options(c, item_hash(seed, i)));
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
    // One thread at a time waits on a group: here a task does, the external thread
    // waits on that task.
    auto waiter = s.submit([&g] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      g.wait();
    }, {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    waiter.get();
    hits.expect_once(c, "a group waited on by a task");
  }
}

// Loops and reductions whose bodies throw at chosen indices: exactly one exception out
// of the call, one that was thrown; no index twice; nothing after the call returned.
void op_throw_loop(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(4096));
  const std::uint64_t seed = c.rng.next();
  const std::size_t one_in = c.rng.between(1, 600);
  const std::size_t forced = c.rng.below(n);  // at least this index throws
  const bool reduce = c.rng.percent(40);
  weft::ForOptions o = loop_options(c.rng, c.workers());
  if (reduce) o.deterministic = c.rng.percent(50);
  Hits ran(n);
  std::vector<std::exception_ptr> errors(n);
  LateGuard late;
  auto visit = [&](std::size_t i) {
    late.enter();
    ran.hit(i);
    if (i == forced || item_hash(seed, i) % one_in == 0) {
      ledger.exceptions_thrown.fetch_add(1, relaxed);
      throw_recorded(errors[i]);
    }
  };
  std::optional<std::size_t> caught;  // which index's exception the loop rethrew
  c.step("throwing loop");
  try {
    if (reduce) {
      auto chunk = [&](std::size_t b, std::size_t e, std::uint64_t acc) {
        for (std::size_t i = b; i < e; ++i) visit(i);
        return acc + (e - b);
      };
      (void)c.s.parallel_reduce(0, n, std::uint64_t{0}, chunk, std::plus<>{}, o);
    } else {
      c.s.parallel_for(0, n, visit, o);
    }
  } catch (const SoakError&) {
    caught = which(errors);
  }
  late.close();
  std::this_thread::yield();
  std::size_t thrown = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (ran.at(i) > 1) c.fail("index " + str(i) + " ran " + str(ran.at(i)) + " times");
    thrown += errors[i] != nullptr;
  }
  c.expect(caught.has_value(),
           "the loop returned normally though index " + str(forced) + " throws");
  c.expect(*caught < n, "the loop rethrew an exception that no body threw");
  c.expect(thrown >= 1, "an exception came out of a loop in which nothing threw");
  ledger.exceptions_caught.fetch_add(1, relaxed);
  ledger.exceptions_discarded.fetch_add(thrown - 1, relaxed);
  ledger.loops.fetch_add(1, relaxed);
}

// The free functions, on weft::default_scheduler() (whose workers then exist when
// another thread forks).
void op_default(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(2048));
  const std::uint64_t seed = c.rng.next();
  Hits hits(n);
  c.step("default scheduler");
  default_used.store(true, relaxed);
  weft::parallel_for(0, n, [&](std::size_t i) { hits.hit(i); });
  hits.expect_once(c, "weft::parallel_for");
  auto f = weft::submit([seed] {
    ledger.tasks_ran.fetch_add(1, relaxed);
    return seed;
  });
  ledger.tasks_accepted.fetch_add(1, relaxed);
  c.expect(f.get() == seed, "weft::submit returned the wrong value");
  auto chunk = [](std::size_t b, std::size_t e, std::uint64_t acc) {
    for (std::size_t i = b; i < e; ++i) acc += i;
    return acc;
  };
  std::uint64_t sum = weft::parallel_reduce(0, n, std::uint64_t{0}, chunk, std::plus<>{});
  c.expect(sum == n * (n - 1) / 2, "weft::parallel_reduce gave " + str(sum));
  ledger.loops.fetch_add(2, relaxed);
}

// In the child: only the forking thread exists; the default scheduler is made afresh.
// The exit status says which check failed (42: all good). alarm(): a hang in the child
// ends it with SIGALRM, which the parent reports.
int fork_child() {
  alarm(20);
  weft::Scheduler& d = weft::default_scheduler();
  std::atomic<int> sum{0};
  {
    weft::TaskGroup g(d);
    for (int i = 1; i <= 100; ++i) g.run([&sum, i] { sum.fetch_add(i, relaxed); });
    g.wait();
  }
  if (sum.load() != 5050) return 2;
  std::vector<std::atomic<unsigned>> hits(1000);
  weft::parallel_for(0, hits.size(), [&](std::size_t i) { hits[i].fetch_add(1, relaxed); });
  for (auto& h : hits) {
    if (h.load() != 1) return 3;
  }
  auto chunk = [](std::size_t b, std::size_t e, std::uint64_t acc) {
    for (std::size_t i = b; i < e; ++i) acc += i;
    return acc;
  };
  std::uint64_t r = weft::parallel_reduce(0, 10000, std::uint64_t{0}, chunk, std::plus<>{});
  if (r != 49995000) return 4;
  if (weft::submit([] { return 7; }).get() != 7) return 5;
  try {
    weft::submit([] { throw SoakError{}; }).get();
    return 6;
  } catch (const SoakError&) {
  }
  return 42;
}

void op_fork(Ctx& c) {
  const bool use_first = c.rng.percent(50);
  if (!fork_supported) return;
  c.step("fork: parent uses the default scheduler");
  default_used.store(true, relaxed);
  // The parent's default scheduler has live workers at fork time (and maybe work).
  weft::Future<int> pending;
  if (use_first) pending = weft::submit([] { return 1; });
  std::fflush(stdout);
  std::fflush(stderr);
  c.step("fork");
  pid_t pid = fork();
  if (pid < 0) {
    // Out of processes is the machine's problem, not weft's.
    std::fprintf(stderr, "weft-soak: fork() failed (%s); skipped\n", std::strerror(errno));
    if (pending.valid()) pending.get();
    return;
  }
  if (pid == 0) _exit(fork_child());
  c.step("fork: waiting for the child");
  if (pending.valid()) {
    c.expect(pending.get() == 1, "the parent's default scheduler broke across fork()");
  }
  int status = 0;
  const auto limit = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) c.fail(std::string("waitpid: ") + std::strerror(errno));
    if (Clock::now() > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      c.fail("the fork() child did not exit within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (WIFSIGNALED(status)) {
    c.fail("the fork() child was killed by signal " + str(WTERMSIG(status)) +
           (WTERMSIG(status) == SIGALRM ? " (SIGALRM: it hung for 20 s)" : ""));
  }
  c.expect(WIFEXITED(status) && WEXITSTATUS(status) == 42,
           "the fork() child exited with status " + str(WEXITSTATUS(status)) +
               " (42: fine; 2-6: which check failed, see fork_child)");
  ledger.forks.fetch_add(1, relaxed);
}

// metrics() from any thread, any time.
void op_metrics(Ctx& c) {
  c.step("metrics");
  weft::Metrics m = c.s.metrics();
  // The placement's workers, then the background workers (rows flagged so).
  const std::size_t rows = c.workers() + c.s.background_workers();
  c.expect(m.workers.size() == rows, "metrics() has " + str(m.workers.size()) + " workers");
  for (std::size_t i = 0; i < m.workers.size(); ++i)
    c.expect(m.workers[i].background == (i >= c.workers()), "metrics() row " + str(i) + " background flag");
}

struct Op {
  const char* name;
  void (*fn)(Ctx&);
  unsigned weight;
};
constexpr Op ops[] = {
    {"submit", op_submit, 14},       {"group", op_group, 12},
    {"cancel", op_cancel, 10},       {"loop_small", op_loop_small, 14},
    {"loop_large", op_loop_large, 6}, {"reduce", op_reduce, 10},
    {"nested", op_nested, 10},       {"wait_in_task", op_wait_in_task, 10},
    {"throw_loop", op_throw_loop, 6}, {"default_scheduler", op_default, 4},
    {"fork", op_fork, 1},            {"metrics", op_metrics, 1},
};

const Op& pick(Rng& rng) {
  unsigned total = 0;
  for (const Op& op : ops) total += op.weight;
  auto r = static_cast<unsigned>(rng.below(total));
  for (const Op& op : ops) {
    if (r < op.weight) return op;
    r -= op.weight;
  }
  return ops[0];
}

// ---------------------------------------------------------------------------------------
// The run.

struct Run {
  std::unique_ptr<Status[]> status;
  std::atomic<weft::Scheduler*> sched{nullptr};  // null once destruction begins
  std::atomic<const char*> phase{"starting"};
  std::atomic<bool> stop{false};
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
};

// Prints what everyone is doing, then aborts. alarm(): should printing hang as well (a
// lock held by a stuck thread), SIGALRM still ends the process.
[[noreturn]] void watchdog_fire(Run& run, Clock::time_point start) {
  alarm(30);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr,
               "weft-soak: WATCHDOG: the run has not finished %.1f s after it started "
               "(--seconds %g + --grace %g); main: %s\n",
               elapsed, settings.seconds, settings.grace, run.phase.load());
  const std::int64_t now = now_ns();
  for (unsigned t = 0; t < settings.threads; ++t) {
    const Status& st = run.status[t];
    std::fprintf(stderr, "  thread %u: operation #%llu %s, step '%s', for %.1f s\n", t,
                 static_cast<unsigned long long>(st.index.load()), st.op.load(), st.step.load(),
                 static_cast<double>(now - st.since_ns.load()) / 1e9);
  }
  print_replay();
  std::fflush(stderr);
  if (weft::Scheduler* s = run.sched.load()) {
    std::fprintf(stderr, "weft-soak: the soak scheduler's workers:\n%s\n",
                 s->metrics().to_string().c_str());
  } else {
    std::fprintf(stderr, "weft-soak: the soak scheduler is being destroyed (no metrics)\n");
  }
  if (default_used.load()) {
    std::fprintf(stderr, "weft-soak: the default scheduler's workers:\n%s\n",
                 weft::default_scheduler().metrics().to_string().c_str());
  }
  std::fflush(stderr);
  std::abort();
}

void thread_main(Run& run, weft::Scheduler& s, unsigned t, const std::vector<bool>& reserved) {
  Rng rng(mix(settings.seed ^ mix(0x7eed0000u + t)));
  Status& st = run.status[t];
  for (std::uint64_t index = 0; !run.stop.load(relaxed); ++index) {
    const Op& op = pick(rng);
    st.index.store(index, relaxed);
    st.since_ns.store(now_ns(), relaxed);
    st.step.store("", relaxed);
    st.op.store(op.name, relaxed);
    Ctx c{s, rng, st, t, index, op.name, reserved};
    op.fn(c);
    ledger.operations.fetch_add(1, relaxed);
  }
  st.op.store("done", relaxed);
  st.step.store("", relaxed);
}

bool parse_number(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text, &end);
  return errno == 0 && end != text && *end == '\0';
}

int usage(const char* why) {
  std::fprintf(stderr,
               "weft-soak: %s\nusage: weft-soak [--seconds N] [--seed S] [--threads T] "
               "[--workers W] [--grace G]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool seeded = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    double d = 0;
    if (a == "--seconds") {
      if (!parse_number(v, d) || d < 0) return usage("--seconds wants a number >= 0");
      settings.seconds = d;
    } else if (a == "--seed") {
      char* end = nullptr;
      errno = 0;
      settings.seed = std::strtoull(v, &end, 0);
      if (errno != 0 || end == v || *end != '\0') return usage("--seed wants an unsigned integer");
      seeded = true;
    } else if (a == "--threads") {
      if (!parse_number(v, d) || d < 1 || d > 256) return usage("--threads wants 1..256");
      settings.threads = static_cast<unsigned>(d);
    } else if (a == "--grace") {
      if (!parse_number(v, d) || d < 0) return usage("--grace wants a number >= 0");
      settings.grace = d;
    } else if (a == "--workers") {
      if (!parse_number(v, d) || d < 1 || d > 64) return usage("--workers wants 1..64");
      settings.workers = static_cast<unsigned>(d);
    } else {
      return usage(("unknown option " + a).c_str());
    }
  }
  if (!seeded) {
    settings.seed = mix(static_cast<std::uint64_t>(
                            std::chrono::system_clock::now().time_since_epoch().count()) ^
                        (static_cast<std::uint64_t>(getpid()) << 32));
  }

  // The scheduler's shape comes from the seed too: reserved worker, NUMA split, spin.
  Rng shape(mix(settings.seed));
  const unsigned reserved_count = settings.workers >= 2 && shape.percent(50) ? 1 : 0;
  const unsigned numa_nodes = settings.workers >= 2 && shape.percent(50) ? 2 : 1;
  static constexpr unsigned spins[] = {0, 5, 50};
  const auto spin = std::chrono::microseconds(spins[shape.below(3)]);
  std::printf("weft-soak: seed %llu, %g s, %u external threads, %u workers (%u reserved, %u NUMA "
              "nodes, spin %lld us)%s\n",
              static_cast<unsigned long long>(settings.seed), settings.seconds, settings.threads,
              settings.workers, reserved_count, numa_nodes, static_cast<long long>(spin.count()),
              fork_supported ? "" : "; fork skipped under ThreadSanitizer");
  std::fflush(stdout);

  Run run;
  run.status = std::make_unique<Status[]>(settings.threads);
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(settings.seconds + settings.grace));
  std::thread watchdog([&run, start, deadline] {
    std::unique_lock lock(run.m);
    if (!run.cv.wait_until(lock, deadline, [&run] { return run.finished; })) {
      watchdog_fire(run, start);
    }
  });

  auto sched = std::make_unique<weft::Scheduler>(
      weft::test::make_placement(settings.workers, reserved_count, numa_nodes),
      weft::test::unpinned(spin));
  std::vector<bool> reserved;
  for (const auto& w : sched->placement().workers) reserved.push_back(w.reserved);
  run.sched.store(sched.get());
  run.phase.store("running operations");
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < settings.threads; ++t) {
    threads.emplace_back([&run, &sched, t, &reserved] { thread_main(run, *sched, t, reserved); });
  }
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(settings.seconds)));
  run.stop.store(true);
  run.phase.store("joining the external threads (each finishes its operation)");
  for (auto& t : threads) t.join();
  // Destruction runs every task still queued: the dropped Futures' tasks.
  run.phase.store("destroying the scheduler");
  run.sched.store(nullptr);
  sched.reset();
  run.phase.store("checking the ledger");
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  const std::uint64_t accepted = ledger.tasks_accepted.load(), ran = ledger.tasks_ran.load(),
                      skipped = ledger.tasks_skipped.load();
  const std::uint64_t thrown = ledger.exceptions_thrown.load(),
                      caught = ledger.exceptions_caught.load(),
                      discarded = ledger.exceptions_discarded.load();
  bool balanced = true;
  if (accepted != ran + skipped) {
    std::fprintf(stderr,
                 "weft-soak: LEDGER MISMATCH: %llu tasks accepted, %llu ran + %llu skipped\n",
                 static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(ran),
                 static_cast<unsigned long long>(skipped));
    balanced = false;
  }
  if (thrown != caught + discarded) {
    std::fprintf(stderr, "weft-soak: LEDGER MISMATCH: %llu exceptions thrown, %llu caught + %llu "
                 "dropped by design\n",
                 static_cast<unsigned long long>(thrown), static_cast<unsigned long long>(caught),
                 static_cast<unsigned long long>(discarded));
    balanced = false;
  }
  if (ledger.late_runs.load() != 0) {
    std::fprintf(stderr,
                 "weft-soak: LEDGER MISMATCH: %llu loop bodies ran after their loop returned\n",
                 static_cast<unsigned long long>(ledger.late_runs.load()));
    balanced = false;
  }
  if (!balanced) {
    print_replay();
    std::fflush(stderr);
    std::_Exit(1);  // the watchdog thread is still waiting: leave without unwinding
  }
  std::printf("weft-soak: %.1f s, seed %llu: %llu operations, %llu tasks (%llu skipped: "
              "group cancelled or failed), %llu loops, %llu exceptions (%llu caught, %llu "
              "dropped by design), "
              "%llu cancellations, %llu forks; ledger balanced\n",
              elapsed, static_cast<unsigned long long>(settings.seed),
              static_cast<unsigned long long>(ledger.operations.load()),
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(skipped),
              static_cast<unsigned long long>(ledger.loops.load()),
              static_cast<unsigned long long>(thrown), static_cast<unsigned long long>(caught),
              static_cast<unsigned long long>(discarded),
              static_cast<unsigned long long>(ledger.cancellations.load()),
              static_cast<unsigned long long>(ledger.forks.load()));
  {
    std::lock_guard lock(run.m);
    run.finished = true;
  }
  run.cv.notify_all();
  watchdog.join();
  return 0;
}
