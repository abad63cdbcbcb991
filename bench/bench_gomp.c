/* The cost of an OpenMP region on whichever runtime the process has: libgomp as linked,
   or weft under LD_PRELOAD=libweft_gomp.so (bench/bench_gomp.sh runs it both ways, side
   by side, and prints the ratio).
     empty_parallel   #pragma omp parallel num_threads(T) {}            ns per region
     parallel_for_1us #pragma omp parallel num_threads(T) + omp for over T  ns per region
                      iterations of ~1 us each (a wall-clock spin): the ideal is ~1000 ns
   and, per case, the share of regions whose team had all T threads (a runtime may form
   a smaller team; libgomp always forms the full one).
   Usage: bench_gomp [threads=2] [repetitions=9] [regions per repetition=20000]
   Prints one line per case: name, the median ns per region over the repetitions, and
   the minimum and maximum repetition. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void spin_1us(void) {
  const double until = now_ns() + 1000.0;
  while (now_ns() < until) {
  }
}

static int compare(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Regions whose team had every thread asked for (a runtime may give fewer). */
static long full_teams, all_teams;

static double empty_parallel(int threads, int regions) {
  long full = 0;
  const double t0 = now_ns();
  for (int r = 0; r < regions; ++r) {
    #pragma omp parallel num_threads(threads)
    {
      if (omp_get_thread_num() == 0) full += omp_get_num_threads() == threads;
    }
  }
  const double ns = (now_ns() - t0) / regions;
  full_teams += full;
  all_teams += regions;
  return ns;
}

static double parallel_for_1us(int threads, int regions) {
  long full = 0;
  const double t0 = now_ns();
  for (int r = 0; r < regions; ++r) {
    #pragma omp parallel num_threads(threads)
    {
      if (omp_get_thread_num() == 0) full += omp_get_num_threads() == threads;
      #pragma omp for schedule(static) nowait
      for (int i = 0; i < threads; ++i) spin_1us();
    }
  }
  const double ns = (now_ns() - t0) / regions;
  full_teams += full;
  all_teams += regions;
  return ns;
}

static void report(const char* name, double (*fn)(int, int), int threads, int reps, int regions) {
  double* ns = malloc(sizeof(double) * reps);
  fn(threads, regions / 10 + 1); /* warm-up: threads created, caches and pages touched */
  full_teams = all_teams = 0;
  for (int i = 0; i < reps; ++i) ns[i] = fn(threads, regions);
  qsort(ns, reps, sizeof(double), compare);
  printf("%-18s threads=%d median_ns=%.0f min_ns=%.0f max_ns=%.0f full_teams=%.1f%%\n", name,
         threads, ns[reps / 2], ns[0], ns[reps - 1], 100.0 * full_teams / all_teams);
  free(ns);
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 2;
  const int reps = argc > 2 ? atoi(argv[2]) : 9;
  const int regions = argc > 3 ? atoi(argv[3]) : 20000;
  int team = 0;
  #pragma omp parallel num_threads(threads)
  #pragma omp single
  team = omp_get_num_threads();
  if (team != threads) {
    fprintf(stderr, "bench_gomp: asked for %d threads, the team has %d\n", threads, team);
    return 1;
  }
  report("empty_parallel", empty_parallel, threads, reps, regions);
  report("parallel_for_1us", parallel_for_1us, threads, reps, regions);
  return 0;
}
