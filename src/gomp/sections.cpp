// sections: a worksharing construct handing out section numbers 1..count from one
// shared counter (0: none left), as GOMP_sections_* promise the compiler.
#include "gomp/runtime.hpp"

namespace weft::gomp {

namespace {
unsigned next_section(ThreadState& ts) {
  WorkShare& ws = *ts.ws;
  // relaxed: the counter only hands out distinct numbers.
  if (ws.next.load(std::memory_order_relaxed) >= ws.count) return 0;
  const std::uint64_t i = ws.next.fetch_add(1, std::memory_order_relaxed);
  return i < ws.count ? static_cast<unsigned>(i + 1) : 0;
}
}  // namespace

void sections_init(ThreadState& ts, unsigned count) {
  bool first = false;
  WorkShare& ws = enter_workshare(ts, first, [&](WorkShare& w) {
    w.count = count;
    w.ordered = false;
    w.next.store(0, std::memory_order_relaxed);  // relaxed: published by the workshare
  });
  ts.ws = &ws;
}

void sections_end(ThreadState& ts, bool wait) {
  if (ts.ws != nullptr) {
    leave_workshare(ts, *ts.ws);
    ts.ws = nullptr;
  }
  if (wait) team_barrier(ts);
}

}  // namespace weft::gomp

using weft::gomp::current;

extern "C" {

unsigned GOMP_sections_start(unsigned count) {
  weft::gomp::ThreadState& ts = current();
  weft::gomp::sections_init(ts, count);
  return weft::gomp::next_section(ts);
}

unsigned GOMP_sections2_start(unsigned count, uintptr_t* reductions, void** mem) {
  if (reductions != nullptr || mem != nullptr) {
    weft::gomp::fatal("GOMP_sections2_start: task reductions and section memory are not supported");
  }
  return GOMP_sections_start(count);
}

unsigned GOMP_sections_next(void) {
  weft::gomp::ThreadState& ts = current();
  if (ts.ws == nullptr) weft::gomp::fatal("GOMP_sections_next outside sections");
  return weft::gomp::next_section(ts);
}

void GOMP_sections_end(void) { weft::gomp::sections_end(current(), true); }
void GOMP_sections_end_nowait(void) { weft::gomp::sections_end(current(), false); }
bool GOMP_sections_end_cancel(void) {
  weft::gomp::sections_end(current(), true);
  return false;  // cancellation is never activated
}

}  // extern "C"
