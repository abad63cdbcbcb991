// A per-worker ring of finished spans (a task run, or a worker's part of a loop).
//
// Written only by its owning worker, one record() per span after the span ended, so
// every span in the ring is complete: there is no begin without its end. When the ring
// is full the oldest span is overwritten and counted as dropped.
//
// Reading (snapshot) is safe from any thread at any time: each slot carries a sequence
// number (a per-slot seqlock), and a slot that is being overwritten while it is read is
// left out and counted as dropped. The snapshot is complete — every span recorded and
// not overwritten — when the scheduler is quiescent: no task or loop running, e.g.
// after the tasks and loops of interest were waited for and the workers went idle.
// (A worker records its span just after the task's waiter was released, so a snapshot
// taken right after wait() may miss that last span; the scheduler's write_trace()
// documents this.)
//
// The record path does no allocation, lock or syscall: about six relaxed/release
// stores, plain movs on x86.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "weft/config.hpp"

namespace weft::detail {

enum class SpanKind : unsigned char { task, loop };

struct Span {
  const char* name = nullptr;  // TaskOptions/ForOptions::name: a string literal, or null
  Priority priority = Priority::normal;
  SpanKind kind = SpanKind::task;
  std::uint64_t begin_ns = 0;  // monotonic clock (observe/clock.hpp)
  std::uint64_t end_ns = 0;
};

class TraceRing {
 public:
  // capacity 0: tracing off; record() then does nothing.
  explicit TraceRing(std::size_t capacity)
      : capacity_(capacity), slots_(capacity ? new Slot[capacity] : nullptr) {}

  bool enabled() const noexcept { return capacity_ != 0; }
  std::size_t capacity() const noexcept { return capacity_; }

  // Owner only.
  void record(const Span& span) noexcept {
    if (capacity_ == 0) return;
    // relaxed: we are the only writer of written_.
    const std::uint64_t n = written_.load(std::memory_order_relaxed);
    Slot& slot = slots_[next_];
    if (++next_ == capacity_) next_ = 0;
    // relaxed: the release stores below cannot move before it (see snapshot()).
    slot.seq.store(2 * n + 1, std::memory_order_relaxed);
    slot.name.store(span.name, std::memory_order_release);
    slot.meta.store(static_cast<unsigned>(span.priority) | (static_cast<unsigned>(span.kind) << 8),
                    std::memory_order_release);
    slot.begin.store(span.begin_ns, std::memory_order_release);
    slot.end.store(span.end_ns, std::memory_order_release);
    // release: publishes the fields to a reader that sees this sequence value.
    slot.seq.store(2 * n + 2, std::memory_order_release);
    // release: a reader that sees n + 1 spans sees this slot's final sequence too.
    written_.store(n + 1, std::memory_order_release);
  }

  struct Snapshot {
    std::vector<Span> spans;    // oldest first
    std::uint64_t recorded = 0; // spans ever recorded
    std::uint64_t dropped = 0;  // overwritten (ring full) or being overwritten when read
  };

  // Any thread; complete at quiescence (see the file comment).
  Snapshot snapshot() const {
    Snapshot out;
    // acquire: pairs with record()'s last store, so slots [first, n) are published.
    const std::uint64_t n = written_.load(std::memory_order_acquire);
    out.recorded = n;
    if (capacity_ == 0) return out;
    const std::uint64_t first = n > capacity_ ? n - capacity_ : 0;
    out.dropped = first;
    out.spans.reserve(static_cast<std::size_t>(n - first));
    for (std::uint64_t i = first; i < n; ++i) {
      const Slot& slot = slots_[static_cast<std::size_t>(i % capacity_)];
      // Seqlock read: acquire loads keep the field loads between the two sequence
      // loads; a mismatch means the owner overwrote the slot with a newer span.
      const std::uint64_t s1 = slot.seq.load(std::memory_order_acquire);
      Span span;
      span.name = slot.name.load(std::memory_order_acquire);
      const unsigned meta = slot.meta.load(std::memory_order_acquire);
      span.begin_ns = slot.begin.load(std::memory_order_acquire);
      span.end_ns = slot.end.load(std::memory_order_acquire);
      // relaxed: ordered after the acquire loads above.
      const std::uint64_t s2 = slot.seq.load(std::memory_order_relaxed);
      if (s1 != 2 * i + 2 || s2 != s1) {
        ++out.dropped;
        continue;
      }
      span.priority = static_cast<Priority>(meta & 0xffu);
      span.kind = static_cast<SpanKind>(meta >> 8);
      out.spans.push_back(span);
    }
    return out;
  }

 private:
  struct Slot {
    std::atomic<std::uint64_t> seq{0};  // 2n+1 while span n is written, 2n+2 once written
    std::atomic<const char*> name{nullptr};
    std::atomic<unsigned> meta{0};      // priority | kind << 8
    std::atomic<std::uint64_t> begin{0};
    std::atomic<std::uint64_t> end{0};
  };

  std::size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::size_t next_ = 0;  // owner only: the slot the next span goes to
  alignas(64) std::atomic<std::uint64_t> written_{0};
};

}  // namespace weft::detail
