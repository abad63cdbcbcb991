// OpenMP locks (omp_*_lock, omp_*_nest_lock) in the storage gcc's omp.h gives them:
// omp_lock_t is 4 bytes, omp_nest_lock_t 16 (x86-64 and the other 64-bit targets).
//
// A simple lock is a futex-style word: 0 free, 1 held, 2 held with sleepers; taking it
// spins briefly, then sleeps (std::atomic::wait). A nest lock adds the owner and a
// depth; its owner is the task holding it (OpenMP 3.0+), so two tasks on one thread do
// not share it.
#include <sched.h>

#include <atomic>
#include <cstdint>

#include "gomp/runtime.hpp"
#include "sched/cpu_relax.hpp"

namespace {

struct Lock {
  std::atomic<std::uint32_t> word;
};
static_assert(sizeof(Lock) == 4, "omp_lock_t is 4 bytes in gcc's omp.h");

struct NestLock {
  Lock lock;
  std::uint32_t depth;  // owner's nesting depth; only the owner touches it
  std::atomic<void*> owner;
};
static_assert(sizeof(NestLock) <= 16, "omp_nest_lock_t is 16 bytes in gcc's omp.h");

Lock& as_lock(void* p) { return *static_cast<Lock*>(p); }
NestLock& as_nest(void* p) { return *static_cast<NestLock*>(p); }

bool try_acquire(Lock& l) {
  std::uint32_t expected = 0;
  // acquire: what the previous holder wrote before releasing is visible to us.
  return l.word.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

void acquire(Lock& l) {
  for (unsigned i = 0; i < 128; ++i) {
    if (try_acquire(l)) return;
    weft::detail::cpu_relax();
  }
  // Mark it contended (2) whenever we take or wait on it, so the releaser wakes us.
  // acquire: as try_acquire.
  while (l.word.exchange(2, std::memory_order_acquire) != 0) {
    l.word.wait(2, std::memory_order_relaxed);  // relaxed: the exchange re-checks
  }
}

void release(Lock& l) {
  // release: our critical section happens-before the next holder's.
  if (l.word.exchange(0, std::memory_order_release) == 2) l.word.notify_one();
}

// Who owns a nest lock: the current task (its address is unique while it runs).
void* me() { return weft::gomp::current().task; }

}  // namespace

extern "C" {

void omp_init_lock(void* lock) { as_lock(lock).word.store(0, std::memory_order_relaxed); }
void omp_destroy_lock(void* /*lock*/) {}
void omp_set_lock(void* lock) { acquire(as_lock(lock)); }
void omp_unset_lock(void* lock) { release(as_lock(lock)); }
int omp_test_lock(void* lock) { return try_acquire(as_lock(lock)) ? 1 : 0; }

void omp_init_nest_lock(void* lock) {
  NestLock& n = as_nest(lock);
  n.lock.word.store(0, std::memory_order_relaxed);  // relaxed: initialisation, before sharing
  n.depth = 0;
  n.owner.store(nullptr, std::memory_order_relaxed);
}
void omp_destroy_nest_lock(void* /*lock*/) {}

void omp_set_nest_lock(void* lock) {
  NestLock& n = as_nest(lock);
  // relaxed: only we store ourselves as owner, so seeing ourselves is never stale.
  if (n.owner.load(std::memory_order_relaxed) != me()) {
    acquire(n.lock);
    n.owner.store(me(), std::memory_order_relaxed);
  }
  ++n.depth;
}

void omp_unset_nest_lock(void* lock) {
  NestLock& n = as_nest(lock);
  if (--n.depth == 0) {
    n.owner.store(nullptr, std::memory_order_relaxed);  // relaxed: the release orders it
    release(n.lock);
  }
}

int omp_test_nest_lock(void* lock) {
  NestLock& n = as_nest(lock);
  if (n.owner.load(std::memory_order_relaxed) != me()) {  // relaxed: as in set
    if (!try_acquire(n.lock)) return 0;
    n.owner.store(me(), std::memory_order_relaxed);
  }
  return static_cast<int>(++n.depth);
}

}  // extern "C"
