// weft::configure and weft::set_num_threads on the process-wide default scheduler. One
// test, in order, in a binary of its own: the default scheduler exists once per process.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "weft/parallel.hpp"
#include "weft/scheduler.hpp"

namespace {

// Threads that ran part of a loop on the default scheduler.
std::size_t threads_in_loop(unsigned iterations) {
  std::mutex mutex;
  std::set<std::thread::id> ids;
  weft::parallel_for(
      0, iterations,
      [&](std::size_t, std::size_t) {
        std::lock_guard<std::mutex> lock(mutex);
        ids.insert(std::this_thread::get_id());
      },
      weft::ForOptions{.chunk = 1});
  return ids.size();
}

std::string message_of(void (*f)()) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(SchedDefaultConfig, ConfigureBeforeFirstUseThenSetNumThreads) {
  EXPECT_NE(message_of([] {
              weft::Config c;
              c.reserved_workers = 99;
              weft::configure(c);
            }).find("reserved_workers: 99"),
            std::string::npos);

  weft::Config config;  // a bad config left nothing behind: this one takes effect
  config.num_threads = 3;
  config.pinning = weft::Pinning::none;
  weft::configure(config);
  weft::Scheduler& s = weft::default_scheduler();
  EXPECT_EQ(s.num_threads(), 3u);
  EXPECT_EQ(s.placement().workers.size(), 2u);

  EXPECT_NE(message_of([] { weft::configure(weft::Config{}); })
                .find("configure: the default scheduler is already running"),
            std::string::npos);

  weft::set_num_threads(1);
  EXPECT_EQ(s.num_threads(), 1u);
  EXPECT_EQ(threads_in_loop(64), 1u);  // the caller alone
  EXPECT_EQ(weft::submit([] { return 7; }).get(), 7);  // tasks still run

  EXPECT_NE(message_of([] { weft::set_num_threads(4); })
                .find("set_num_threads: 4 is more than this scheduler's 3 threads"),
            std::string::npos);
  EXPECT_EQ(s.num_threads(), 1u);  // unchanged by the refused call

  weft::set_num_threads(0);  // back to the planned width
  EXPECT_EQ(s.num_threads(), 3u);

  // A scheduler the user made is not the default one's business.
  weft::Config two;
  two.num_threads = 2;
  two.pinning = weft::Pinning::none;
  weft::Scheduler own(two);
  weft::set_num_threads(2);
  EXPECT_EQ(s.num_threads(), 2u);
  EXPECT_EQ(own.num_threads(), 2u);
  own.set_num_threads(1);
  EXPECT_EQ(own.num_threads(), 1u);
  EXPECT_EQ(s.num_threads(), 2u);
}

}  // namespace
