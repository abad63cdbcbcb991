// The unsigned long long worksharing loops (GOMP_loop_ull_*): the loop engine of
// loop.cpp with the direction passed explicitly (`up`), as gcc does for unsigned types.
#include "gomp/loop.hpp"

using weft::gomp::current;
using weft::gomp::LoopSpec;
using weft::gomp::Schedule;
using ull = unsigned long long;

namespace {

bool begin_ull(bool up, ull start, ull end, ull incr, Schedule kind, ull chunk, bool ordered,
               ull* istart, ull* iend) {
  weft::gomp::u64 b = 0, e = 0;
  const LoopSpec spec{start, end, incr, up, kind, chunk, ordered, false};
  const bool got = weft::gomp::loop_begin(current(), spec, istart != nullptr ? &b : nullptr, &e);
  if (got && istart != nullptr) {
    *istart = b;
    *iend = e;
  }
  return got;
}

bool next_ull(ull* istart, ull* iend) {
  weft::gomp::u64 b = 0, e = 0;
  if (!weft::gomp::loop_next(current(), &b, &e)) return false;
  *istart = b;
  *iend = e;
  return true;
}

bool runtime_ull(bool up, ull start, ull end, ull incr, bool ordered, ull* istart, ull* iend) {
  long chunk = 0;
  const Schedule kind = weft::gomp::runtime_schedule(chunk);
  return begin_ull(up, start, end, incr, kind, static_cast<ull>(chunk), ordered, istart, iend);
}

}  // namespace

extern "C" {

// The unsigned long long entry points mirror loop.cpp's long ones line for line: gcc
// emits one set per index type, and each set converts to its own iteration space.
#define WEFT_GOMP_LOOP_ULL(name, kind, ordered)                                              \
  bool GOMP_loop_ull_##name##_start(bool up, ull start, ull end, ull incr, ull chunk,        \
                                    ull* istart, ull* iend) {                                \
    return begin_ull(up, start, end, incr, kind, chunk, ordered, istart, iend);              \
  }                                                                                          \
  bool GOMP_loop_ull_##name##_next(ull* istart, ull* iend) { return next_ull(istart, iend); }

WEFT_GOMP_LOOP_ULL(static, Schedule::static_, false)
WEFT_GOMP_LOOP_ULL(dynamic, Schedule::dynamic, false)
WEFT_GOMP_LOOP_ULL(guided, Schedule::guided, false)
WEFT_GOMP_LOOP_ULL(nonmonotonic_dynamic, Schedule::dynamic, false)
WEFT_GOMP_LOOP_ULL(nonmonotonic_guided, Schedule::guided, false)
WEFT_GOMP_LOOP_ULL(ordered_static, Schedule::static_, true)
WEFT_GOMP_LOOP_ULL(ordered_dynamic, Schedule::dynamic, true)
WEFT_GOMP_LOOP_ULL(ordered_guided, Schedule::guided, true)
#undef WEFT_GOMP_LOOP_ULL

#define WEFT_GOMP_LOOP_ULL_RUNTIME(name, ordered)                                            \
  bool GOMP_loop_ull_##name##_start(bool up, ull start, ull end, ull incr, ull* istart,      \
                                    ull* iend) {                                             \
    return runtime_ull(up, start, end, incr, ordered, istart, iend);                         \
  }                                                                                          \
  bool GOMP_loop_ull_##name##_next(ull* istart, ull* iend) { return next_ull(istart, iend); }

WEFT_GOMP_LOOP_ULL_RUNTIME(runtime, false)
WEFT_GOMP_LOOP_ULL_RUNTIME(nonmonotonic_runtime, false)
WEFT_GOMP_LOOP_ULL_RUNTIME(maybe_nonmonotonic_runtime, false)
WEFT_GOMP_LOOP_ULL_RUNTIME(ordered_runtime, true)
#undef WEFT_GOMP_LOOP_ULL_RUNTIME

// GOMP_loop_ull_start and GOMP_loop_ull_ordered_start differ only in `ordered`: two
// symbols of the ABI, each naming itself in its errors.
bool GOMP_loop_ull_start(bool up, ull start, ull end, ull incr, long sched, ull chunk,
                         ull* istart, ull* iend, uintptr_t* reductions, void** mem) {
  if (reductions != nullptr) weft::gomp::fatal("GOMP_loop_ull_start: task reductions are not supported");
  if (mem != nullptr) weft::gomp::fatal("GOMP_loop_ull_start: loop memory (mem) is not supported");
  long c = static_cast<long>(chunk);
  const Schedule kind = weft::gomp::resolve_schedule(sched, c);
  return begin_ull(up, start, end, incr, kind, static_cast<ull>(c), false, istart, iend);
}

bool GOMP_loop_ull_ordered_start(bool up, ull start, ull end, ull incr, long sched, ull chunk,
                                 ull* istart, ull* iend, uintptr_t* reductions, void** mem) {
  if (reductions != nullptr) weft::gomp::fatal("GOMP_loop_ull_ordered_start: task reductions are not supported");
  if (mem != nullptr) weft::gomp::fatal("GOMP_loop_ull_ordered_start: loop memory (mem) is not supported");
  long c = static_cast<long>(chunk);
  const Schedule kind = weft::gomp::resolve_schedule(sched, c);
  return begin_ull(up, start, end, incr, kind, static_cast<ull>(c), true, istart, iend);
}

}  // extern "C"
