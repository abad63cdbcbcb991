// Helpers for the scheduler tests: hand-made placements (no topology needed), a
// sanitizer-aware scale factor, and a simple LoopJob.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include "weft/config.hpp"
#include "weft/detail/loop_job.hpp"
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

namespace weft::test {

#ifdef WEFT_TEST_SANITIZED
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif

// `normal` in a plain build, `normal / divisor` under a sanitizer.
inline std::size_t scaled(std::size_t normal, std::size_t divisor = 20) {
  return sanitized ? normal / divisor : normal;
}

// `workers` unbound workers; the last `reserved` are reserved; workers spread over
// `numa_nodes` nodes round-robin; steal order: the others by index distance.
inline Placement make_placement(unsigned workers, unsigned reserved = 0, unsigned numa_nodes = 1) {
  Placement p;
  for (unsigned i = 0; i < workers; ++i) {
    WorkerPlacement w;
    w.core = i + 1;
    w.numa_node = i % numa_nodes;
    w.l3 = w.numa_node;
    w.reserved = i + reserved >= workers;
    for (unsigned d = 1; d < workers; ++d) w.steal_order.push_back((i + d) % workers);
    p.workers.push_back(w);
  }
  p.cpu_budget = workers + 1;
  return p;
}

inline Config unpinned(std::chrono::microseconds spin = std::chrono::microseconds{50}) {
  Config c;
  c.pinning = Pinning::none;
  c.spin = spin;
  return c;
}

// Records which slots ran and on which worker, and sums [0, n) through an atomic cursor.
class SumJob final : public detail::LoopJob {
 public:
  SumJob(Scheduler& s, std::size_t n, unsigned max_slots)
      : sched_(s), n_(n), slots_(max_slots), workers_(max_slots) {
    for (auto& s_ : slots_) s_.store(0);
    for (auto& w : workers_) w.store(-2);
  }
  void run_slot(unsigned slot) noexcept override {
    inside_.fetch_add(1);
    if (slot < slots_.size()) {
      slots_[slot].fetch_add(1);
      workers_[slot].store(sched_.current_worker());
    } else {
      bad_slot_.store(true);
    }
    for (;;) {
      std::size_t i = cursor_.fetch_add(16);
      if (i >= n_) break;
      std::size_t e = i + 16 < n_ ? i + 16 : n_;
      std::size_t local = 0;
      for (std::size_t k = i; k < e; ++k) local += k;
      sum_.fetch_add(local);
    }
    inside_.fetch_sub(1);
  }
  std::size_t sum() const { return sum_.load(); }
  int inside() const { return inside_.load(); }
  bool bad_slot() const { return bad_slot_.load(); }
  unsigned runs(unsigned slot) const { return slots_[slot].load(); }
  int worker_of(unsigned slot) const { return workers_[slot].load(); }

 private:
  Scheduler& sched_;
  std::size_t n_;
  std::atomic<std::size_t> cursor_{0}, sum_{0};
  std::atomic<int> inside_{0};
  std::atomic<bool> bad_slot_{false};
  std::vector<std::atomic<unsigned>> slots_;
  std::vector<std::atomic<int>> workers_;
};

inline std::size_t triangle(std::size_t n) { return n * (n - 1) / 2; }

}  // namespace weft::test
