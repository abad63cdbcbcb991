// Context switches of another thread, read through /proc/self/task/<tid>/status.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/thread_id.hpp"
#include "observe/thread_stats.hpp"

namespace weft::detail {
namespace {

TEST(ObserveThreadStats, ParsesStatusText) {
  const auto s = parse_context_switches(
      "Name:\tweft-w0\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t120\n"
      "nonvoluntary_ctxt_switches:\t7\n");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->voluntary, 120u);
  EXPECT_EQ(s->involuntary, 7u);
}

TEST(ObserveThreadStats, IncompleteStatusIsUnavailable) {
  EXPECT_FALSE(parse_context_switches("voluntary_ctxt_switches:\t1\n").has_value());
  EXPECT_FALSE(parse_context_switches("voluntary_ctxt_switches:\tx\n"
                                      "nonvoluntary_ctxt_switches:\t1\n")
                   .has_value());
  EXPECT_FALSE(parse_context_switches("").has_value());
}

TEST(ObserveThreadStats, ReadsAnotherLiveThread) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> stop{false};
  std::thread t([&] {
    tid.store(current_tid());
    while (!stop.load()) std::this_thread::yield();
  });
  while (tid.load() == 0) std::this_thread::yield();
  const auto s = read_context_switches(tid.load());
  stop.store(true);
  t.join();
  ASSERT_TRUE(s.has_value()) << "/proc/self/task/<tid>/status unreadable";
  EXPECT_NE(tid.load(), current_tid());
}

TEST(ObserveThreadStats, UnknownThreadIsUnavailable) {
  EXPECT_FALSE(read_context_switches(0).has_value());
  EXPECT_FALSE(read_context_switches(-5).has_value());
}

}  // namespace
}  // namespace weft::detail
