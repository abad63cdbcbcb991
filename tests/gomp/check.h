/* Self-checking OpenMP test programs: CHECK prints the failed condition with its line
   and makes the program exit non-zero at the end (CTest reads the exit status). */
#ifndef WEFT_TESTS_GOMP_CHECK_H
#define WEFT_TESTS_GOMP_CHECK_H
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A program still running after 280 s is hung (a barrier nobody reaches, a lost
   wake-up): it says which program and aborts, before ctest's 300 s TIMEOUT would kill it
   without a word. alarm(), not a watcher thread: nothing joins the team's threads, and
   a forked child does not inherit it. __BASE_FILE__: the program's own source (gcc). */
static void check_on_alarm(int sig) {
  static const char msg[] = "HANG: " __BASE_FILE__ " did not finish within 280 s\n";
  (void)sig;
  if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* aborting either way */
  }
  abort();
}
__attribute__((constructor)) static void check_arm_hang_limit(void) {
  signal(SIGALRM, check_on_alarm);
  alarm(280);
}

static int check_failures = 0;
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      ++check_failures;                                                          \
    }                                                                            \
  } while (0)
#define CHECK_EQ_LONG(a, b)                                                      \
  do {                                                                           \
    long check_a_ = (long)(a), check_b_ = (long)(b);                             \
    if (check_a_ != check_b_) {                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%ld vs %ld)\n", __FILE__,  \
              __LINE__, #a, #b, check_a_, check_b_);                             \
      ++check_failures;                                                          \
    }                                                                            \
  } while (0)
#define CHECK_DONE()                                                             \
  do {                                                                           \
    if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures); \
    else printf("all checks passed\n");                                          \
    return check_failures ? 1 : 0;                                               \
  } while (0)
#endif
