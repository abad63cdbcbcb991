// The one check of a Config: plan_placement and the Scheduler both call it, so a field's
// range is written once and its error reads the same whichever door it came in by.
#pragma once

#include "weft/config.hpp"
#include "weft/topology.hpp"

namespace weft::detail {

// Every field judged on its own, without a machine: ConfigError "Config::<field>: <value>
// ..." for the first one out of range. What only a machine can bound (num_threads against
// its PUs, reserved_workers against the workers, a partition against its cores, a cpuset
// against the affinity mask) plan_placement reports as it plans, in the same form.
void check_config(const Config& config);

// The Config a scheduler runs `placement` with: checked as above, then what the placement
// decides made concrete: num_threads and reserved_workers as the placement has them,
// background_workers resolved from auto (one per loop thread), and min_workers checked
// against the workers. pinning stays as given: unset means "bind to the placement's
// cpus" to the workers, and Placement::pinning says what the rule chose.
// Scheduler::config() returns it.
Config effective_config(const Config& config, const Placement& placement);

}  // namespace weft::detail
