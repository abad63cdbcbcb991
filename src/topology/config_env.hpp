// The WEFT_* variables that are not Config fields, read by config.cpp (the one reader of
// the environment) for the stages that act on them.
#pragma once

#include <string>

namespace weft::detail {

// WEFT_PERF_EVENTS: unset or a true value (1, true) allows perf_event_open; 0, false or
// anything unreadable keeps every scheduler's hardware counters unavailable, whatever
// Config::hardware_counters says (operators keep weft away from the PMU with it).
bool perf_events_allowed_by_env();

// WEFT_METRICS / WEFT_TRACE: where the default scheduler writes its metrics and trace at
// exit ("-" for metrics: the table on stderr); empty when unset.
struct ExitReportPaths {
  std::string metrics;
  std::string trace;
};
ExitReportPaths exit_report_paths_from_env();

}  // namespace weft::detail
