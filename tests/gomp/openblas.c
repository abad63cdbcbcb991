/* OpenBLAS's OpenMP build (Debian libopenblas0-openmp) running its threads on whatever
   OpenMP runtime the process has: prints a checksum of the bytes of an sgemm result
   (the test compares libgomp's run with the preloaded one) and checks the product
   against a plain triple loop. On weft it also checks that, with OpenBLAS loaded,
   libweft_gomp started no background workers (src/gomp/blas_probe.cpp): a low
   region's member runs at SCHED_OTHER, not at SCHED_IDLE. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* cblas.h's declaration (libopenblas-dev is not needed to build this). */
enum { CblasRowMajor = 101, CblasNoTrans = 111 };
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c,
                 int ldc);

#define M 300
#define N 257
#define K 311

int main(void) {
  static float a[M * K], b[K * N], c[M * N];
  uint32_t seed = 12345;
  for (int i = 0; i < M * K; ++i) a[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
  for (int i = 0; i < K * N; ++i) b[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / (1 << 24) - 0.5f;
  uint64_t hash = 1469598103934665603ull;
  for (int rep = 0; rep < 20; ++rep) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
  }
  const unsigned char* bytes = (const unsigned char*)c;
  for (size_t i = 0; i < sizeof c; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  int bad = 0;
  for (int i = 0; i < M; i += 7) {
    for (int j = 0; j < N; j += 5) {
      double ref = 0;
      for (int p = 0; p < K; ++p) ref += (double)a[i * K + p] * b[p * N + j];
      if (fabs(ref - c[i * N + j]) > 1e-3) ++bad;
    }
  }
  printf("sgemm checksum %016llx\n", (unsigned long long)hash);
  if (bad) fprintf(stderr, "%d elements differ from the reference\n", bad);
  /* Looked up at run time: absent under libgomp, the reference run. */
  int (*set_priority)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "weft_set_thread_priority");
  if (set_priority != NULL && getenv("WEFT_BACKGROUND_WORKERS") == NULL) {
    set_priority(0); /* low */
    int member_policy = -1;
    #pragma omp parallel num_threads(2)
    {
      if (omp_get_thread_num() == 1) member_policy = sched_getscheduler(0);
    }
    if (member_policy != SCHED_OTHER) {
      fprintf(stderr, "a low region's member runs at policy %d next to OpenBLAS, not SCHED_OTHER\n",
              member_policy);
      ++bad;
    }
  }
  return bad ? 1 : 0;
}
