// Steady-state spawning does not allocate: task blocks come from the per-thread free
// list. Counts operator new calls made on the worker thread while it spawns and runs
// a second batch of tasks (the first batch fills the free list).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <latch>
#include <new>

#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {
thread_local bool counting = false;
thread_local long allocations = 0;
}  // namespace

// These replace the global allocation functions; GCC cannot see that new and delete
// below are a matched malloc/free pair.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (counting) ++allocations;
  std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

TEST(SchedAlloc, SteadyStateSpawnDoesNotAllocate) {
  weft::Scheduler s(weft::test::make_placement(1), weft::test::unpinned());
  long counted = -1;
  std::latch done(1);
  weft::TaskOptions on_worker;
  on_worker.worker = 0;
  on_worker.strict = true;
  s.submit(
      [&] {
        std::atomic<int> sum{0};
        auto batch = [&] {
          weft::TaskGroup g(s);
          for (int i = 0; i < 1000; ++i) g.run([&sum] { sum.fetch_add(1); });
          g.wait();
        };
        batch();  // fills this worker's free list
        counting = true;
        batch();
        batch();
        counting = false;
        counted = allocations;
        done.count_down();
      },
      on_worker);
  done.wait();  // not a Future: this thread must not run (or steal) the tasks
  EXPECT_EQ(counted, 0);
}

}  // namespace
