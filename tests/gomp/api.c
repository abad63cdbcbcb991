/* The omp_* API and its environment: locks and nest locks, threadprivate with copyin,
   the ICV queries and setters, wtime, places, devices and a target region run on the
   host, and weft's priority extension. CTest runs it with OMP_NUM_THREADS=4,
   OMP_SCHEDULE=guided,3, OMP_DYNAMIC=false, OMP_MAX_ACTIVE_LEVELS=1. */
#include <omp.h>
#include <unistd.h>

#include "check.h"

/* weft's extension (libweft_gomp); weak so that the program also runs on libgomp. */
extern int weft_set_thread_priority(int level) __attribute__((weak));
extern int weft_get_thread_priority(void) __attribute__((weak));

static int tp_value;
#pragma omp threadprivate(tp_value)

static void locks(void) {
  omp_lock_t lock;
  omp_nest_lock_t nest;
  omp_init_lock(&lock);
  omp_init_nest_lock(&nest);
  long counter = 0, nested = 0;
  int tests_ok = 1;
  #pragma omp parallel
  {
    for (int i = 0; i < 500; ++i) {
      omp_set_lock(&lock);
      counter++;
      omp_unset_lock(&lock);
      omp_set_nest_lock(&nest);
      omp_set_nest_lock(&nest); /* the owner may take it again */
      nested++;
      if (omp_test_nest_lock(&nest) != 3) tests_ok = 0;
      omp_unset_nest_lock(&nest);
      omp_unset_nest_lock(&nest);
      omp_unset_nest_lock(&nest);
    }
  }
  CHECK_EQ_LONG(counter, 500L * omp_get_max_threads());
  CHECK_EQ_LONG(nested, 500L * omp_get_max_threads());
  CHECK(tests_ok);
  CHECK(omp_test_lock(&lock));
  CHECK(!omp_test_lock(&lock));
  omp_unset_lock(&lock);
  omp_destroy_lock(&lock);
  omp_destroy_nest_lock(&nest);
}

static void threadprivate_copyin(void) {
  tp_value = 42;
  int ok = 1;
  #pragma omp parallel copyin(tp_value)
  {
    if (tp_value != 42) ok = 0;
    tp_value = omp_get_thread_num();
    #pragma omp barrier
    if (tp_value != omp_get_thread_num()) ok = 0;
  }
  CHECK(ok);
}

static void icvs(void) {
  omp_sched_t kind;
  int chunk;
  omp_get_schedule(&kind, &chunk);
  CHECK(kind == omp_sched_guided && chunk == 3); /* OMP_SCHEDULE=guided,3 */
  CHECK(!omp_get_dynamic());
  omp_set_dynamic(1);
  CHECK(omp_get_dynamic());
  omp_set_dynamic(0);
  CHECK_EQ_LONG(omp_get_max_active_levels(), 1);
  CHECK(!omp_get_nested());
  CHECK_EQ_LONG(omp_get_max_threads(), 4);
  CHECK(omp_get_thread_limit() >= 4);
  CHECK(omp_get_num_procs() >= 1);
  CHECK(omp_get_cancellation() == 0);
  int in_region_max = 0;
  #pragma omp parallel num_threads(2)
  #pragma omp single
  in_region_max = omp_get_max_threads();
  CHECK_EQ_LONG(in_region_max, 4); /* members inherit nthreads-var */
}

static void time_and_places(void) {
  const double t0 = omp_get_wtime();
  usleep(1000);
  const double t1 = omp_get_wtime();
  CHECK(t1 > t0);
  CHECK(omp_get_wtick() > 0 && omp_get_wtick() < 0.01);
  const int places = omp_get_num_places();
  CHECK(places >= 0);
  for (int p = 0; p < places; ++p) {
    int n = omp_get_place_num_procs(p);
    CHECK(n >= 1 && n <= 1024);
    int ids[1024];
    omp_get_place_proc_ids(p, ids);
    CHECK(ids[0] >= 0);
  }
  CHECK(omp_get_place_num() >= -1 && omp_get_place_num() < (places > 0 ? places : 1));
}

static void devices(void) {
  CHECK_EQ_LONG(omp_get_num_devices(), 0);
  CHECK(omp_is_initial_device());
  int x = 1, on_host = 0;
  #pragma omp target map(tofrom: x, on_host)
  {
    x += 1;
    on_host = omp_is_initial_device();
  }
  CHECK_EQ_LONG(x, 2);
  CHECK(on_host);
}

static void priority(void) {
  if (weft_set_thread_priority == 0) return; /* libgomp: nothing to check */
  CHECK_EQ_LONG(weft_set_thread_priority(7), -1);
  const int before = weft_set_thread_priority(3); /* critical */
  int all_critical = 1;
  #pragma omp parallel
  {
    if (weft_get_thread_priority() != 3) {
      #pragma omp atomic write
      all_critical = 0;
    }
  }
  CHECK(all_critical);
  weft_set_thread_priority(before);
  CHECK_EQ_LONG(weft_get_thread_priority(), before);
}

int main(void) {
  locks();
  threadprivate_copyin();
  icvs();
  time_and_places();
  devices();
  priority();
  CHECK_DONE();
}
