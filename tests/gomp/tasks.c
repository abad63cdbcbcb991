/* Explicit tasks: task (deferred, if(0), final, with firstprivate data copied by
   cpyfn), taskwait, taskgroup (descendants included), taskyield, depend (in order),
   taskloop (grainsize, num_tasks, nogroup, unsigned), and tasks completed by the
   barrier that ends a region, plus the task-recursion classic, fib. */
#include <omp.h>

#include "check.h"

static long fib(int n) {
  if (n < 2) return n;
  long a, b;
  #pragma omp task shared(a) if (n > 12)
  a = fib(n - 1);
  #pragma omp task shared(b) if (n > 12)
  b = fib(n - 2);
  #pragma omp taskwait
  return a + b;
}

struct big { char bytes[200]; int tag; };

static void basic_tasks(void) {
  int done[100] = {0}, in_team = 1;
  #pragma omp parallel
  #pragma omp single
  {
    for (int i = 0; i < 100; ++i) {
      #pragma omp task firstprivate(i)
      {
        done[i] = 1;
        if (omp_get_thread_num() >= omp_get_num_threads()) in_team = 0;
      }
    }
    #pragma omp taskwait
    int all = 1;
    for (int i = 0; i < 100; ++i) all &= done[i];
    CHECK(all);
  }
  CHECK(in_team);

  long f = 0;
  #pragma omp parallel
  #pragma omp single
  f = fib(22);
  CHECK_EQ_LONG(f, 17711);

  /* firstprivate of a struct: copied when the task is created. */
  int seen_tag = 0;
  #pragma omp parallel
  #pragma omp single
  {
    struct big b;
    b.tag = 41;
    #pragma omp task firstprivate(b) shared(seen_tag)
    seen_tag = b.tag;
    b.tag = 0;
    #pragma omp taskwait
  }
  CHECK_EQ_LONG(seen_tag, 41);
}

static void groups_and_barriers(void) {
  int count = 0;
  #pragma omp parallel
  {
    #pragma omp single
    {
      #pragma omp taskgroup
      {
        for (int i = 0; i < 10; ++i) {
          #pragma omp task
          {
            /* A grandchild: taskgroup waits for descendants too. */
            #pragma omp task
            {
              #pragma omp atomic
              count++;
            }
            #pragma omp atomic
            count++;
          }
        }
      }
      CHECK_EQ_LONG(count, 20);
    }
  }
  /* Tasks left running are complete at the region's end (its barrier). */
  int late = 0;
  #pragma omp parallel
  {
    #pragma omp task
    {
      #pragma omp atomic
      late++;
    }
    #pragma omp taskyield
  }
  CHECK_EQ_LONG(late, omp_get_max_threads());
}

static void final_and_if(void) {
  int final_inside = 0, child_final = 0, undeferred_ran = 0;
  #pragma omp parallel
  #pragma omp single
  {
    #pragma omp task final(1) shared(final_inside, child_final)
    {
      final_inside = omp_in_final();
      #pragma omp task shared(child_final)
      child_final = omp_in_final();
    }
    #pragma omp task if (0) shared(undeferred_ran)
    undeferred_ran = 1;
    /* if(0): the task ran before the construct returned. */
    CHECK(undeferred_ran);
    #pragma omp taskwait
  }
  CHECK(final_inside);
  CHECK(child_final);
}

static void depend(void) {
  int x = 0, order[3] = {0}, step = 0;
  #pragma omp parallel
  #pragma omp single
  {
    #pragma omp task depend(out: x) shared(x, order, step)
    { x = 1; order[0] = ++step; }
    #pragma omp task depend(inout: x) shared(x, order, step)
    { x *= 10; order[1] = ++step; }
    #pragma omp task depend(in: x) shared(x, order, step)
    { order[2] = ++step; CHECK_EQ_LONG(x, 10); }
  }
  CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
}

static void taskloops(void) {
  int hits[1000] = {0};
  #pragma omp parallel
  #pragma omp single
  {
    #pragma omp taskloop grainsize(7)
    for (int i = 0; i < 1000; ++i) hits[i]++;
    #pragma omp taskloop num_tasks(13)
    for (int i = 999; i >= 0; i -= 2) hits[i]++;
    #pragma omp taskgroup
    {
      #pragma omp taskloop nogroup
      for (int i = 0; i < 1000; i += 2) hits[i]++;
    }
  }
  int ok = 1;
  for (int i = 0; i < 1000; ++i) ok &= hits[i] == 2;
  CHECK(ok);

  unsigned long long usum = 0;
  #pragma omp parallel
  #pragma omp single
  {
    #pragma omp taskloop grainsize(3)
    for (unsigned long long k = 10; k > 0; --k) {
      #pragma omp atomic
      usum += k;
    }
  }
  CHECK(usum == 55);
}

int main(void) {
  basic_tasks();
  groups_and_barriers();
  final_and_if();
  depend();
  taskloops();
  CHECK_DONE();
}
