// Hardware counters of one worker thread through perf_event_open: a group of
// cache-references, cache-misses and instructions, user space only.
//
// Opening fails in many VMs and containers (no PMU passed through: ENOENT/EOPNOTSUPP;
// kernel.perf_event_paranoid too strict or a seccomp filter: EACCES/EPERM). Then every
// value reads unavailable (nullopt) — never a crash, never an invented number — and
// unavailable_reason() says why. WEFT_PERF_EVENTS=0 in the environment forces that
// path (tests use it, operators can use it to keep weft away from the PMU).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "topology/config_env.hpp"  // perf_events_allowed_by_env: open() obeys it

namespace weft::detail {

struct HardwareCounts {
  std::uint64_t cache_references = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t instructions = 0;
};

// Which events open() asks for. `software_for_tests` opens kernel software events
// (task-clock, cpu-clock, page-faults) into the same three fields, so tests can check the
// group-reading path on machines without a PMU; never used by the scheduler.
enum class PerfEvents : unsigned char { hardware, software_for_tests };

class PerfCounters {
 public:
  PerfCounters() = default;
  ~PerfCounters() { close(); }
  PerfCounters(const PerfCounters&) = delete;
  PerfCounters& operator=(const PerfCounters&) = delete;

  // Opens the group for thread `tid` of this process (once; any thread may call it,
  // normally the worker itself at start). `enabled` false (Config::hardware_counters
  // off) or WEFT_PERF_EVENTS=0 leaves the counters unavailable without a syscall.
  // Returns whether the counters are available.
  bool open(pid_t tid, bool enabled, PerfEvents events = PerfEvents::hardware);

  // Any thread, concurrently with the owner running. Counts since open(), scaled by
  // time_enabled / time_running when the kernel multiplexed the group off the PMU
  // (as `perf stat` does); nullopt when unavailable or the group never ran.
  std::optional<HardwareCounts> read() const;

  bool available() const { return state_.load(std::memory_order_acquire) == state_open; }
  // Why read() returns nullopt ("disabled by WEFT_PERF_EVENTS (not 1 or true)",
  // "perf_event_open (cache-references): Permission denied; kernel.perf_event_paranoid
  // = 3"), empty when available or not opened yet.
  std::string unavailable_reason() const;

  // Closes the descriptors. Not concurrently with read() (the scheduler calls it after
  // joining the workers, through the destructor).
  void close();

 private:
  static constexpr int state_unopened = 0, state_open = 1, state_unavailable = 2;
  // Written by open() before the release store of state_, read after an acquire load.
  int fds_[3] = {-1, -1, -1};
  std::string reason_;
  std::atomic<int> state_{state_unopened};
};

}  // namespace weft::detail
