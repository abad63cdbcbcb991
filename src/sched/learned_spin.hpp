// How long a thread spins before it yields while it waits for another thread that is a
// few instructions away from the step it waits for (team.cpp: the members' and the
// caller's waits during a team's formation and end).
//
// Spinning first is right when the other thread runs on another CPU: sched_yield on a
// machine busy with other processes hands the CPU to one of them for a time slice
// (milliseconds). The full spin, 2^14 pauses, is about what OpenMP runtimes spin at their
// barriers. But when the other thread shares this CPU (the kernel woke a member on its
// caller's CPU) or was preempted, it runs only once we yield, and each wait costs the
// whole spin: three per team, ~0.4 ms each, measured on teams run back to back. So each
// thread learns: a wait that had to yield halves the next one's spin, a wait that ended
// while spinning doubles it back, between 1 and the full spin.
#pragma once

#include <algorithm>

#include "sched/cpu_relax.hpp"

namespace weft::detail {

class LearnedSpin {
 public:
  static constexpr unsigned max_rounds = 1u << 14;

  // Spins up to rounds() pauses, then calls yield() between looks, until done().
  template <class Done, class Yield>
  void wait(Done&& done, Yield&& yield) {
    const unsigned limit = rounds_;
    bool yielded = false;
    for (unsigned round = 0; !done(); ++round) {
      if (round < limit) {
        cpu_relax();
      } else {
        yield();
        yielded = true;
      }
    }
    rounds_ = yielded ? std::max(limit / 2, 1u) : std::min(limit * 2, max_rounds);
  }
  unsigned rounds() const { return rounds_; }

 private:
  unsigned rounds_ = max_rounds;
};

}  // namespace weft::detail
