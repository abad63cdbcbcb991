// weft::Scheduler: the public face of SchedulerCore.
#include "weft/scheduler.hpp"

#include "sched/scheduler_core.hpp"

namespace weft {

Scheduler::Scheduler(const Placement& placement, const Config& config)
    : core_(new detail::SchedulerCore(placement, config)) {}

Scheduler::~Scheduler() { delete core_; }

void Scheduler::run_loop(detail::LoopJob& job, unsigned max_threads, Priority priority,
                         detail::LoopDomain domain) {
  core_->run_loop(job, max_threads, priority, domain);
}

unsigned Scheduler::num_threads() const { return core_->num_threads(); }
int Scheduler::current_worker() const { return core_->current_worker(); }
const Placement& Scheduler::placement() const { return core_->placement(); }

}  // namespace weft
