// Per-worker counters: what one worker did, written only by that worker.
//
// Single writer: every field is a std::atomic that the owning worker updates with a
// relaxed load followed by a relaxed store (never fetch_add). Because nobody else
// writes, the increment cannot lose updates, the hot path pays no locked instruction
// (both are plain movs on x86), and another thread may read a snapshot at any time
// without a data race (it sees each counter at some recent value).
//
// Time accounting is done at state transitions: enter(state, now) adds now - since to
// the state being left. The hot path reads the clock once per transition (busy ->
// spinning -> parked -> busy), never per task, and tests inject `now` to check that
// busy + spinning + parked equals the window exactly. The transition fields are
// guarded by a seqlock so that a snapshot sees one consistent (state, since, totals)
// triple and can add the time spent so far in the current state.
//
// Windows (Scheduler::reset_metrics) never write here: they subtract a baseline
// snapshot, which keeps the single-writer rule.
//
// A worker is busy only from the first work it runs (WorkerObserver::begin_work), not
// from its construction: the time before its thread has run anything (thread creation,
// pinning, the first empty scan) is idle and counts as parked. Counting it as busy made
// a fresh scheduler report its workers ~100% busy with nothing run.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

#include "weft/config.hpp"

namespace weft::detail {

// How far a stolen task travelled, from the thief's point of view.
enum class StealDistance : unsigned char { same_l3, same_numa, remote };
inline constexpr unsigned num_steal_distances = 3;

// Cumulative values of one worker's counters at one instant.
struct CounterSnapshot {
  std::array<std::uint64_t, num_priorities> tasks_run{};
  std::uint64_t loop_chunks = 0;
  std::uint64_t steals_attempted = 0;
  std::uint64_t steals_succeeded = 0;
  std::array<std::uint64_t, num_steal_distances> steals_by_distance{};
  std::array<std::uint64_t, 3> time_ns{};  // indexed by WorkerCounters::State
  std::uint64_t parks = 0;
  std::uint64_t wakeups = 0;
  std::uint64_t migrations = 0;
  std::uint64_t spin_cut_ns = 0;
  std::uint64_t spin_extended_ns = 0;
  std::uint64_t steps_aside = 0;
  std::uint64_t pulls = 0;
  int last_cpu = -1;
};

class alignas(64) WorkerCounters {
 public:
  enum class State : unsigned char { busy, spinning, parked };

  // --- owner only (or before the owner thread starts: thread creation orders it) ---

  // Begins time accounting in `state` at `now`. Until then every time reads zero.
  void start(State state, std::uint64_t now, int cpu = -1) noexcept {
    write_transition(static_cast<unsigned>(state), now, cpu, /*accumulate=*/false);
  }
  // Begins time accounting at `now` for a worker whose thread has not run anything yet
  // (see the file comment): the time counts as parked, entering `parked` from here is a
  // park, and leaving for busy or spinning is not a wake-up (nothing woke it), so a
  // worker that started and went to sleep shows one park more than wake-ups.
  void start_idle(std::uint64_t now) noexcept {
    write_transition(starting, now, -1, /*accumulate=*/false);
  }

  // Leaves the current state at `now` (its time grows by now - since) and enters
  // `state`. `cpu` is sched_getcpu() or -1: a change from the last one counts a
  // migration. Entering `parked` counts a park; leaving it counts a wake-up.
  void enter(State state, std::uint64_t now, int cpu = -1) noexcept {
    write_transition(static_cast<unsigned>(state), now, cpu, /*accumulate=*/true);
  }
  // Samples the CPU without changing the state (time accounting continues).
  void note_cpu(std::uint64_t now, int cpu) noexcept {
    // relaxed: we are the only writer of state_.
    write_transition(state_.load(std::memory_order_relaxed), now, cpu, /*accumulate=*/true);
  }
  // Whether the owner is in the busy state now (owner only: a plain load of its own field).
  bool busy() const noexcept {
    // relaxed: we are the only writer of state_.
    return state_.load(std::memory_order_relaxed) == static_cast<unsigned>(State::busy);
  }

  void task_run(Priority priority) noexcept { bump(tasks_run_[static_cast<unsigned>(priority)]); }
  void loop_chunks(std::uint64_t n = 1) noexcept { bump(loop_chunks_, n); }
  void steal_attempted(std::uint64_t n = 1) noexcept { bump(steals_attempted_, n); }
  void steal_succeeded(StealDistance distance) noexcept {
    bump(steals_succeeded_);
    bump(steals_by_distance_[static_cast<unsigned>(distance)]);
  }
  void spin_cut(std::uint64_t ns) noexcept { bump(spin_cut_ns_, ns); }
  void spin_extended(std::uint64_t ns) noexcept { bump(spin_extended_ns_, ns); }
  void stepped_aside() noexcept { bump(steps_aside_); }
  // Written by the thread that moved this worker (SchedulerCore::pull_stragglers), one at
  // a time (Worker::moving orders them): still a single writer.
  void pulled() noexcept { bump(pulls_); }

  // --- any thread ---

