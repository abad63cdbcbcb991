/* Synchronisation and worksharing constructs other than loops: barrier, critical
   (unnamed and named), atomic (native and the GOMP_atomic_start fallback), single with
   and without copyprivate, master, masked, sections (and parallel sections), and
   reductions as gcc lowers them. */
#include <complex.h>
#include <omp.h>

#include "check.h"

static void critical_and_atomic(void) {
  long plain = 0, named = 0, other = 0;
  long double wide = 0; /* no native atomic: gcc calls GOMP_atomic_start/end */
  int atomic_int = 0;
  #pragma omp parallel
  {
    for (int i = 0; i < 1000; ++i) {
      #pragma omp critical
      plain++;
      #pragma omp critical(first_name)
      named++;
      #pragma omp critical(second_name)
      other += 2;
      #pragma omp atomic
      wide += 1.0L;
      #pragma omp atomic
      atomic_int++;
    }
  }
  const int n = omp_get_max_threads();
  CHECK_EQ_LONG(plain, 1000L * n);
  CHECK_EQ_LONG(named, 1000L * n);
  CHECK_EQ_LONG(other, 2000L * n);
  CHECK_EQ_LONG((long)wide, 1000L * n);
  CHECK_EQ_LONG(atomic_int, 1000L * n);
}

static void single_master(void) {
  int singles = 0, masters = 0, masked = 0, copied_ok = 1, nowait_singles = 0;
  #pragma omp parallel reduction(+:singles, masters, masked, nowait_singles)
  {
    for (int round = 0; round < 100; ++round) {
      #pragma omp single
      singles++;
      #pragma omp single nowait
      nowait_singles++;
      #pragma omp master
      masters++;
      #pragma omp masked filter(1)
      masked++;
      int value;
      #pragma omp single copyprivate(value)
      value = round * 7 + omp_get_thread_num();
      /* Every thread got the single thread's value. */
      if (value / 7 != round) {
        #pragma omp atomic write
        copied_ok = 0;
      }
    }
  }
  CHECK_EQ_LONG(singles, 100);
  CHECK_EQ_LONG(nowait_singles, 100);
  CHECK_EQ_LONG(masters, 100);
  CHECK_EQ_LONG(masked, omp_get_max_threads() > 1 ? 100 : 0);
  CHECK(copied_ok);
}

static void sections(void) {
  int ran[5] = {0}, who[5];
  #pragma omp parallel
  {
    #pragma omp sections
    {
      #pragma omp section
      { ran[0]++; who[0] = omp_get_thread_num(); }
      #pragma omp section
      { ran[1]++; who[1] = omp_get_thread_num(); }
      #pragma omp section
      { ran[2]++; who[2] = omp_get_thread_num(); }
    }
    #pragma omp sections nowait
    {
      #pragma omp section
      ran[3]++;
      #pragma omp section
      ran[4]++;
    }
  }
  for (int i = 0; i < 5; ++i) CHECK_EQ_LONG(ran[i], 1);
  for (int i = 0; i < 3; ++i) CHECK(who[i] >= 0 && who[i] < omp_get_max_threads());
  int a = 0, b = 0;
  #pragma omp parallel sections
  {
    #pragma omp section
    a = 1;
    #pragma omp section
    b = 2;
  }
  CHECK(a == 1 && b == 2);
}

static void reductions(void) {
  long sum = 0, prod = 1;
  double dsum = 0;
  int maxv = -1, minv = 1 << 30, band = ~0, bor = 0, land = 1;
  double complex c = 0;
  long double ld = 0;
  #pragma omp parallel for reduction(+:sum, dsum, c, ld) reduction(*:prod) \
      reduction(max:maxv) reduction(min:minv) reduction(&:band) reduction(|:bor) \
      reduction(&&:land)
  for (int i = 1; i <= 20; ++i) {
    sum += i;
    dsum += i * 0.5;
    c += i * I;
    ld += i;
    prod *= (i % 3 == 0) ? 2 : 1;
    if (i > maxv) maxv = i;
    if (i < minv) minv = i;
    band &= ~(1 << i);
    bor |= 1 << i;
    land = land && i > 0;
  }
  CHECK_EQ_LONG(sum, 210);
  CHECK(dsum == 105.0);
  CHECK(cimag(c) == 210.0 && creal(c) == 0.0);
  CHECK(ld == 210.0L);
  CHECK_EQ_LONG(prod, 64);
  CHECK_EQ_LONG(maxv, 20);
  CHECK_EQ_LONG(minv, 1);
  CHECK_EQ_LONG(bor, 0x1ffffe);
  CHECK_EQ_LONG(band, ~0x1ffffe);
  CHECK(land);
}

static void barrier_orders(void) {
  int stage[64] = {0}, ok = 1;
  #pragma omp parallel
  {
    const int me = omp_get_thread_num(), n = omp_get_num_threads();
    for (int round = 1; round <= 100; ++round) {
      stage[me] = round;
      #pragma omp barrier
      for (int t = 0; t < n; ++t) {
        if (stage[t] != round) {
          #pragma omp atomic write
          ok = 0;
        }
      }
      #pragma omp barrier
    }
  }
  CHECK(ok);
}

int main(void) {
  critical_and_atomic();
  single_master();
  sections();
  reductions();
  barrier_orders();
  CHECK_DONE();
}
