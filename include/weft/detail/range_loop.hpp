// Range stealing: the engine behind parallel_for / _2d / _3d / parallel_reduce.
//
// A loop's index space is [0, units) of "units" (an iteration, a tile, or a fixed
// chunk of them). It is split into contiguous shares, one per slot, in order: slot k
// owns share k, so a loop run again with the same size and team gives every slot the
// same units (the scheduler gives slot k to the same worker each time: cache reuse).
// The owner takes chunks from the front of its share; a slot whose share is empty
// steals from the back of the largest remaining share (the back half, or all of it
// when little is left), keeps what it stole as its new share (so it can be stolen
// from in turn) and works through it from the front. Slots that no thread takes are
// covered the same way: their shares are stolen. The idea is pthreadpool's
// (src/portable-api.c); the packed single-word share is ours.
//
// Nothing here allocates for up to `inline_slots` slots: the job lives on the stack of
// the thread that starts the loop, and no chunk is ever pushed to a queue.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <utility>

#include "weft/detail/loop_job.hpp"
#include "weft/detail/preempt.hpp"

namespace weft::detail {

// One slot's share, units [front, back), packed into one word: front in the low
// 32 bits, back in the high 32. A claim (owner, front) and a steal (thief, back) are
// then each a single CAS on a single location, so two of them can never hand out the
// same unit, and a share can be read consistently with one load. Each share has its
// own cache line so that owners claiming chunks do not slow each other down.
struct alignas(64) RangeShare {
  std::atomic<std::uint64_t> word{0};
  // Units the slot ran (its own and stolen) and for how long it was in the loop, stored
  // once as it leaves; read after the join (run_loop's acquire orders them), for the
  // loop site's ShareHint.
  std::atomic<std::uint32_t> units_run{0};
  std::atomic<std::uint64_t> ns_run{0};
};

inline constexpr std::uint64_t pack_range(std::uint32_t front, std::uint32_t back) noexcept {
  return (static_cast<std::uint64_t>(back) << 32) | front;
}
inline constexpr std::uint32_t range_front(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word);
}
inline constexpr std::uint32_t range_back(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word >> 32);
}

// The largest number of units a loop is split into (units are indexed in 32 bits;
// a larger loop makes each unit cover several iterations).
inline constexpr std::uint64_t max_range_units = 0xFFFFFFFFu;

// Storage for one element per slot: in place for up to N slots, on the heap beyond
// (one allocation per loop, only on machines with more than N threads).
template <class E, unsigned N>
class SlotArray {
 public:
  explicit SlotArray(unsigned size) : size_(size) {
    if (size > N) {
      heap_.reset(new E[size]);
      data_ = heap_.get();
    } else {
      for (unsigned i = 0; i < size; ++i) ::new (static_cast<void*>(storage_ + i * sizeof(E))) E();
      data_ = std::launder(reinterpret_cast<E*>(storage_));
    }
  }
  SlotArray(const SlotArray&) = delete;
  SlotArray& operator=(const SlotArray&) = delete;
  ~SlotArray() {
    if (!heap_) {
      for (unsigned i = 0; i < size_; ++i) data_[i].~E();
    }
  }
  E& operator[](unsigned i) noexcept { return data_[i]; }
  const E& operator[](unsigned i) const noexcept { return data_[i]; }
  unsigned size() const noexcept { return size_; }

 private:
  alignas(E) unsigned char storage_[N * sizeof(E)];
  E* data_ = nullptr;
  std::unique_ptr<E[]> heap_;
  unsigned size_;
};

// How a slot sizes the chunks it takes from the front of its share: a quarter of
// what is left (big chunks early, few claims; small ones at the end, so the chunk
// that is running when the others run dry is short), clamped to [min_chunk, max_chunk].
struct ChunkPolicy {
  std::uint32_t min_chunk = 1;
  std::uint32_t max_chunk = 1;

  std::uint32_t next(std::uint32_t remaining) const noexcept {
    return std::min(remaining, std::clamp(remaining / 4, min_chunk, max_chunk));
  }
};

inline constexpr unsigned inline_slots = 64;

// What one slot of a loop ran: units, and nanoseconds from entering to leaving the loop.
struct SlotRun {
  std::uint32_t units = 0;
  std::uint64_t ns = 0;
};

