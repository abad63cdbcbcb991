// single and copyprivate: the member that sets up the construct's workshare is the one
// that runs the single block (the first to arrive, as in libgomp).
//
// copyprivate: the single thread sets the construct up only after its block, with its
// data pointer (GOMP_single_copy_end), so the others, waiting for the set-up, read the
// pointer as soon as they may; all then meet at a barrier. The compiler emits
// another barrier after the copies, which keeps the data alive until all have copied.
#include "gomp/runtime.hpp"

using weft::gomp::current;

extern "C" {

bool GOMP_single_start(void) {
  weft::gomp::ThreadState& ts = current();
  bool first = false;
  weft::gomp::WorkShare& ws = weft::gomp::enter_workshare(ts, first, [](weft::gomp::WorkShare&) {});
  weft::gomp::leave_workshare(ts, ws);
  return first;
}

void* GOMP_single_copy_start(void) {
  weft::gomp::ThreadState& ts = current();
  bool first = false;
  weft::gomp::WorkShare& ws = weft::gomp::enter_workshare_raw(ts, first);
  if (first) {
    ts.ws = &ws;  // GOMP_single_copy_end publishes into it
    return nullptr;
  }
  weft::gomp::team_barrier(ts);
  void* data = ws.copy_data;  // published with the workshare (we waited for ready)
  weft::gomp::leave_workshare(ts, ws);
  return data;
}

void GOMP_single_copy_end(void* data) {
  weft::gomp::ThreadState& ts = current();
  weft::gomp::WorkShare& ws = *ts.ws;
  ts.ws = nullptr;
  ws.copy_data = data;
  // The others wait in enter_workshare until the construct is ready: publishing it now
  // (release) hands them copy_data; the barrier matches theirs.
  weft::gomp::publish_workshare(ts, ws);
  weft::gomp::team_barrier(ts);
  weft::gomp::leave_workshare(ts, ws);
}

}  // extern "C"
