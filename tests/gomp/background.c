/* libweft_gomp starts background workers as weft does, unless OpenBLAS's OpenMP build
   is loaded (src/gomp/blas_probe.cpp; tests/gomp/openblas.c checks that case) or
   WEFT_BACKGROUND_WORKERS=0. This program loads no OpenBLAS, so a low-priority region's
   member runs at SCHED_IDLE; with WEFT_BACKGROUND_WORKERS=0 it is an ordinary worker at
   SCHED_OTHER. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int main(void) {
  /* Looked up at run time: the preload run's program is linked against libgomp. */
  int (*set_priority)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "weft_set_thread_priority");
  CHECK(set_priority != NULL);
  if (set_priority == NULL) CHECK_DONE();
  CHECK(set_priority(0) >= 0); /* low; returns the previous level */
  int member_policy = -1;
  int team = 0;
  #pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 1) member_policy = sched_getscheduler(0);
    if (omp_get_thread_num() == 0) team = omp_get_num_threads();
  }
  CHECK_EQ_LONG(team, 2);
  const char* asked = getenv("WEFT_BACKGROUND_WORKERS");
  if (asked != NULL && strcmp(asked, "0") == 0) {
    CHECK_EQ_LONG(member_policy, SCHED_OTHER);
  } else {
    CHECK_EQ_LONG(member_policy, SCHED_IDLE);
  }
  CHECK_DONE();
}
