// fork(): the child gets a working default scheduler with fresh workers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"

namespace {

int child_main() {
  std::atomic<int> sum{0};
  weft::TaskGroup g(weft::default_scheduler());
  for (int i = 1; i <= 100; ++i) g.run([&sum, i] { sum.fetch_add(i); });
  g.wait();
  int v = weft::submit([&sum] { return sum.load(); }).get();
  return v == 5050 ? 42 : 1;
}

TEST(SchedFork, ChildGetsAWorkingDefaultScheduler) {
#ifdef WEFT_TEST_TSAN
  GTEST_SKIP() << "ThreadSanitizer does not support fork() in a process with threads";
#endif
  // The parent uses the default scheduler first, so its workers exist at fork time.
  EXPECT_EQ(weft::submit([] { return 1; }).get(), 1);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(child_main());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
  // The parent's scheduler still works.
  EXPECT_EQ(weft::submit([] { return 2; }).get(), 2);
}

}  // namespace
