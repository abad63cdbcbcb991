// Worksharing loops: the schedules, ordered, and the GOMP_loop_* entry points of the
// signed-long ABI (loop_ull.cpp has the unsigned long long ones).
//
// static: no shared state; member t takes blocks t, t + size, ... (a chunk size), or one
//   near-equal block (none given). auto is static.
// dynamic: one shared counter, fetch_add of a chunk.
// guided: a CAS on the same counter, taking max(chunk, remaining / size).
// The nonmonotonic variants are the same code: monotonic order is a valid nonmonotonic
// order.
// ordered: turns go by chunks in iteration order. A member holding chunk [b, e) may run
// its ordered regions once ordered_next == b, and hands the turn on (ordered_next = e)
// when it moves past the chunk, whether or not it ran an ordered region in it.
#include "gomp/loop.hpp"

#include <algorithm>


namespace weft::gomp {

namespace {

u64 iteration_count(const LoopSpec& s) {
  const u64 step = s.up ? s.incr : u64{0} - s.incr;
  if (step == 0) fatal("a worksharing loop with step 0");
  const bool empty = s.is_signed
      ? (s.up ? static_cast<std::int64_t>(s.start) >= static_cast<std::int64_t>(s.end)
              : static_cast<std::int64_t>(s.start) <= static_cast<std::int64_t>(s.end))
      : (s.up ? s.start >= s.end : s.start <= s.end);
  if (empty) return 0;
  const u64 span = s.up ? s.end - s.start : s.start - s.end;
  return span / step + (span % step != 0 ? 1 : 0);
}

bool take_static(ThreadState& ts, const WorkShare& ws, u64& b, u64& e) {
  const u64 size = ts.size;
  if (ws.chunk == 0) {
    if (ts.static_trip++ != 0) return false;
    const u64 q = ws.count / size, r = ws.count % size;
    b = ts.num * q + std::min<u64>(ts.num, r);
    e = b + q + (ts.num < r ? 1 : 0);
    return b < e;
  }
  const u64 i = ts.static_trip++ * size + ts.num;
  if (__builtin_mul_overflow(i, ws.chunk, &b) || b >= ws.count) return false;
  e = ws.count - b > ws.chunk ? b + ws.chunk : ws.count;
  return true;
}

bool take_dynamic(WorkShare& ws, u64& b, u64& e) {
  // relaxed: the counter only hands out disjoint ranges; the body's data is ordered by
  // the barrier (or the program's own synchronization).
  if (ws.next.load(std::memory_order_relaxed) >= ws.count) return false;  // no runaway adds
  b = ws.next.fetch_add(ws.chunk, std::memory_order_relaxed);
  if (b >= ws.count) return false;
  e = ws.count - b > ws.chunk ? b + ws.chunk : ws.count;
  return true;
}

bool take_guided(const ThreadState& ts, WorkShare& ws, u64& b, u64& e) {
  u64 cur = ws.next.load(std::memory_order_relaxed);  // relaxed: as take_dynamic
  for (;;) {
    if (cur >= ws.count) return false;
    const u64 left = ws.count - cur;
    u64 take = std::max<u64>((left + ts.size - 1) / ts.size, ws.chunk);
    take = std::min(take, left);
    if (ws.next.compare_exchange_weak(cur, cur + take, std::memory_order_relaxed)) {
      b = cur;
      e = cur + take;
      return true;
    }
  }
}

// The ordered turn: wait until it is ours (the chunk before ours was handed on).
void wait_ordered_turn(ThreadState& ts) {
  WorkShare& ws = *ts.ws;
  const u64 mine = ts.chunk_begin;
  // acquire: pairs with the hand-on below; the previous chunk's ordered writes are seen.
  wait_until(ts, [&] { return ws.ordered_next.load(std::memory_order_acquire) == mine; });
}

void hand_on_ordered_turn(ThreadState& ts) {
  if (!ts.holds_chunk) return;
  wait_ordered_turn(ts);
  // release: the next chunk's owner sees our ordered regions' writes.
  ts.ws->ordered_next.store(ts.chunk_end, std::memory_order_release);
  ts.holds_chunk = false;
  if (ts.size > 1) ts.team->notify();
}

}  // namespace

bool loop_next(ThreadState& ts, u64* istart, u64* iend) {
  if (ts.ws == nullptr) fatal("GOMP_loop_*_next outside a worksharing loop");
  WorkShare& ws = *ts.ws;
  if (ws.ordered) hand_on_ordered_turn(ts);
  u64 b = 0, e = 0;
  bool got = false;
  switch (ws.kind) {
    case Schedule::dynamic: got = take_dynamic(ws, b, e); break;
    case Schedule::guided: got = take_guided(ts, ws, b, e); break;
    default: got = take_static(ts, ws, b, e); break;
  }
  if (!got) return false;
  if (ws.ordered) {
    ts.chunk_begin = b;
    ts.chunk_end = e;
    ts.holds_chunk = true;
  }
  *istart = ws.start + b * ws.incr;
  *iend = e == ws.count ? ws.end : ws.start + e * ws.incr;
  return true;
}

bool loop_begin(ThreadState& ts, const LoopSpec& spec, u64* istart, u64* iend) {
  bool first = false;
  WorkShare& ws = enter_workshare(ts, first, [&](WorkShare& w) {
    w.start = spec.start;
    w.end = spec.end;
    w.incr = spec.incr;
    w.count = iteration_count(spec);
    w.kind = spec.kind == Schedule::auto_ ? Schedule::static_ : spec.kind;
    w.chunk = spec.chunk;
    if (w.kind != Schedule::static_ && w.chunk == 0) w.chunk = 1;
    w.ordered = spec.ordered;
    // relaxed: published by the workshare's release.
    w.next.store(0, std::memory_order_relaxed);
    w.ordered_next.store(0, std::memory_order_relaxed);
  });
  ts.ws = &ws;
  ts.static_trip = 0;
  ts.holds_chunk = false;
  if (istart == nullptr) return true;
  return loop_next(ts, istart, iend);
}

void loop_end(ThreadState& ts, bool wait) {
  if (ts.ws != nullptr) {
    if (ts.ws->ordered) hand_on_ordered_turn(ts);
    leave_workshare(ts, *ts.ws);
    ts.ws = nullptr;
  }
  if (wait) team_barrier(ts);
}

LoopSpec long_spec(long start, long end, long incr, Schedule kind, long chunk, bool ordered) {
  if (chunk < 0) chunk = 0;
  return LoopSpec{static_cast<u64>(start), static_cast<u64>(end), static_cast<u64>(incr),
                  incr > 0, kind, static_cast<u64>(chunk), ordered, true};
}

Schedule resolve_schedule(long sched, long& chunk) {
  sched &= ~schedule_monotonic_bit;
  if (sched == static_cast<long>(Schedule::runtime)) return runtime_schedule(chunk);
  if (sched < 1 || sched > 4) fatal("GOMP_loop_start: unknown schedule kind");
  return static_cast<Schedule>(sched);
}

void loop_init(ThreadState& ts, long start, long end, long incr, Schedule kind, long chunk) {
  loop_begin(ts, long_spec(start, end, incr, kind, chunk, false), nullptr, nullptr);
}

namespace {
void ordered_start(ThreadState& ts) {
  if (ts.ws == nullptr || !ts.ws->ordered || !ts.holds_chunk) {
    if (ts.size == 1) return;  // one thread: already in order
    fatal("GOMP_ordered_start outside an ordered loop's iteration");
  }
  wait_ordered_turn(ts);
}
}  // namespace

}  // namespace weft::gomp

