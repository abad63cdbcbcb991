// Context switches of one thread, readable from any thread of the process.
//
// getrusage(RUSAGE_THREAD) only reports on the calling thread, but a metrics snapshot
// is taken by whoever calls Scheduler::metrics(); /proc/self/task/<tid>/status has the
// same counters for any thread of ours.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::detail {

struct ContextSwitches {
  std::uint64_t voluntary = 0;    // the thread blocked (parked, waited on I/O)
  std::uint64_t involuntary = 0;  // the kernel preempted it for another runnable thread
};

// From the text of a /proc/<pid>/task/<tid>/status file; nullopt when either line
// (voluntary_ctxt_switches, nonvoluntary_ctxt_switches) is missing or malformed.
std::optional<ContextSwitches> parse_context_switches(std::string_view status);

// Thread `tid` of this process; nullopt when it is gone or /proc is not mounted.
std::optional<ContextSwitches> read_context_switches(pid_t tid);

// Nanoseconds thread `tid` of this process has spent runnable but waiting for a CPU
// (/proc/self/task/<tid>/schedstat, second field); nullopt when it is gone, or the
// kernel keeps no schedstats.
std::optional<std::uint64_t> read_run_delay_ns(pid_t tid);

}  // namespace weft::detail
