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
//
// This file is the driver (the operation mix, the external threads, the watchdog, the
// final balance); soak.hpp holds what the operations share, ops_*.cpp the operations.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "soak.hpp"

namespace soak {
namespace {

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
}  // namespace soak

// main() reads the shared settings and ledger by their short names.
using namespace soak;


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
