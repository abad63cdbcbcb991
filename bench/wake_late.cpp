// The machine's own wake-up tail, with no scheduler library involved: a thread sleeps
// until a point every 1 ms, 2000 times, and records how late it runs. Once on a quiet
// machine, once beside one busy SCHED_IDLE thread per CPU (what weft's background
// workers look like to the kernel). run_live.sh prints it before its runs, so its
// percentiles can be read against what the hardware and hypervisor do by themselves:
// a late wake-up of a thread at the normal class beside idle-class threads is not
// something a library in the process can remove.
//
//   weft-bench-wake-late          prints two RESULT lines (alone, beside_idle_burners)
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void measure(const char* name, unsigned burners) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < burners; ++i) {
    threads.emplace_back([&stop] {
      sched_param param{};
      sched_setscheduler(0, SCHED_IDLE, &param);
      // relaxed: a flag; the loop only has to end eventually.
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  }
  constexpr int samples = 2000;
  std::vector<double> late_us;
  late_us.reserve(samples);
  auto next = Clock::now() + std::chrono::milliseconds(10);
  for (int i = 0; i < samples; ++i) {
    next += std::chrono::microseconds(1000);
    std::this_thread::sleep_until(next);
    late_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - next).count());
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  std::sort(late_us.begin(), late_us.end());
  const auto over = std::count_if(late_us.begin(), late_us.end(), [](double v) { return v > 500; });
  std::printf("RESULT wake-late %-20s p50_us %7.1f p99_us %7.1f max_us %7.1f over_500us %ld/%d\n",
              name, late_us[samples / 2], late_us[samples * 99 / 100], late_us.back(),
              static_cast<long>(over), samples);
}

}  // namespace

int main() {
  measure("alone", 0);
  measure("beside_idle_burners", std::max(1u, std::thread::hardware_concurrency()));
  return 0;
}
