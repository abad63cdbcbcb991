/* Knows nothing of weft: links only libc, and finds the pthreadpool ABI at run time in
 * whatever the process has loaded. Run under LD_PRELOAD=.../libweft_pthreadpool.so it
 * shows that the preloaded library (and the libweft.so it needs, found through its
 * RUNPATH) loads into an unrelated program and works there. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef void* (*create_fn)(size_t);
typedef size_t (*count_fn)(void*);
typedef void (*task_1d_fn)(void*, size_t);
typedef void (*parallelize_1d_fn)(void*, task_1d_fn, void*, size_t, uint32_t);
typedef void (*destroy_fn)(void*);

static void add_index(void* context, size_t i) {
  __atomic_fetch_add((size_t*)context, i, __ATOMIC_RELAXED);
}

int main(void) {
  create_fn create;
  count_fn count;
  parallelize_1d_fn parallelize_1d;
  destroy_fn destroy;
  /* POSIX's way to turn dlsym's void* into a function pointer. */
  *(void**)&create = dlsym(RTLD_DEFAULT, "pthreadpool_create");
  *(void**)&count = dlsym(RTLD_DEFAULT, "pthreadpool_get_threads_count");
  *(void**)&parallelize_1d = dlsym(RTLD_DEFAULT, "pthreadpool_parallelize_1d");
  *(void**)&destroy = dlsym(RTLD_DEFAULT, "pthreadpool_destroy");
  if (!create || !count || !parallelize_1d || !destroy) {
    fprintf(stderr, "preload_probe: no pthreadpool ABI in the process (not preloaded?)\n");
    return 1;
  }
  void* pool = create(2);
  if (!pool) {
    fprintf(stderr, "preload_probe: pthreadpool_create(2) failed\n");
    return 1;
  }
  size_t sum = 0;
  parallelize_1d(pool, add_index, &sum, 1000, 0);
  const size_t threads = count(pool);
  destroy(pool);
  printf("preload_probe: %zu threads, sum %zu\n", threads, sum);
  return threads == 2 && sum == 999 * 1000 / 2 ? 0 : 1;
}
