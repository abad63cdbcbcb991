// Two processes started side by side with default settings do not both pin their
// workers to the same cores (Config::pinning unset: pin only CPUs this process owns).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "topology/cpu_budget.hpp"
#include "topology/cpu_list.hpp"
#include "weft/scheduler.hpp"

namespace {

// The kernel's affinity list of this process's thread named `name` ("" if none yet).
std::string affinity_of_thread(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm != name) continue;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cpus_allowed_list:", 0) == 0)
        return line.substr(line.find_first_not_of(" \t", sizeof "Cpus_allowed_list:" - 1));
  }
  return "";
}

// Child: a scheduler with the default Config; writes worker 0's affinity to `fd`. A
// worker names itself after binding, so once the name shows its affinity is final.
[[noreturn]] void report_worker_affinity(int fd) {
  std::string cpus;
  {
    weft::Scheduler sched{weft::Config{}};
    for (int tries = 0; tries < 10000 && cpus.empty(); ++tries) {
      cpus = affinity_of_thread("weft-w0");
      if (cpus.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const bool written = !cpus.empty() && write(fd, cpus.data(), cpus.size()) ==
                                            static_cast<ssize_t>(cpus.size());
  _exit(written ? 0 : 1);
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
};

Child start_child() {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    report_worker_affinity(fds[1]);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

std::string finish_child(const Child& child) {
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = read(child.fd, buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  close(child.fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return out;
}

TEST(SchedDefaultPinning, TwoProcessesSideBySideDoNotShareAPinnedCore) {
#ifdef WEFT_TEST_TSAN
  GTEST_SKIP() << "ThreadSanitizer does not support fork() in a process with threads";
#endif
  const std::vector<unsigned> mask = weft::detail::read_affinity_mask();
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (static_cast<long>(mask.size()) < online)
    GTEST_SKIP() << "this process was given part of the machine (" << mask.size() << " of "
                 << online << " CPUs), where the default pins by rule";
  const Child a = start_child();
  const Child b = start_child();
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  const std::string cpus_a = finish_child(a);
  const std::string cpus_b = finish_child(b);
  // Each child may run anywhere this test may: neither claimed a core for itself.
  const std::string whole = weft::detail::format_cpu_list(mask);
  EXPECT_EQ(cpus_a, whole);
  EXPECT_EQ(cpus_b, whole);
}

}  // namespace
