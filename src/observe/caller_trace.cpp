#include "observe/caller_trace.hpp"

#include <new>
#include <thread>

#include "common/thread_id.hpp"

namespace weft::detail {

namespace {

// relaxed (both): unique numbers only, nothing is published through them.
std::atomic<std::uint64_t> next_thread_token{1};
std::atomic<std::uint64_t> next_traces_id{1};

// The calling thread's lane of the CallerTraces it recorded on last (one entry: a
// thread alternating between two tracing schedulers finds its lane again by a scan of
// max_lanes slots, still without allocating).
struct LaneCache {
  std::uint64_t token = 0;     // this thread's token, 0 until its first span anywhere
  std::uint64_t traces_id = 0; // CallerTraces::id_ the entry is for; 0: none
  TraceRing* ring = nullptr;   // null: the shared lane
};
thread_local LaneCache tls_lane;

}  // namespace

CallerTraces::CallerTraces(std::size_t capacity)
    : capacity_(capacity), id_(next_traces_id.fetch_add(1, std::memory_order_relaxed)) {}

CallerTraces::~CallerTraces() {
  // relaxed: no thread records or reads while the scheduler is destroyed.
  for (Slot& slot : slots_) delete slot.ring.load(std::memory_order_relaxed);
  delete shared_.load(std::memory_order_relaxed);
}

void CallerTraces::record(const Span& span) noexcept {
  if (capacity_ == 0) return;
  LaneCache& cache = tls_lane;
  if (cache.traces_id != id_) {
    cache.ring = claim();
    cache.traces_id = id_;
  }
  if (cache.ring != nullptr) {
    cache.ring->record(span);  // this thread owns the ring: single writer
  } else {
    record_shared(span);
  }
}

TraceRing* CallerTraces::claim() noexcept {
  LaneCache& cache = tls_lane;
  if (cache.token == 0) cache.token = next_thread_token.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t me = cache.token;
  for (Slot& slot : slots_) {
    // relaxed: only this thread ever stores `me`; seeing it means we claimed it before
    // and published the ring ourselves.
    std::uint64_t owner = slot.owner.load(std::memory_order_relaxed);
    if (owner == me) return slot.ring.load(std::memory_order_relaxed);
    if (owner != 0) continue;
    // relaxed: the claim publishes nothing; the ring is published by its own store.
    if (!slot.owner.compare_exchange_strong(owner, me, std::memory_order_relaxed)) continue;
    TraceRing* ring = nullptr;
    try {
      ring = new TraceRing(capacity_);
    } catch (const std::bad_alloc&) {
      // The slot stays claimed and empty; this thread's spans go to the shared lane.
      return nullptr;
    }
    // relaxed: published by the release store of the ring.
    slot.tid.store(current_tid(), std::memory_order_relaxed);
    // release: a reader that sees the ring sees it constructed and the tid.
    slot.ring.store(ring, std::memory_order_release);
    return ring;
  }
  return nullptr;  // every lane is taken: the shared lane
}

void CallerTraces::record_shared(const Span& span) noexcept {
  // Test-and-test-and-set. acquire: the previous holder's ring writes (and the ring's
  // owner-only position) happen-before ours, so the ring keeps one writer at a time.
  for (unsigned spins = 0;; ++spins) {
    if (!shared_locked_.load(std::memory_order_relaxed) &&
        !shared_locked_.exchange(true, std::memory_order_acquire)) {
      break;
    }
    if (spins > 64) std::this_thread::yield();  // the holder was preempted
  }
  // relaxed: written only under the lock, which orders it for the next holder.
  TraceRing* ring = shared_.load(std::memory_order_relaxed);
  if (ring == nullptr) {
    try {
      ring = new TraceRing(capacity_);
      // release: a reader that sees the ring sees it constructed.
      shared_.store(ring, std::memory_order_release);
    } catch (const std::bad_alloc&) {
      ring = nullptr;
    }
  }
  if (ring != nullptr) {
    ring->record(span);
  } else {
    // relaxed: a count read once the tracing threads are quiescent.
    lost_.fetch_add(1, std::memory_order_relaxed);
  }
  // release: pairs with the next holder's acquire.
  shared_locked_.store(false, std::memory_order_release);
}

std::vector<CallerTraces::Lane> CallerTraces::snapshot(std::uint64_t* lost) const {
  std::vector<Lane> lanes;
  if (lost != nullptr) *lost = lost_.load(std::memory_order_relaxed);  // relaxed: a count
  for (const Slot& slot : slots_) {
    // acquire: pairs with claim()'s release; the ring and the tid are visible.
    const TraceRing* ring = slot.ring.load(std::memory_order_acquire);
    if (ring == nullptr) continue;
    lanes.push_back(Lane{slot.tid.load(std::memory_order_relaxed), false, ring->snapshot()});
  }
  // acquire: pairs with record_shared()'s release.
  if (const TraceRing* ring = shared_.load(std::memory_order_acquire)) {
    lanes.push_back(Lane{0, true, ring->snapshot()});
  }
  return lanes;
}

}  // namespace weft::detail
