// Linked into every GoogleTest binary (weft_add_test): a test that has not finished
// within a bound prints "HANG: <Suite.Test> did not finish within N s" and aborts, so a
// hang the test's own bounded waits do not cover (HangWatch, WorkerGate) still fails
// with its name, not as ctest's bare "Timeout" after killing the binary.
//
// alarm(), not a watcher thread: several tests count the process's threads, and a
// forked child (fork tests, death tests) does not inherit a pending alarm.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

// Below ctest's TIMEOUT (300 s, tests/CMakeLists.txt) so that this message comes out
// first; far beyond what any whole test needs, even under a sanitizer.
constexpr unsigned limit_s = 280;

// The running test's name, formatted before the alarm is armed: the handler may only
// write() it out.
char running[512];
std::size_t running_len = 0;

void append(const char* text) {
  const std::size_t n = std::strlen(text);
  const std::size_t room = sizeof(running) - running_len;
  const std::size_t take = n < room ? n : room;
  std::memcpy(running + running_len, text, take);
  running_len += take;
}

void on_alarm(int) {
  static const char head[] = "\nHANG: ";
  static const char tail[] = " did not finish within 280 s (tests/test_watchdog.cpp)\n";
  static_assert(limit_s == 280, "the message above states the limit");
  // The results of write() are ignored: the process aborts either way.
  if (write(STDERR_FILENO, head, sizeof(head) - 1) < 0 ||
      write(STDERR_FILENO, running, running_len) < 0 ||
      write(STDERR_FILENO, tail, sizeof(tail) - 1) < 0) {
  }
  std::abort();
}

class Watchdog : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    running_len = 0;
    append(info.test_suite_name());
    append(".");
    append(info.name());
    alarm(limit_s);
  }
  void OnTestEnd(const ::testing::TestInfo&) override { alarm(0); }
};

// Before main (gtest_main's): the listener list exists from the first use of UnitTest.
[[maybe_unused]] const bool installed = [] {
  struct sigaction action {};
  action.sa_handler = on_alarm;
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);
  ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);
  return true;
}();

}  // namespace
