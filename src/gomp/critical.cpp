// critical (unnamed and named) and the atomic fallback (GOMP_atomic_start/end).
//
// One process-wide mutex for the unnamed critical and one for atomics, as in libgomp.
// A named critical passes the address of a pointer-sized variable the compiler emits
// per name (zero-initialised, shared by every translation unit that uses the name);
// we install a mutex there on first use with a CAS, so every user of the name finds
// the same one. Those mutexes live until the process exits.
#include <mutex>

#include "gomp/runtime.hpp"

namespace {

std::mutex& unnamed_critical() {
  static std::mutex* m = new std::mutex;  // never destroyed: threads may use it at exit
  return *m;
}

std::mutex& atomic_mutex() {
  static std::mutex* m = new std::mutex;
  return *m;
}

std::mutex& named(void** pptr) {
  auto* slot = reinterpret_cast<std::atomic<std::mutex*>*>(pptr);
  // acquire: pairs with the installing CAS, so the mutex is constructed when seen.
  std::mutex* m = slot->load(std::memory_order_acquire);
  if (m != nullptr) return *m;
  auto* fresh = new std::mutex;
  // acq_rel: release publishes `fresh`; acquire sees another thread's mutex if it won.
  if (slot->compare_exchange_strong(m, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;
  return *m;
}

}  // namespace

extern "C" {

void GOMP_critical_start(void) { unnamed_critical().lock(); }
void GOMP_critical_end(void) { unnamed_critical().unlock(); }
void GOMP_critical_name_start(void** pptr) { named(pptr).lock(); }
void GOMP_critical_name_end(void** pptr) { named(pptr).unlock(); }
void GOMP_atomic_start(void) { atomic_mutex().lock(); }
void GOMP_atomic_end(void) { atomic_mutex().unlock(); }

}  // extern "C"
