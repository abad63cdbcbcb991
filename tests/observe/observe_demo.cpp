// observe-demo: drives an Observer from a few threads the way the scheduler's workers
// will, then prints the metrics JSON or writes the trace. Used by the CTests that check
// our output with external tools (python3 -m json.tool, an XML parser, weft-plot).
//
//   observe-demo metrics            metrics JSON on stdout
//   observe-demo trace PATH         Chrome trace JSON into PATH (4 workers)
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "observe/observer.hpp"

namespace {

using weft::Priority;
using weft::detail::ObservedSpan;
using weft::detail::Observer;
using weft::detail::SpanKind;
using State = weft::detail::WorkerObserver::State;

constexpr unsigned num_workers = 4;

void run(Observer& observer) {
  static const char* const names[4] = {"prefetch", "tokenize", "checkpoint", "infer \"fast\""};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < num_workers; ++i)
    threads.emplace_back([&observer, i] {
      auto& w = observer.worker(i);
      w.thread_started();
      for (unsigned r = 0; r < 50; ++r) {
        const auto p = static_cast<Priority>((r + i) % 4);
        {
          ObservedSpan span(&w, r % 5 == 0 ? SpanKind::loop : SpanKind::task, p, names[(r + i) % 4]);
          volatile unsigned x = 0;
          for (unsigned k = 0; k < 20000 * (i + 1); ++k) x = x + k;
        }
        w.enter(State::spinning);
        std::this_thread::yield();
        w.enter(State::busy);
      }
      w.thread_exiting();
    });
  for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  weft::Placement placement;
  placement.cpu_budget = num_workers + 1;
  for (unsigned i = 0; i < num_workers; ++i) {
    weft::WorkerPlacement w;
    w.core = i + 1;
    w.numa_node = i / 2;
    w.l3 = i / 2;
    placement.workers.push_back(w);
  }
  weft::detail::ObserveOptions options;
  options.trace_capacity = 1024;
  options.hardware_counters = true;
  Observer observer(placement, options);
  try {
    if (argc == 2 && std::strcmp(argv[1], "metrics") == 0) {
      run(observer);
      std::puts(observer.metrics().to_json().c_str());
      return 0;
    }
    if (argc == 3 && std::strcmp(argv[1], "trace") == 0) {
      run(observer);
      observer.write_trace(argv[2]);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "observe-demo: %s\n", e.what());
    return 1;
  }
  std::fputs("usage: observe-demo metrics | observe-demo trace PATH\n", stderr);
  return 2;
}
