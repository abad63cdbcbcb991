/* An entry point libweft_gomp does not implement names itself and aborts (CTest expects
   the message and a failing exit). GOMP_parallel_start is the pre-4.9 split form gcc no
   longer emits. */
extern void GOMP_parallel_start(void (*fn)(void*), void* data, unsigned num_threads);

static void body(void* data) { (void)data; }

int main(void) {
  GOMP_parallel_start(body, 0, 2);
  return 0;
}
