// Whether OpenBLAS's OpenMP build is loaded: the one library known to make background
// workers (idle-class members of low regions) hurt OpenMP code.
//
// OpenBLAS's threaded calls take one process-wide buffer (MAX_PARALLEL_NUMBER 1 in
// Debian's build) by spinning, and run their work items in a region whose members
// spin-wait for each other. A low region's items on idle-class threads then hold that
// buffer while the urgent threads that want it spin at the normal class, and the
// kernel runs the idle-class holders only when nothing else wants a CPU: PyTorch's
// critical model measured a p99 of 422-553 ms that way against 209 ms without
// background workers (docs/weft-run.md). A reentrant BLAS (BLIS) has no such lock, and
// there background workers are what keeps the urgent model fast.
#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <string>
#include <vector>

#include "gomp/runtime.hpp"

namespace weft::gomp {

namespace {
// openblas_get_parallel(): 0 sequential, 1 its own pthreads, 2 OpenMP (OpenBLAS's
// documented values; only the OpenMP build runs its items as our regions).
constexpr int openblas_openmp = 2;

int collect_openblas(dl_phdr_info* info, std::size_t /*size*/, void* out) {
  if (info->dlpi_name != nullptr && std::strstr(info->dlpi_name, "openblas") != nullptr) {
    static_cast<std::vector<std::string>*>(out)->emplace_back(info->dlpi_name);
  }
  return 0;
}
}  // namespace

bool openmp_openblas_loaded() {
  // Names first, dlopen after: the loader's list is locked during the walk.
  std::vector<std::string> names;
  dl_iterate_phdr(collect_openblas, &names);
  for (const std::string& name : names) {
    // RTLD_NOLOAD: a handle to what is already there (it may sit in a local scope,
    // where RTLD_DEFAULT would not see it), never a new load.
    void* handle = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    auto* get_parallel = reinterpret_cast<int (*)()>(dlsym(handle, "openblas_get_parallel"));
    const bool openmp = get_parallel != nullptr && get_parallel() == openblas_openmp;
    dlclose(handle);
    if (openmp) return true;
  }
  return false;
}

}  // namespace weft::gomp
