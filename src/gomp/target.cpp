// Offload entry points, run on the host: there are no devices (omp_get_num_devices() is
// 0), so a target region is the host fallback libgomp would run, on the calling thread
// with the host's memory (every map is the identity; data constructs do nothing).
// Plus the small GOMP_5.x helpers gcc emits outside offloading (alloc, error).
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gomp/runtime.hpp"

extern "C" {

void GOMP_taskwait(void);

void GOMP_target(int /*device*/, void (*fn)(void*), const void* /*unused*/, size_t /*mapnum*/,
                 void** hostaddrs, size_t* /*sizes*/, unsigned char* /*kinds*/) {
  fn(hostaddrs);
}

void GOMP_target_ext(int /*device*/, void (*fn)(void*), size_t /*mapnum*/, void** hostaddrs,
                     size_t* /*sizes*/, unsigned short* /*kinds*/, unsigned /*flags*/,
                     void** depend, void** /*args*/) {
  // nowait runs now, undeferred; depend: wait for the siblings first (task.cpp's rule).
  if (depend != nullptr) GOMP_taskwait();
  fn(hostaddrs);
}

void GOMP_target_data(int, const void*, size_t, void**, size_t*, unsigned char*) {}
void GOMP_target_data_ext(int, size_t, void**, size_t*, unsigned short*) {}
void GOMP_target_end_data(void) {}
void GOMP_target_update(int, const void*, size_t, void**, size_t*, unsigned char*) {}
void GOMP_target_update_ext(int, size_t, void**, size_t*, unsigned short*, unsigned,
                            void** depend) {
  if (depend != nullptr) GOMP_taskwait();
}
void GOMP_target_enter_exit_data(int, size_t, void**, size_t*, unsigned short*, unsigned,
                                 void** depend) {
  if (depend != nullptr) GOMP_taskwait();
}
// Offload images register themselves from constructors; with no devices, nothing to do.
void GOMP_offload_register(const void*, int, const void*) {}
void GOMP_offload_unregister(const void*, int, const void*) {}
void GOMP_offload_register_ver(unsigned, const void*, int, const void*) {}
void GOMP_offload_unregister_ver(unsigned, const void*, int, const void*) {}

int omp_get_num_devices(void) { return 0; }
int omp_get_default_device(void) { return 0; }
void omp_set_default_device(int) {}
int omp_is_initial_device(void) { return 1; }
int omp_get_initial_device(void) { return 0; }  // == omp_get_num_devices(): the host
int omp_get_device_num(void) { return 0; }
int omp_get_num_teams(void) { return 1; }
int omp_get_team_num(void) { return 0; }

void* omp_target_alloc(size_t size, int device) {
  return device == omp_get_initial_device() ? std::malloc(size) : nullptr;
}
void omp_target_free(void* p, int device) {
  if (device == omp_get_initial_device()) std::free(p);
}
int omp_target_is_present(const void*, int device) {
  return device == omp_get_initial_device() ? 1 : 0;
}
int omp_target_memcpy(void* dst, const void* src, size_t length, size_t dst_offset,
                      size_t src_offset, int dst_device, int src_device) {
  if (dst_device != omp_get_initial_device() || src_device != omp_get_initial_device()) return -1;
  std::memcpy(static_cast<char*>(dst) + dst_offset, static_cast<const char*>(src) + src_offset,
              length);
  return 0;
}

// OpenMP 5.0's allocate directive and clause, with any allocator: plain aligned memory.
void* GOMP_alloc(size_t alignment, size_t size, uintptr_t /*allocator*/) {
  if (alignment < alignof(std::max_align_t)) alignment = alignof(std::max_align_t);
  void* p = nullptr;
  if (posix_memalign(&p, alignment, size == 0 ? 1 : size) != 0) {
    weft::gomp::fatal("GOMP_alloc: out of memory");
  }
  return p;
}
void GOMP_free(void* p, uintptr_t /*allocator*/) { std::free(p); }

// The error directive (OpenMP 5.1): at(execution) severity(fatal/warning).
void GOMP_error(const char* msg, size_t len) {
  std::fprintf(stderr, "libweft_gomp: error directive encountered: %.*s\n",
               static_cast<int>(msg == nullptr ? 0 : (len == ~size_t{0} ? std::strlen(msg) : len)),
               msg == nullptr ? "" : msg);
  std::exit(EXIT_FAILURE);
}
void GOMP_warning(const char* msg, size_t len) {
  if (msg == nullptr) return;
  std::fprintf(stderr, "libweft_gomp: warning: %.*s\n",
               static_cast<int>(len == ~size_t{0} ? std::strlen(msg) : len), msg);
}

// Cancellation is never activated (OMP_CANCELLATION is not honoured; omp_get_cancellation
// says 0), which GOMP_cancel and GOMP_cancellation_point report with false.
bool GOMP_cancel(int /*which*/, bool /*do_cancel*/) { return false; }
bool GOMP_cancellation_point(int /*which*/) { return false; }

}  // extern "C"