using weft::gomp::current;
using weft::gomp::long_spec;
using weft::gomp::Schedule;
using weft::gomp::u64;

namespace {

bool begin_long(long start, long end, long incr, Schedule kind, long chunk, bool ordered,
                long* istart, long* iend) {
  u64 b = 0, e = 0;
  const bool got = weft::gomp::loop_begin(current(), long_spec(start, end, incr, kind, chunk, ordered),
                                          istart != nullptr ? &b : nullptr, &e);
  if (got && istart != nullptr) {
    *istart = static_cast<long>(b);
    *iend = static_cast<long>(e);
  }
  return got;
}

bool next_long(long* istart, long* iend) {
  u64 b = 0, e = 0;
  if (!weft::gomp::loop_next(current(), &b, &e)) return false;
  *istart = static_cast<long>(b);
  *iend = static_cast<long>(e);
  return true;
}

bool runtime_long(long start, long end, long incr, bool ordered, long* istart, long* iend) {
  long chunk = 0;
  const Schedule kind = weft::gomp::runtime_schedule(chunk);
  return begin_long(start, end, incr, kind, chunk, ordered, istart, iend);
}

}  // namespace

extern "C" {

#define WEFT_GOMP_LOOP_LONG(name, kind, ordered)                                              \
  bool GOMP_loop_##name##_start(long start, long end, long incr, long chunk, long* istart,    \
                                long* iend) {                                                 \
    return begin_long(start, end, incr, kind, chunk, ordered, istart, iend);                  \
  }                                                                                           \
  bool GOMP_loop_##name##_next(long* istart, long* iend) { return next_long(istart, iend); }

