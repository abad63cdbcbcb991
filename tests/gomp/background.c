/* libweft_gomp starts no background workers unless WEFT_BACKGROUND_WORKERS asks for them
   (src/gomp/env.cpp says why: OpenMP code spins on locks across regions of different
   priorities, and idle-class members holding such a lock stall urgent regions). So a
   low-priority region's members are ordinary workers at the normal class; with
   WEFT_BACKGROUND_WORKERS=auto they are background workers at SCHED_IDLE. */
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
  if (asked != NULL && strcmp(asked, "0") != 0) {
    CHECK_EQ_LONG(member_policy, SCHED_IDLE);
  } else {
    CHECK_EQ_LONG(member_policy, SCHED_OTHER);
  }
  CHECK_DONE();
}
