/* A pthreadpool created by a thread that weft_set_thread_priority(0) moved to the idle
   class gets normal-class workers: libweft_gomp keeps a normal-class thread that makes
   them (src/gomp/thread_class.cpp, weft_run_at_normal_class), since threads inherit
   their creator's class and PyTorch recreates its pool from whichever thread runs its
   first parallel operator. In a forked child, which has no such thread, a pool made by
   the idle-class thread still works, at the idle class. Linked against libweft_gomp and
   libweft_pthreadpool. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

typedef struct pthreadpool* pthreadpool_t;
pthreadpool_t pthreadpool_create(size_t threads_count);
size_t pthreadpool_get_threads_count(pthreadpool_t threadpool);
void pthreadpool_parallelize_1d(pthreadpool_t threadpool, void (*function)(void*, size_t),
                                void* context, size_t range, uint32_t flags);
void pthreadpool_destroy(pthreadpool_t threadpool);
int weft_set_thread_priority(int level);

enum { items = 64 };

struct Seen {
  pid_t caller;
  atomic_int on_workers;       /* items a pool worker ran */
  atomic_int worker_policy;    /* the last worker's policy (-1: none yet) */
  atomic_int other_policies;   /* workers seen at a policy other than SCHED_OTHER */
};

static void item(void* context, size_t i) {
  struct Seen* seen = context;
  (void)i;
  /* ~200 us each, 64 of them: long enough for the pool to give the loop its worker,
     which wakes within microseconds and runs at least one before the caller is done. */
  usleep(200);
  if (gettid() == seen->caller) return;
  const int policy = sched_getscheduler(0);
  atomic_store(&seen->worker_policy, policy);
  if (policy != SCHED_OTHER) atomic_fetch_add(&seen->other_policies, 1);
  atomic_fetch_add(&seen->on_workers, 1);
}

int main(void) {
  const char* asked = getenv("WEFT_BACKGROUND_WORKERS");
  const int idle_class = asked == NULL || strcmp(asked, "0") != 0;
  CHECK(weft_set_thread_priority(0) >= 0);
  CHECK_EQ_LONG(sched_getscheduler(0), idle_class ? SCHED_IDLE : SCHED_OTHER);

  pthreadpool_t pool = pthreadpool_create(2);
  CHECK(pool != NULL);
  if (pool == NULL) CHECK_DONE();
  CHECK_EQ_LONG(pthreadpool_get_threads_count(pool), 2);
  struct Seen seen = {.caller = gettid(), .worker_policy = -1};
  pthreadpool_parallelize_1d(pool, item, &seen, items, 0);
  CHECK(atomic_load(&seen.on_workers) > 0);
  CHECK_EQ_LONG(atomic_load(&seen.worker_policy), SCHED_OTHER);
  CHECK_EQ_LONG(atomic_load(&seen.other_policies), 0);
  pthreadpool_destroy(pool);
  CHECK_EQ_LONG(sched_getscheduler(0), idle_class ? SCHED_IDLE : SCHED_OTHER);

  /* A child of fork has no normal-class thread: a pool made there by the idle-class
     thread still works (its workers at the idle class, as the thread's own children).
     Not under TSan: in a child of a multi-threaded fork, glibc hands the parent's other
     threads' stacks to new threads, whose ids TSan still holds as live ("dup thread with
     used id"); the release and ASan builds run it. */
#if !defined(__SANITIZE_THREAD__)
  const pid_t child = fork();
  if (child == 0) {
    pthreadpool_t again = pthreadpool_create(2);
    struct Seen seen_there = {.caller = gettid(), .worker_policy = -1};
    if (again != NULL) pthreadpool_parallelize_1d(again, item, &seen_there, items, 0);
    const int ok = again != NULL && atomic_load(&seen_there.on_workers) > 0 &&
                   atomic_load(&seen_there.worker_policy) == (idle_class ? SCHED_IDLE : SCHED_OTHER);
    if (again != NULL) pthreadpool_destroy(again);
    _exit(ok ? 0 : 1);
  }
  CHECK(child > 0);
  int status = -1;
  CHECK_EQ_LONG(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
  CHECK_DONE();
}
