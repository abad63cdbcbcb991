/* Compiled as C11: weft/pthreadpool.h is a C header, and it agrees with the upstream
 * <pthreadpool.h> (both in one translation unit: a differing prototype or typedef is a
 * compile error here). */
#include <pthreadpool.h>
#include <weft/pthreadpool.h>

struct sum_context {
  size_t sum;
};

static void add_index(void* context, size_t i) {
  ((struct sum_context*)context)->sum += i;
}

/* Uses the API from C: on a NULL pool the items run in order on this thread, so the
 * plain (non-atomic) sum is fine. Returns 0..n-1 summed through a real pool's
 * threads_count check as well. */
size_t weft_test_c_api_sum(size_t n) {
  struct sum_context context = {0};
  pthreadpool_t pool = pthreadpool_create(1);
  if (pool == NULL || pthreadpool_get_threads_count(pool) != 1) return (size_t)-1;
  pthreadpool_parallelize_1d(pool, add_index, &context, n, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
  pthreadpool_destroy(pool);
  pthreadpool_parallelize_1d(NULL, add_index, &context, n, 0);
  return context.sum;
}
