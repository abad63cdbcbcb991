// The calling thread's cost of small loops and submit/get, for callgrind, which counts
// instructions repeatably on a busy machine (a time benchmark could not see a few
// instructions per chunk here). bench/run_caller_path.sh builds and counts it.
#include <weft/weft.hpp>

#include <atomic>
#include <chrono>

int main() {
  weft::Config config;
  config.num_threads = 2;
  config.pinning = weft::Pinning::none;
  config.spin = std::chrono::microseconds(0);  // parked workers: no spinning to count
  weft::Scheduler sched(config);
  std::atomic<long> sink{0};
  constexpr int rounds = 2000;
  // A 2-iteration fork-join loop, submit + get, and a loop of 16 exact chunks.
  for (int i = 0; i < rounds; ++i)
    sched.parallel_for(0, 2, [&](std::size_t j) { sink.fetch_add(long(j), std::memory_order_relaxed); });
  for (int i = 0; i < rounds; ++i) sink += sched.submit([i] { return i; }).get();
  for (int i = 0; i < rounds; ++i)
    sched.parallel_for(
        0, 1 << 12,
        [&](std::size_t b, std::size_t e) { sink.fetch_add(long(e - b), std::memory_order_relaxed); },
        weft::ForOptions{.chunk = 256});
  return sink.load() > 0 ? 0 : 1;
}
