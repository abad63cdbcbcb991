// weft::Scheduler: the public face of SchedulerCore.
#include "weft/scheduler.hpp"

#include "sched/scheduler_core.hpp"

namespace weft {

Scheduler::Scheduler(const Placement& placement, const Config& config)
    : core_(std::make_unique<detail::SchedulerCore>(placement, config)) {}

// After an incomplete try_shutdown_for a worker may still be inside a task that never
// returns: then the core is leaked, not freed under it (shutdown.cpp).
Scheduler::~Scheduler() {
  if (!core_->finish_for_destruction()) static_cast<void>(core_.release());
}

ShutdownResult Scheduler::try_shutdown_for(std::chrono::milliseconds timeout) {
  return core_->try_shutdown_for(timeout);
}

void Scheduler::run_loop(detail::LoopJob& job, unsigned max_threads, Priority priority,
                         detail::LoopDomain domain) {
  core_->run_loop(job, max_threads, priority, domain);
}

unsigned Scheduler::run_team(TeamJob& job, unsigned max_members, Priority priority,
                             bool all_or_nothing) {
  return core_->run_team(job, max_members, priority, all_or_nothing);
}

unsigned Scheduler::num_threads() const { return core_->num_threads(); }
void Scheduler::set_num_threads(unsigned n) { core_->set_num_threads(n); }
int Scheduler::current_worker() const { return core_->current_worker(); }
unsigned Scheduler::awake_workers() const { return core_->awake_workers(); }
bool Scheduler::hands_off(Priority priority) const { return core_->hands_off_here(priority); }
const Placement& Scheduler::placement() const { return core_->placement(); }
const Config& Scheduler::config() const { return core_->config(); }

Metrics Scheduler::metrics() const { return core_->metrics(); }
void Scheduler::reset_metrics() {
  core_->observer().reset();
  core_->reset_queued_high_water();
}
void Scheduler::write_trace(const std::string& path) const { core_->observer().write_trace(path); }
std::string Scheduler::trace_json() const { return core_->observer().trace_json(); }

}  // namespace weft
