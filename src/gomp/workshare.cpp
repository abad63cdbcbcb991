// The ring of worksharing constructs a team is running.
//
// Every member meets the same worksharing constructs in the same order (OpenMP requires
// it), so a member's count of constructs entered (ThreadState::ws_seq) names the
// construct. Construct k uses ring slot k % ring_size. The first member to reach it sets
// it up; the others wait until it is ready. The last member to leave frees the slot for
// construct k + ring_size. With nowait, members may be up to ring_size constructs apart;
// one further ahead waits for the slot to come free, which the members behind it do by
// getting there (never a wait on a member that waits for us).
#include "gomp/runtime.hpp"

namespace weft::gomp {

namespace {
constexpr std::uint64_t phase_free = 0, phase_setup = 1, phase_ready = 2;
}

WorkShare& enter_workshare_raw(ThreadState& ts, bool& first) {
  const std::uint64_t k = ts.ws_seq++;
  WorkShare& ws = ts.team->ring[k % ring_size];
  first = false;
  const std::uint64_t free_k = 4 * k + phase_free;
  const std::uint64_t ready_k = 4 * k + phase_ready;
  // acquire: pairs with publish_workshare's release (the set-up fields) and with the
  // last leaver's release of the previous construct in this slot.
  std::uint64_t s = ws.state.load(std::memory_order_acquire);
  if (s == ready_k) return ws;
  if (s == free_k && ws.state.compare_exchange_strong(s, 4 * k + phase_setup,
                                                      std::memory_order_acquire)) {
    first = true;
    // relaxed: published by publish_workshare's release store.
    ws.left.store(ts.size, std::memory_order_relaxed);
    ws.copy_data = nullptr;
    return ws;
  }
  wait_until(ts, [&] { return ws.state.load(std::memory_order_acquire) == ready_k ||
                              ws.state.load(std::memory_order_acquire) == free_k; });
  if (ws.state.load(std::memory_order_acquire) == ready_k) return ws;
  // It came free for us: set it up (or lose the race to another member and wait again).
  --ts.ws_seq;
  return enter_workshare_raw(ts, first);
}

void publish_workshare(ThreadState& ts, WorkShare& ws) {
  const std::uint64_t k = ts.ws_seq - 1;
  // release: members that see ready see the set-up fields.
  ws.state.store(4 * k + phase_ready, std::memory_order_release);
  if (ts.size > 1) ts.team->notify();
}

void leave_workshare(ThreadState& ts, WorkShare& ws) {
  // acq_rel: the last leaver sees every member's use of the slot before freeing it.
  if (ws.left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    const std::uint64_t k = ws.state.load(std::memory_order_relaxed) / 4;  // relaxed: ours
    // release: the next user of the slot sees it fully left.
    ws.state.store(4 * (k + ring_size) + phase_free, std::memory_order_release);
    if (ts.size > 1) ts.team->notify();
  }
}

}  // namespace weft::gomp
