/* Parallel regions: team size (num_threads, if, nthreads-var), the omp_* queries about
   teams and levels, nesting (one active level by default, more when asked), barriers in
   every region, and concurrent regions from two threads of the program. Run with
   OMP_NUM_THREADS=4 (CTest sets it). */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static void region_basics(void) {
  int size = 0, seen[64] = {0};
  #pragma omp parallel
  {
    #pragma omp single
    size = omp_get_num_threads();
    seen[omp_get_thread_num()] = 1;
    CHECK(omp_in_parallel());
    CHECK_EQ_LONG(omp_get_level(), 1);
    CHECK_EQ_LONG(omp_get_active_level(), 1);
    CHECK_EQ_LONG(omp_get_team_size(1), omp_get_num_threads());
    CHECK_EQ_LONG(omp_get_ancestor_thread_num(1), omp_get_thread_num());
    CHECK_EQ_LONG(omp_get_ancestor_thread_num(0), 0);
  }
  /* OMP_NUM_THREADS=4 and weft's thread count follows it: every thread came. */
  CHECK_EQ_LONG(size, 4);
  for (int i = 0; i < size; ++i) CHECK(seen[i]);
  CHECK(!omp_in_parallel());
  CHECK_EQ_LONG(omp_get_level(), 0);
  CHECK_EQ_LONG(omp_get_thread_num(), 0);
  CHECK_EQ_LONG(omp_get_num_threads(), 1);
}

static void team_sizes(void) {
  int n = 0;
  #pragma omp parallel num_threads(2)
  #pragma omp single
  n = omp_get_num_threads();
  CHECK_EQ_LONG(n, 2);
  int off = 1;
  #pragma omp parallel if (off == 0)
  #pragma omp single
  n = omp_get_num_threads();
  CHECK_EQ_LONG(n, 1);
  omp_set_num_threads(3);
  CHECK_EQ_LONG(omp_get_max_threads(), 3);
  #pragma omp parallel
  #pragma omp single
  n = omp_get_num_threads();
  CHECK_EQ_LONG(n, 3);
  omp_set_num_threads(4);
  /* More than weft has: a smaller team, never more threads than weft's. */
  #pragma omp parallel num_threads(64)
  #pragma omp single
  n = omp_get_num_threads();
  CHECK(n >= 1 && n <= omp_get_thread_limit());
}

static void nesting(void) {
  int inner_size = -1, inner_level = -1, inner_active = -1;
  #pragma omp parallel num_threads(2)
  {
    #pragma omp parallel num_threads(2)
    {
      /* Each outer thread has its own inner team: one of them records. */
      if (omp_get_ancestor_thread_num(1) == 0) {
        inner_size = omp_get_num_threads();
        inner_level = omp_get_level();
        inner_active = omp_get_active_level();
      }
    }
  }
  /* One active level by default (libgomp's default): the inner team is one thread. */
  CHECK_EQ_LONG(inner_size, 1);
  CHECK_EQ_LONG(inner_level, 2);
  CHECK_EQ_LONG(inner_active, 1);

  omp_set_max_active_levels(2);
  int ancestors_ok = 1, total = 0;
  #pragma omp parallel num_threads(2) reduction(+:total)
  {
    int outer = omp_get_thread_num();
    #pragma omp parallel num_threads(2) reduction(+:total)
    {
      /* Nested teams get the workers that are free: maybe fewer than asked. */
      if (omp_get_ancestor_thread_num(1) != outer) ancestors_ok = 0;
      if (omp_get_team_size(2) != omp_get_num_threads()) ancestors_ok = 0;
      #pragma omp barrier
      total += 1;
    }
  }
  CHECK(ancestors_ok);
  CHECK(total >= 2 && total <= 4);
  omp_set_max_active_levels(1);
}

static void many_barriers(void) {
  int counter = 0, bad = 0;
  #pragma omp parallel
  {
    for (int round = 0; round < 200; ++round) {
      #pragma omp atomic
      counter++;
      #pragma omp barrier
      if (counter != (round + 1) * omp_get_num_threads()) {
        #pragma omp atomic write
        bad = 1;
      }
      #pragma omp barrier
    }
  }
  CHECK(!bad);
}

/* Two program threads start regions at once: each forms a team from the workers that
   are free, and both finish (barriers included). */
static void* concurrent_region(void* arg) {
  int* ok = (int*)arg;
  for (int i = 0; i < 50; ++i) {
    int count = 0;
    #pragma omp parallel num_threads(4) reduction(+:count)
    {
      #pragma omp barrier
      count += 1;
      #pragma omp barrier
    }
    if (count < 1 || count > 4) *ok = 0;
  }
  return NULL;
}

static void concurrent_regions(void) {
  pthread_t t[2];
  int ok[2] = {1, 1};
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, concurrent_region, &ok[i]);
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  CHECK(ok[0] && ok[1]);
}

int main(void) {
  region_basics();
  team_sizes();
  nesting();
  many_barriers();
  concurrent_regions();
  CHECK_DONE();
}