WEFT_GOMP_LOOP_LONG(static, Schedule::static_, false)
WEFT_GOMP_LOOP_LONG(dynamic, Schedule::dynamic, false)
WEFT_GOMP_LOOP_LONG(guided, Schedule::guided, false)
WEFT_GOMP_LOOP_LONG(nonmonotonic_dynamic, Schedule::dynamic, false)
WEFT_GOMP_LOOP_LONG(nonmonotonic_guided, Schedule::guided, false)
WEFT_GOMP_LOOP_LONG(ordered_static, Schedule::static_, true)
WEFT_GOMP_LOOP_LONG(ordered_dynamic, Schedule::dynamic, true)
WEFT_GOMP_LOOP_LONG(ordered_guided, Schedule::guided, true)
#undef WEFT_GOMP_LOOP_LONG

#define WEFT_GOMP_LOOP_LONG_RUNTIME(name, ordered)                                            \
  bool GOMP_loop_##name##_start(long start, long end, long incr, long* istart, long* iend) {  \
    return runtime_long(start, end, incr, ordered, istart, iend);                             \
  }                                                                                           \
  bool GOMP_loop_##name##_next(long* istart, long* iend) { return next_long(istart, iend); }

WEFT_GOMP_LOOP_LONG_RUNTIME(runtime, false)
WEFT_GOMP_LOOP_LONG_RUNTIME(nonmonotonic_runtime, false)
WEFT_GOMP_LOOP_LONG_RUNTIME(maybe_nonmonotonic_runtime, false)
WEFT_GOMP_LOOP_LONG_RUNTIME(ordered_runtime, true)
#undef WEFT_GOMP_LOOP_LONG_RUNTIME

// OpenMP 5.0's general entry: task reductions and per-loop memory are not supported.
bool GOMP_loop_start(long start, long end, long incr, long sched, long chunk, long* istart,
                     long* iend, uintptr_t* reductions, void** mem) {
  if (reductions != nullptr) weft::gomp::fatal("GOMP_loop_start: task reductions are not supported");
  if (mem != nullptr) weft::gomp::fatal("GOMP_loop_start: loop memory (mem) is not supported");
  const Schedule kind = weft::gomp::resolve_schedule(sched, chunk);
  return begin_long(start, end, incr, kind, chunk, false, istart, iend);
}

bool GOMP_loop_ordered_start(long start, long end, long incr, long sched, long chunk,
                             long* istart, long* iend, uintptr_t* reductions, void** mem) {
  if (reductions != nullptr) weft::gomp::fatal("GOMP_loop_ordered_start: task reductions are not supported");
  if (mem != nullptr) weft::gomp::fatal("GOMP_loop_ordered_start: loop memory (mem) is not supported");
  const Schedule kind = weft::gomp::resolve_schedule(sched, chunk);
  return begin_long(start, end, incr, kind, chunk, true, istart, iend);
}

void GOMP_loop_end(void) { weft::gomp::loop_end(current(), true); }
void GOMP_loop_end_nowait(void) { weft::gomp::loop_end(current(), false); }
bool GOMP_loop_end_cancel(void) {
  weft::gomp::loop_end(current(), true);
  return false;  // cancellation is never activated
}

void GOMP_ordered_start(void) { weft::gomp::ordered_start(current()); }
void GOMP_ordered_end(void) {}  // the turn is handed on at the end of the chunk

}  // extern "C"
