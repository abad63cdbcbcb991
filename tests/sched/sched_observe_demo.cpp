// A small program that runs a real scheduler for the observability CTests:
//   sched-observe-demo trace PATH   a 3-worker scheduler's trace, written to PATH
//   sched-observe-demo exit         50 named tasks on the default scheduler, then exit:
//                                   WEFT_METRICS / WEFT_TRACE make it write its files
//   sched-observe-demo fork-exit    the same, and a forked child runs 10 tasks on its
//                                   own default scheduler: it writes to PATH.<pid>
// Both wait until every worker is asleep, so each span has been recorded.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "sched_test_support.hpp"
#include "weft/metrics.hpp"
#include "weft/scheduler.hpp"

namespace {

// Asleep: each worker parked once more than it woke (the window began at construction,
// workers awake). It records a span before it parks.
void wait_until_idle(const weft::Scheduler& s) {
  for (;;) {
    const weft::Metrics m = s.metrics();
    bool idle = true;
    for (const auto& w : m.workers) idle = idle && w.parks == w.wakeups + 1;
    if (idle) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void run_work(weft::Scheduler& s, int tasks, const char* name) {
  std::vector<weft::Future<void>> futures;
  const int workers = static_cast<int>(s.placement().workers.size());
  for (int i = 0; i < tasks; ++i) {
    weft::TaskOptions o;
    o.worker = i % workers;
    o.strict = true;
    o.priority = static_cast<weft::Priority>(i % 4);
    o.name = name;
    futures.push_back(s.submit(
        [] {
          volatile unsigned x = 0;
          for (unsigned k = 0; k < 20000; ++k) x = x + k;
        },
        o));
  }
  for (auto& f : futures) f.get();
  std::vector<double> v(1 << 16, 1.0);
  weft::ForOptions fo;
  fo.name = "axpy";
  fo.chunk = 1024;
  for (int pass = 0; pass < 5; ++pass) {
    s.parallel_for(0, v.size(), [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) v[i] = v[i] * 1.0001 + 0.5;
    }, fo);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "trace" && argc == 3) {
    // 3 lanes: the placement's workers only (no background workers).
    weft::Config c = weft::test::without_background();
    c.trace_capacity = 4096;
    weft::Scheduler s(weft::test::make_placement(3), c);
    run_work(s, 60, "step");
    wait_until_idle(s);
    s.write_trace(argv[2]);
    return 0;
  }
  if (mode == "exit" && argc == 2) {
    weft::Scheduler& s = weft::default_scheduler();
    run_work(s, 50, "exit-task");
    wait_until_idle(s);
    return 0;  // the atexit handler writes WEFT_METRICS / WEFT_TRACE
  }
  if (mode == "fork-exit" && argc == 2) {
    weft::Scheduler& s = weft::default_scheduler();
    run_work(s, 50, "exit-task");
    wait_until_idle(s);
    const pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
      weft::Scheduler& c = weft::default_scheduler();  // a fresh one in the child
      run_work(c, 10, "child-task");
      wait_until_idle(c);
      std::exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child) return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
  }
  std::fputs("usage: sched-observe-demo trace PATH | exit | fork-exit\n", stderr);
  return 2;
}
