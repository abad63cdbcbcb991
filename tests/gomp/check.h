/* Self-checking OpenMP test programs: CHECK prints the failed condition with its line
   and makes the program exit non-zero at the end (CTest reads the exit status). */
#ifndef WEFT_TESTS_GOMP_CHECK_H
#define WEFT_TESTS_GOMP_CHECK_H
#include <stdio.h>

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