  // The counters now; the current state's time includes now - since (zero when `now`
  // is earlier than the last transition: the reader's clock read came first).
  CounterSnapshot snapshot(std::uint64_t now) const noexcept {
    CounterSnapshot s;
    // relaxed: independent monotone counters; no ordering with anything else needed.
    for (unsigned p = 0; p < num_priorities; ++p)
      s.tasks_run[p] = tasks_run_[p].load(std::memory_order_relaxed);
    s.loop_chunks = loop_chunks_.load(std::memory_order_relaxed);
    s.steals_attempted = steals_attempted_.load(std::memory_order_relaxed);
    s.steals_succeeded = steals_succeeded_.load(std::memory_order_relaxed);
    for (unsigned d = 0; d < num_steal_distances; ++d)
      s.steals_by_distance[d] = steals_by_distance_[d].load(std::memory_order_relaxed);
    s.spin_cut_ns = spin_cut_ns_.load(std::memory_order_relaxed);
    s.spin_extended_ns = spin_extended_ns_.load(std::memory_order_relaxed);
    s.steps_aside = steps_aside_.load(std::memory_order_relaxed);
    s.pulls = pulls_.load(std::memory_order_relaxed);

    unsigned state = not_started;
    std::uint64_t since = 0;
    for (unsigned attempt = 0;; ++attempt) {
      // Seqlock read (Boehm, "Can seqlocks get along with programming language memory
      // models?"): acquire on the first sequence load orders the data loads after it;
      // acquire on each data load orders the final sequence load after them, so a
      // changed sequence reveals any overlapping write. No fences (TSan models these).
      const std::uint32_t s1 = seq_.load(std::memory_order_acquire);
      if ((s1 & 1u) == 0) {
        state = state_.load(std::memory_order_acquire);
        since = since_.load(std::memory_order_acquire);
        for (unsigned i = 0; i < 3; ++i) s.time_ns[i] = time_ns_[i].load(std::memory_order_acquire);
        s.parks = parks_.load(std::memory_order_acquire);
        s.wakeups = wakeups_.load(std::memory_order_acquire);
        s.migrations = migrations_.load(std::memory_order_acquire);
        s.last_cpu = last_cpu_.load(std::memory_order_acquire);
        // relaxed: ordered after the acquire loads above.
        if (seq_.load(std::memory_order_relaxed) == s1) break;
      }
      // The owner is between the two stores of one transition (a few instructions);
      // it can only be slow to finish if it was preempted there.
      if (attempt > 64) std::this_thread::yield();
    }
    if (state != not_started && now > since) s.time_ns[bucket(state)] += now - since;
    return s;
  }

 private:
  static constexpr unsigned not_started = 3;
  // Accounting began, the owner has run nothing yet (start_idle); time counts as parked.
  static constexpr unsigned starting = 4;
  static constexpr unsigned parked = static_cast<unsigned>(State::parked);
  static constexpr unsigned bucket(unsigned state) noexcept { return state == starting ? parked : state; }

  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    // relaxed load + store: single writer (see the file comment), so no update is lost.
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void write_transition(unsigned next, std::uint64_t now, int cpu, bool accumulate) noexcept {
    // relaxed loads of our own fields: we are their only writer.
    const std::uint32_t seq = seq_.load(std::memory_order_relaxed);
    // relaxed: the release stores below cannot be reordered before this store, so a
    // reader that sees any of them sees the odd sequence too.
    seq_.store(seq + 1, std::memory_order_relaxed);
    const unsigned prev = state_.load(std::memory_order_relaxed);
    if (accumulate && prev != not_started) {
      const std::uint64_t since = since_.load(std::memory_order_relaxed);
      auto& time = time_ns_[bucket(prev)];
      if (now > since) {
        time.store(time.load(std::memory_order_relaxed) + (now - since), std::memory_order_release);
      }
      if (next == parked && prev != parked)
        parks_.store(parks_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
      if (prev == parked && next != parked)
        wakeups_.store(wakeups_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    if (cpu >= 0) {
      const int last = last_cpu_.load(std::memory_order_relaxed);
      if (last >= 0 && last != cpu)
        migrations_.store(migrations_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
      last_cpu_.store(cpu, std::memory_order_release);
    }
    // release on each data store: see snapshot().
    state_.store(next, std::memory_order_release);
    since_.store(now, std::memory_order_release);
    // release: publishes the data stores above to a reader that sees the even sequence.
    seq_.store(seq + 2, std::memory_order_release);
  }

  std::array<std::atomic<std::uint64_t>, num_priorities> tasks_run_{};
  std::atomic<std::uint64_t> loop_chunks_{0};
  std::atomic<std::uint64_t> steals_attempted_{0};
  std::atomic<std::uint64_t> steals_succeeded_{0};
  std::array<std::atomic<std::uint64_t>, num_steal_distances> steals_by_distance_{};
  std::atomic<std::uint64_t> spin_cut_ns_{0};
  std::atomic<std::uint64_t> spin_extended_ns_{0};
  std::atomic<std::uint64_t> steps_aside_{0};
  std::atomic<std::uint64_t> pulls_{0};

  // Guarded by seq_ (odd while a transition is being written).
  std::atomic<std::uint32_t> seq_{0};
  std::atomic<unsigned> state_{not_started};
  std::atomic<std::uint64_t> since_{0};
  std::array<std::atomic<std::uint64_t>, 3> time_ns_{};
  std::atomic<std::uint64_t> parks_{0};
  std::atomic<std::uint64_t> wakeups_{0};
  std::atomic<std::uint64_t> migrations_{0};
  std::atomic<int> last_cpu_{-1};
};

}  // namespace weft::detail
