/* Worksharing loops: every schedule gcc can call the runtime for (static, dynamic,
   guided, runtime, auto; chunked; monotonic and nonmonotonic), signed and unsigned long
   long counters, negative steps, collapse, nowait and ordered. Each loop must run every
   iteration exactly once; ordered must run in iteration order. */
#include <omp.h>
#include <string.h>

#include "check.h"

#define N 1009 /* prime: chunks never divide it evenly */

static int hits[N];

static int each_once(void) {
  for (int i = 0; i < N; ++i) {
    if (hits[i] != 1) return 0;
  }
  return 1;
}

#define PRAGMA(x) _Pragma(#x)
#define LOOP_CASE(...)                                        \
  do {                                                        \
    memset(hits, 0, sizeof hits);                             \
    PRAGMA(omp parallel for schedule(__VA_ARGS__))            \
    for (int i = 0; i < N; ++i) {                             \
      _Pragma("omp atomic")                                   \
      hits[i]++;                                              \
    }                                                         \
    if (!each_once()) {                                       \
      fprintf(stderr, "schedule(%s) missed or repeated\n", #__VA_ARGS__); \
      ++check_failures;                                       \
    }                                                         \
  } while (0)

static void schedules(void) {
  LOOP_CASE(static);
  LOOP_CASE(static, 7);
  LOOP_CASE(dynamic);
  LOOP_CASE(dynamic, 13);
  LOOP_CASE(guided);
  LOOP_CASE(guided, 5);
  LOOP_CASE(runtime);
  LOOP_CASE(auto);
  LOOP_CASE(monotonic: dynamic, 3);
  LOOP_CASE(nonmonotonic: dynamic, 3);
  LOOP_CASE(monotonic: guided);
  LOOP_CASE(monotonic: static, 2);
}

static void orphaned_and_nowait(void) {
  memset(hits, 0, sizeof hits);
  int second[N] = {0};
  #pragma omp parallel
  {
    #pragma omp for schedule(dynamic, 4) nowait
    for (int i = 0; i < N; ++i) hits[i]++;
    #pragma omp for schedule(guided) nowait
    for (int i = 0; i < N; ++i) {
      #pragma omp atomic
      second[i]++;
    }
    #pragma omp for schedule(runtime) nowait
    for (int i = N - 1; i >= 0; i -= 1) {
      #pragma omp atomic
      second[i]++;
    }
  }
  CHECK(each_once());
  int twice = 1;
  for (int i = 0; i < N; ++i) twice &= second[i] == 2;
  CHECK(twice);
  /* An orphaned loop outside any region binds to a team of one. */
  memset(hits, 0, sizeof hits);
  #pragma omp for schedule(dynamic, 2)
  for (int i = 0; i < N; ++i) hits[i]++;
  CHECK(each_once());
}

static void counters(void) {
  /* Negative step, a step over 1, unsigned long long beyond 2^32. */
  long sum = 0;
  #pragma omp parallel for schedule(dynamic, 3) reduction(+:sum)
  for (long i = 1000; i > -1000; i -= 7) sum += i;
  long expect = 0;
  for (long i = 1000; i > -1000; i -= 7) expect += i;
  CHECK_EQ_LONG(sum, expect);

  unsigned long long base = 1ULL << 40, usum = 0, uexpect = 0;
  #pragma omp parallel for schedule(dynamic, 5) reduction(+:usum)
  for (unsigned long long k = base; k < base + 3000; k += 3) usum += k - base;
  for (unsigned long long k = base; k < base + 3000; k += 3) uexpect += k - base;
  CHECK(usum == uexpect);

  usum = 0;
  #pragma omp parallel for schedule(guided) reduction(+:usum)
  for (unsigned long long k = base + 3000; k > base; k -= 2) usum += k - base;
  uexpect = 0;
  for (unsigned long long k = base + 3000; k > base; k -= 2) uexpect += k - base;
  CHECK(usum == uexpect);

  usum = 0;
  #pragma omp parallel for schedule(runtime) reduction(+:usum)
  for (unsigned long long k = 0; k < (1ULL << 36); k += (1ULL << 30)) usum += 1;
  CHECK(usum == 64);

  /* Bounds near the type's limit: the last chunk ends at the loop's own end. */
  long near = 0;
  #pragma omp parallel for schedule(dynamic, 2) reduction(+:near)
  for (long i = __LONG_MAX__ - 100; i < __LONG_MAX__ - 1; i += 9) near += 1;
  CHECK_EQ_LONG(near, 11);
}

static void collapse(void) {
  static int grid[37][41];
  memset(grid, 0, sizeof grid);
  #pragma omp parallel for collapse(2) schedule(dynamic, 11)
  for (int i = 0; i < 37; ++i)
    for (int j = 0; j < 41; ++j) grid[i][j]++;
  int ok = 1;
  for (int i = 0; i < 37; ++i)
    for (int j = 0; j < 41; ++j) ok &= grid[i][j] == 1;
  CHECK(ok);
}

static void ordered(void) {
  int order[200], next = 0;
  #pragma omp parallel for ordered schedule(dynamic, 3)
  for (int i = 0; i < 200; ++i) {
    #pragma omp ordered
    order[next++] = i;
  }
  int ok = next == 200;
  for (int i = 0; i < 200; ++i) ok &= order[i] == i;
  CHECK(ok);

  next = 0;
  #pragma omp parallel
  {
    #pragma omp for ordered schedule(static)
    for (int i = 0; i < 100; ++i) {
      if (i % 3 == 0) { /* not every iteration runs its ordered region */
        #pragma omp ordered
        order[next++] = i;
      }
    }
    #pragma omp for ordered schedule(runtime)
    for (int i = 100; i < 130; ++i) {
      #pragma omp ordered
      order[next++] = i;
    }
  }
  ok = 1;
  int expect = 0;
  for (int i = 0; i < 100; i += 3) ok &= order[expect++] == i;
  for (int i = 100; i < 130; ++i) ok &= order[expect++] == i;
  CHECK(ok && next == expect);

  unsigned long long uorder[50];
  int un = 0;
  #pragma omp parallel for ordered schedule(guided)
  for (unsigned long long k = 0; k < 50; ++k) {
    #pragma omp ordered
    uorder[un++] = k;
  }
  ok = un == 50;
  for (int i = 0; i < 50; ++i) ok &= uorder[i] == (unsigned long long)i;
  CHECK(ok);
}

static void runtime_schedule_api(void) {
  omp_sched_t kind;
  int chunk;
  omp_set_schedule(omp_sched_guided, 4);
  omp_get_schedule(&kind, &chunk);
  CHECK(kind == omp_sched_guided && chunk == 4);
  LOOP_CASE(runtime);
  omp_set_schedule(omp_sched_static, 0);
  LOOP_CASE(runtime);
  omp_set_schedule(omp_sched_dynamic, 1);
}

int main(void) {
  schedules();
  orphaned_and_nowait();
  counters();
  collapse();
  ordered();
  runtime_schedule_api();
  CHECK_DONE();
}
