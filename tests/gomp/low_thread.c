/* A thread that declares itself low (weft_set_thread_priority(0)) runs at the OS's idle
   class where low work does (src/gomp/thread_class.cpp): it is member 0 of its low
   regions and would otherwise take a CPU from urgent teams. Workers keep their class;
   raising the level restores SCHED_OTHER where the kernel allows it, and where it does
   not (no CAP_SYS_NICE, RLIMIT_NICE below 20) the thread stays idle and is told so.
   With WEFT_BACKGROUND_WORKERS=0 (low work at the normal class) nothing changes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/capability.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int (*set_priority)(int);
static int (*get_priority)(void);

static int can_leave_idle(void) {
  struct rlimit nice;
  if (getrlimit(RLIMIT_NICE, &nice) == 0 && nice.rlim_cur >= 20) return 1;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) return 0;
  return (data[0].effective & (1u << CAP_SYS_NICE)) != 0;
}

/* This thread only (capabilities are per thread): RLIMIT_NICE 0, CAP_SYS_NICE off. */
static void drop_leave_idle(void) {
  struct rlimit none = {0, 0};
  CHECK(setrlimit(RLIMIT_NICE, &none) == 0);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  CHECK(syscall(SYS_capget, &header, data) == 0);
  data[0].effective &= ~(1u << CAP_SYS_NICE);
  CHECK(syscall(SYS_capset, &header, data) == 0);
  CHECK(!can_leave_idle());
}

/* set_priority(level) with stderr captured into `out`. */
static int set_priority_captured(int level, char* out, size_t size) {
  fflush(stderr);
  FILE* file = tmpfile();
  const int saved = dup(STDERR_FILENO);
  CHECK(file != NULL && saved >= 0);
  dup2(fileno(file), STDERR_FILENO);
  const int previous = set_priority(level);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  rewind(file);
  const size_t n = fread(out, 1, size - 1, file);
  out[n] = '\0';
  fclose(file);
  return previous;
}

int main(void) {
  /* Looked up at run time: the preload run's program is linked against libgomp. */
  set_priority = (int (*)(int))dlsym(RTLD_DEFAULT, "weft_set_thread_priority");
  get_priority = (int (*)(void))dlsym(RTLD_DEFAULT, "weft_get_thread_priority");
  CHECK(set_priority != NULL && get_priority != NULL);
  if (set_priority == NULL || get_priority == NULL) CHECK_DONE();
  const char* asked = getenv("WEFT_BACKGROUND_WORKERS");
  const int idle_class = asked == NULL || strcmp(asked, "0") != 0;
  const int low_policy = idle_class ? SCHED_IDLE : SCHED_OTHER;

  /* A worker asked to be low inside a normal region keeps its class. */
  int member_before = -1, member_after = -1;
  #pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 1) {
      member_before = sched_getscheduler(0);
      const int previous = set_priority(0);
      member_after = sched_getscheduler(0);
      set_priority(previous);
    }
  }
  CHECK_EQ_LONG(member_before, SCHED_OTHER);
  CHECK_EQ_LONG(member_after, SCHED_OTHER);

  /* The declaring thread itself: idle while low, its regions still run. */
  CHECK_EQ_LONG(sched_getscheduler(0), SCHED_OTHER);
  CHECK_EQ_LONG(set_priority(0), 1);
  CHECK_EQ_LONG(sched_getscheduler(0), low_policy);
  int team = 0;
  #pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 0) team = omp_get_num_threads();
  }
  CHECK_EQ_LONG(team, 2);

  char said[1024];
  if (can_leave_idle()) {
    CHECK_EQ_LONG(set_priority_captured(1, said, sizeof said), 0);
    CHECK_EQ_LONG(sched_getscheduler(0), SCHED_OTHER);
    CHECK_EQ_LONG(strlen(said), 0);
    drop_leave_idle();
    CHECK_EQ_LONG(set_priority(0), 1);
    CHECK_EQ_LONG(sched_getscheduler(0), low_policy);
  }

  /* Without the privilege to leave: the level rises, the class stays, a line says why. */
  CHECK_EQ_LONG(set_priority_captured(3, said, sizeof said), 0);
  CHECK_EQ_LONG(get_priority(), 3);
  CHECK_EQ_LONG(sched_getscheduler(0), low_policy);
  if (idle_class) {
    CHECK(strstr(said, "weft_set_thread_priority(3): this thread stays at the OS's idle class") !=
          NULL);
    CHECK(strstr(said, "needs CAP_SYS_NICE or RLIMIT_NICE >= 20 (it is ") != NULL);
  } else {
    CHECK_EQ_LONG(strlen(said), 0);
  }
  /* Said once per thread. */
  set_priority(0);
  CHECK_EQ_LONG(set_priority_captured(2, said, sizeof said), 0);
  CHECK_EQ_LONG(strlen(said), 0);
  CHECK_DONE();
}