// The shares of one loop and the two operations on them. Every operation uses
// relaxed atomics; why that suffices:
//  - exclusivity: each share is one atomic word, and every change that hands out units
//    is a CAS on it. CASes on one location are totally ordered and each reads the
//    latest value, so no unit is handed out twice, whatever the memory order.
//  - nothing else is published through the words: the loop's inputs (the body, the
//    split) reach the participants through the scheduler's run_loop (which invites
//    with release and is taken with acquire), and the results reach the caller through
//    run_loop's join (each participant leaves with release, the caller waits with
//    acquire). A unit's number is all a word carries.
//  - a stale plain load only misleads victim choice: a thief that sees an old, larger
//    range fails its CAS and looks again; one that sees a share empty that has just
//    been refilled may leave early, but refills happen only to a share whose owner is
//    running and will finish it. A share no thread owns only ever shrinks, so seeing it
//    empty means it is empty: when every participant has left, every unit has run.
//  - ABA is harmless: a word's value says all there is to know about the share (which
//    units it still holds), so a CAS that succeeds on an equal value is a correct claim.
class RangeSplitter {
 public:
  // Splits [0, units) into `slots` contiguous shares, share k before share k+1.
  RangeSplitter(std::uint32_t units, unsigned slots, ChunkPolicy policy)
      : shares_(slots), policy_(policy) {
    for (unsigned k = 0; k < slots; ++k) {
      auto front = static_cast<std::uint32_t>(std::uint64_t{units} * k / slots);
      auto back = static_cast<std::uint32_t>(std::uint64_t{units} * (k + 1) / slots);
      // Relaxed: the caller writes the split before run_loop publishes the job.
      shares_[k].word.store(pack_range(front, back), std::memory_order_relaxed);
    }
  }

  unsigned slots() const noexcept { return shares_.size(); }

  // Re-splits [0, units) in proportion to `weights` (one per slot, positive), keeping
  // share 0 at least `first` units (what skip_front will mark done). Like the split,
  // before run_loop publishes the job.
  void reweight(std::uint32_t units, const float* weights, std::uint32_t first) noexcept {
    const unsigned n = shares_.size();
    double total = 0;
    for (unsigned k = 0; k < n; ++k) total += weights[k];
    double sum = 0;
    std::uint32_t front = 0;
    for (unsigned k = 0; k < n; ++k) {
      sum += weights[k];
      std::uint32_t back = k + 1 == n ? units
                                      : static_cast<std::uint32_t>(std::min<double>(
                                            units, std::floor(units * (sum / total))));
      if (k == 0) back = std::max(back, std::min(first, units));
      back = std::max(back, front);
      // Relaxed: as in the constructor.
      shares_[k].word.store(pack_range(front, back), std::memory_order_relaxed);
      front = back;
    }
  }

  // Marks units [0, first) of share 0 as done (the caller ran them while measuring the
  // body's cost), keeping the split itself independent of how much that was.
  void skip_front(std::uint32_t first) noexcept {
    // Relaxed: like the split, this happens before run_loop publishes the job.
    std::uint64_t w = shares_[0].word.load(std::memory_order_relaxed);
    shares_[0].word.store(pack_range(std::max(range_front(w), first), range_back(w)),
                          std::memory_order_relaxed);
  }

  // The owner of `slot` takes the next chunk from the front of its share.
  bool claim(unsigned slot, std::uint32_t& begin, std::uint32_t& end) noexcept {
    std::atomic<std::uint64_t>& word = shares_[slot].word;
    // Relaxed: see the class comment. The owner's own load is never older than its own
    // last store (coherence), so an empty reading is final for this owner.
    std::uint64_t w = word.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t front = range_front(w), back = range_back(w);
      if (front >= back) return false;
      std::uint32_t take = policy_.next(back - front);
      if (word.compare_exchange_weak(w, pack_range(front + take, back),
                                     std::memory_order_relaxed, std::memory_order_relaxed)) {
        begin = front;
        end = front + take;
        return true;
      }
    }
  }

  // What `slot` ran, and for how long, once every participant has left.
  SlotRun run_of(unsigned slot) const noexcept {
    // Relaxed: the join ordered the slot's stores before these reads.
    return {shares_[slot].units_run.load(std::memory_order_relaxed),
            shares_[slot].ns_run.load(std::memory_order_relaxed)};
  }
  void record_run(unsigned slot, SlotRun run) noexcept {
    shares_[slot].units_run.store(run.units, std::memory_order_relaxed);  // relaxed: as above
    shares_[slot].ns_run.store(run.ns, std::memory_order_relaxed);
  }

  // `slot`'s share is empty: steal from the back of the largest other share, keep the
  // stolen range as this slot's share and hand out its first chunk. False when every
  // share looked empty (the loop is done as far as this slot can help).
  bool steal(unsigned slot, std::uint32_t& begin, std::uint32_t& end) noexcept {
    const unsigned n = shares_.size();
    for (;;) {
      unsigned victim = n;
      std::uint64_t victim_word = 0;
      std::uint32_t most = 0;
      // Start after our own slot so that thieves spread over victims.
      for (unsigned i = 1; i < n; ++i) {
        unsigned k = slot + i < n ? slot + i : slot + i - n;
        std::uint64_t w = shares_[k].word.load(std::memory_order_relaxed);
        std::uint32_t left = range_back(w) > range_front(w) ? range_back(w) - range_front(w) : 0;
        if (left > most) {
          most = left;
          victim = k;
          victim_word = w;
        }
      }
      if (victim == n) return false;
      // The back half, so that the owner keeps the part next to what it is running;
      // all of it when it is about one chunk (splitting further costs more than it saves).
      std::uint32_t take = most <= policy_.min_chunk ? most : most / 2;
      std::uint32_t front = range_front(victim_word), back = range_back(victim_word);
      std::uint32_t cut = back - take;
      if (!shares_[victim].word.compare_exchange_strong(
              victim_word, pack_range(front, cut), std::memory_order_relaxed,
              std::memory_order_relaxed)) {
        continue;  // The victim changed; choose again.
      }
      std::uint32_t first = policy_.next(take);
      begin = cut;
      end = cut + first;
      // Our share is empty and only its owner (us) ever refills it, so a plain store
      // suffices; relaxed for the reasons in the class comment.
      shares_[slot].word.store(pack_range(end, back), std::memory_order_relaxed);
      return true;
    }
  }

 private:
  SlotArray<RangeShare, inline_slots> shares_;
  ChunkPolicy policy_;
};

