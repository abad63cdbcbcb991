// The validation of TaskOptions and ForOptions: one function per struct, called by
// every entry point that accepts them (submit and TaskGroup::run through the
// scheduler's enqueue, every loop of weft/parallel.hpp, the Eigen adapter), so a bad
// value raises the same ConfigError whichever way it came in. Defined in
// src/parallel/options_check.cpp.
#pragma once

#include "weft/config.hpp"
#include "weft/export.hpp"
#include "weft/options.hpp"
#include "weft/topology.hpp"

namespace weft::detail {

// Raises ConfigError naming the first bad field and its value, e.g.
// "TaskOptions::priority: 7 is not a Priority", for a scheduler with this placement.
// The rules (the same field is checked the same way in both structs):
//   priority   unset, or one of the four Priority values
//   worker     -1, or an index into placement.workers
//   numa_node  -1, or a NUMA node that holds at least one worker
//   l3         -1, or an L3 domain that holds at least one worker (on numa_node, if set)
// grain, max_threads, strict, deterministic and name accept every value (see options.hpp).
WEFT_EXPORT void check_options(const TaskOptions& options, const Placement& placement);
WEFT_EXPORT void check_options(const ForOptions& options, const Placement& placement);

// Whether check_options could reject `options`: all-default options (the hot path of
// every loop and submit) skip the out-of-line call. Keep these in step with the rules.
inline bool may_be_invalid(const TaskOptions& options) noexcept {
  return (options.priority && static_cast<unsigned>(*options.priority) >= num_priorities) ||
         options.worker != -1 || options.numa_node != -1;
}
inline bool may_be_invalid(const ForOptions& options) noexcept {
  return (options.priority && static_cast<unsigned>(*options.priority) >= num_priorities) ||
         options.numa_node != -1 || options.l3 != -1;
}

// The loops' form: `Sched` is a Scheduler (a template so that this header needs only
// its declaration).
template <class Sched>
void check_loop_options(const Sched& sched, const ForOptions& options) {
  if (may_be_invalid(options)) check_options(options, sched.placement());
}

}  // namespace weft::detail
