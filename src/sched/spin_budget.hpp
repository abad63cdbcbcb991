// How long one idle worker spins before it parks: the rule, apart from the clock and
// the syscalls that feed it, so tests can drive it with made-up durations.
//
//   base     Config::spin: the spin after any work (0: never spin, never adapt).
//   ceiling  max(Config::spin, Config::spin_max): the most the budget grows to.
//
//   woken(gap)    the worker parked and was woken for work `gap` after it ran out of
//                 work (its spin plus its sleep).
//                 gap <= ceiling: a longer spin would have caught that work without a
//                   wake-up; move to gap + gap/4 (a margin for jitter), never below
//                   base and at most doubling per wake-up, so that one short gap does
//                   not buy a long spin and a cut budget regrows step by step.
//                 gap > ceiling: a truly idle spell; spinning past base would have been
//                   wasted, so fall back to base (never up: a preempted worker keeps its cut).
//   preempted()   the kernel took the worker's CPU for another runnable thread since
//                 its last park: spinning only steals CPU from threads doing work, so
//                 halve, to 0 below 1 us (woken() grows it again from 1 us).
//   linger()      a team member between OpenMP regions: at least base, once.
//
// So a steady stream of requests closer together than the ceiling keeps its workers
// awake after a few requests, and after the last burst each worker burns at most the
// ceiling before it sleeps.
#pragma once

#include <algorithm>
#include <chrono>

namespace weft::detail {

class SpinBudget {
 public:
  using ns = std::chrono::nanoseconds;
  static constexpr ns min_spin{1000};

  SpinBudget() = default;
  SpinBudget(ns base, ns ceiling) : base_(base), ceiling_(std::max(base, ceiling)), budget_(base) {}

  ns current() const { return budget_; }
  ns base() const { return base_; }

  void woken(ns gap) {
    if (base_.count() <= 0) return;
    if (gap > ceiling_) {
      budget_ = std::min(budget_, base_);
      return;
    }
    const ns wanted = std::max(gap + gap / 4, base_);
    budget_ = std::max(min_spin, std::min({ceiling_, wanted, std::max(budget_ * 2, min_spin)}));
  }

  void preempted() {
    budget_ /= 2;
    if (budget_ < min_spin) budget_ = ns{0};
  }

  void linger() { budget_ = std::max(budget_, base_); }

 private:
  ns base_{0};
  ns ceiling_{0};
  ns budget_{0};
};

}  // namespace weft::detail