// The LoopJob the scheduler runs: every participant claims and steals units and hands
// them to `Exec` (`exec(slot, first_unit, end_unit)`), until no unit is left or a
// unit's body threw. `Exec` must tolerate calls from several threads for distinct slots.
template <class Exec>
class RangeLoopJob final : public LoopJob {
 public:
  RangeLoopJob(Exec& exec, std::uint32_t units, unsigned slots, ChunkPolicy policy)
      : exec_(exec), splitter_(units, slots, policy) {}

  RangeSplitter& splitter() noexcept { return splitter_; }

  void run_slot(unsigned slot) noexcept override {
    // A slot beyond the split (the scheduler never hands one out) has nothing to do.
    bool own = slot < splitter_.slots();
    std::uint32_t begin = 0, end = 0;
    std::uint64_t chunks = 0;
    std::uint32_t units = 0;
    // Two clock reads per slot, for loops long enough (measure_rates): its rate.
    const auto entered = measure_ ? std::chrono::steady_clock::now()
                                  : std::chrono::steady_clock::time_point{};
    try {
      while (!stopped()) {
        // The preemption point of low and normal loops: urgent work queued meanwhile
        // runs here first (on a worker), then this slot goes on. What it has not
        // claimed yet stays stealable meanwhile. A call and a relaxed-cost check per chunk.
        preemption_point();
        if (own && splitter_.claim(slot, begin, end)) {
          ++chunks;
          exec_(slot, begin, end);
          units += end - begin;
          continue;
        }
        own = false;
        if (slot >= splitter_.slots() || !splitter_.steal(slot, begin, end)) break;
        own = true;  // The stolen range is now this slot's share.
        ++chunks;
        exec_(slot, begin, end);
        units += end - begin;
      }
    } catch (...) {
      record_failure(std::current_exception());
    }
    if (measure_ && slot < splitter_.slots()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - entered);
      splitter_.record_run(slot, SlotRun{units, static_cast<std::uint64_t>(ns.count())});
    }
    report_loop_chunks(chunks);  // per-worker metrics (WorkerMetrics::loop_chunks)
  }

  // Each slot records what it ran and for how long (run_of). Set before run_loop.
  void measure_rates() noexcept { measure_ = true; }
  bool measuring_rates() const noexcept { return measure_; }
  // What `slot` ran, once run_loop returned (for the loop site's ShareHint).
  SlotRun run_of(unsigned slot) const noexcept { return splitter_.run_of(slot); }
  bool failed() const noexcept {
    return failed_.load(std::memory_order_relaxed);  // relaxed: after the join, as below
  }
  // After run_loop returned: rethrows the first exception a body threw, if any.
  void rethrow_if_failed() {
    // Relaxed: run_loop's join already ordered every participant's writes before this.
    if (failed_.load(std::memory_order_relaxed)) std::rethrow_exception(error_);
  }

 private:
  bool stopped() const noexcept {
    // Relaxed: the flag is only a hint to stop handing out work early; the exception
    // itself is read after the join. Checked once per chunk, so it costs a load of a
    // line that is only written when a body throws.
    return stop_.load(std::memory_order_relaxed);
  }

  void record_failure(std::exception_ptr error) noexcept {
    // The exchange elects exactly one writer of error_ (RMWs on one location are totally
    // ordered); relaxed suffices because error_ is read only after run_loop's join.
    if (!failed_.exchange(true, std::memory_order_relaxed)) error_ = std::move(error);
    stop_.store(true, std::memory_order_relaxed);
  }

  Exec& exec_;
  RangeSplitter splitter_;
  bool measure_ = false;
  alignas(64) std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace weft::detail
