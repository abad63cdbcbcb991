// Scheduler(Config): plans the placement from this machine. A file of its own so that
// a program that builds its own Placement does not pull in the topology stage.
#include "weft/scheduler.hpp"
#include "weft/topology.hpp"

namespace weft {

Scheduler::Scheduler(const Config& config)
    : Scheduler(plan_placement(Topology::probe(), config), config) {}

}  // namespace weft
