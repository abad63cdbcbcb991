// Trace lanes for the threads weft did not create: the thread that calls parallel_for
// runs slot 0 of the loop, and a thread waiting on a Future or TaskGroup runs tasks
// while it waits. Without a lane of their own, that work is missing from the trace and
// a run with one worker and one caller reads as half idle.
//
// The choice: one TraceRing per external thread, up to max_lanes threads, each with
// the workers' capacity, claimed on the thread's first span and kept for the
// scheduler's life; then one shared overflow lane for any further threads.
//   - Per-thread rings keep the workers' single-writer rule, so recording costs what a
//     worker's does (the same ring, no lock, no RMW) plus one thread_local load that
//     finds the thread's ring. A single shared lane would need a lock per span on the
//     calling threads, which are exactly the threads latency matters for (a live
//     request calling parallel_for).
//   - Claiming (a CAS on a free lane, allocating its ring) happens once per thread and
//     scheduler, on its first span; a ring is allocated only when a thread uses it, so
//     a process with one calling thread pays for one ring, not max_lanes.
//   - Bounded: a server whose request threads come and go would otherwise grow without
//     limit. Lanes are never handed to another thread (a dead thread's spans stay in
//     the trace); a thread beyond max_lanes records on the shared lane under a spin lock
//     (uncontended: a few nanoseconds), so no span is lost, only its thread attribution.
// With tracing off (capacity 0) nothing here runs: the scheduler does not call in (see
// Observer::caller_traces()), so there is no lock, allocation or clock read.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "observe/trace_buffer.hpp"

namespace weft::detail {

class CallerTraces {
 public:
  static constexpr std::size_t max_lanes = 8;

  // capacity: spans per lane (Config::trace_capacity); 0: tracing off.
  explicit CallerTraces(std::size_t capacity);
  ~CallerTraces();
  CallerTraces(const CallerTraces&) = delete;
  CallerTraces& operator=(const CallerTraces&) = delete;

  bool enabled() const noexcept { return capacity_ != 0; }

  // Records a finished span on the calling thread's lane. Any thread; no allocation
  // or lock after the thread's first span (see the file comment).
  void record(const Span& span) noexcept;

  struct Lane {
    pid_t tid = 0;        // the thread's OS id; 0 for the shared overflow lane
    bool shared = false;  // the overflow lane of threads beyond max_lanes
    TraceRing::Snapshot snapshot;
  };
  // The lanes that hold a ring, in slot order (the order threads claimed them), then
  // the shared one. Any thread; complete at quiescence, as TraceRing::snapshot. `lost` (if not
  // null) receives spans not recorded because a ring could not be allocated.
  std::vector<Lane> snapshot(std::uint64_t* lost = nullptr) const;

 private:
  struct alignas(64) Slot {
    // The claiming thread's token (never reused, unlike OS thread ids); 0: free.
    std::atomic<std::uint64_t> owner{0};
    std::atomic<pid_t> tid{0};
    // Published (release) after the ring and tid are set; null until then.
    std::atomic<TraceRing*> ring{nullptr};
  };

  TraceRing* claim() noexcept;
  void record_shared(const Span& span) noexcept;

  const std::size_t capacity_;
  const std::uint64_t id_;  // tells this object from an earlier one at the same address
  std::array<Slot, max_lanes> slots_;
  alignas(64) std::atomic<bool> shared_locked_{false};
  std::atomic<TraceRing*> shared_{nullptr};  // allocated under the lock on first use
  std::atomic<std::uint64_t> lost_{0};       // spans dropped: no ring could be allocated
};

}  // namespace weft::detail
