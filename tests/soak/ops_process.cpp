// weft-soak's process-wide operations: the free functions on the default scheduler,
// fork() with a check in the child, and metrics() from any thread.
// Operations. Each draws all its parameters from c.rng before it starts.
#include "soak.hpp"

namespace soak {

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

}  // namespace soak
