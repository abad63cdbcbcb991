/* With dyn-var false (the default), a region gets every thread it asks for, even while
   another program thread keeps weft's workers busy with regions of its own: code such as
   OpenBLAS's exec_blas gives item k to thread k and makes items wait for each other, and
   would hang on a smaller team. Run with OMP_NUM_THREADS=2 (one weft worker). */
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include "check.h"

static int stop; /* read and written with __atomic builtins */

static void* other_regions(void* arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    #pragma omp parallel num_threads(2)
    {
      volatile int spin = 0;
      for (int i = 0; i < 1000; ++i) spin += i;
    }
  }
  return NULL;
}

int main(void) {
  pthread_t other;
  pthread_create(&other, NULL, other_regions, NULL);
  int wrong_size = 0;
  for (int round = 0; round < 300; ++round) {
    int ready = 0;
    #pragma omp parallel for num_threads(2) schedule(static)
    for (int item = 0; item < 2; ++item) {
      if (omp_get_num_threads() != 2) {
        #pragma omp atomic write
        wrong_size = 1;
      }
      if (item == 1) {
        #pragma omp atomic write
        ready = 1;
      } else {
        /* Item 0 waits for item 1, as OpenBLAS's items wait for each other. */
        for (;;) {
          int seen;
          #pragma omp atomic read
          seen = ready;
          if (seen || wrong_size) break;
          sched_yield();
        }
      }
    }
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  pthread_join(other, NULL);
  CHECK(!wrong_size);
  CHECK_DONE();
}
