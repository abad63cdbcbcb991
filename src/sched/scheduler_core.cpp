// SchedulerCore: construction, shutdown, enqueue, and waking parked workers.
//
// Parking protocol (one sleeping worker, one waker; every path below follows it):
//
//   worker (park)                          waker (enqueue, run_loop)
//   1. parker.prepare()        (word = 0)  a. make the work visible (push / post)
//   2. set my bit in sleepers_ (seq_cst)   b. seq_cst fence
//   3. seq_cst fence                        c. a spinner will see it? done. Else claim
//   4. re-check every queue I may take       one sleeper's bit (fetch_and); if I
//      from, my mailbox, stopping_            cleared it, unpark that worker (word |= work;
//   5. nothing? commit: sleep while word==0  futex wake)
//   6. clear my bit
//
// No wake-up is lost: steps 2-4 and a-c are a Dekker pair. With both fences seq_cst,
// either the waker's read in (c) sees the bit set in (2), and then it unparks us, which
// either makes (5) return at once (word != 0) or wakes the futex; or it does not, and
// then the fence order puts (a) before our re-check (4), which finds the work. The same
// holds for spinners: a spinner stops counting itself in spinning_ only before it parks,
// and parking re-checks. A claimed bit belongs to exactly one waker (fetch_and), so one
// task wakes at most one sleeper. Steps 2-3, 6 and the claim in (c): SleeperSet.
#include "sched/scheduler_core.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <system_error>

#include "sched/elastic_monitor.hpp"  // SchedulerCore::elastic_ is destroyed here
#include "sched/work_sources.hpp"
#include "topology/config_check.hpp"
#include "weft/detail/options_check.hpp"
#include "weft/scheduler.hpp"

namespace weft::detail {

namespace {

// `config` is checked (effective_config) before the Observer allocates its trace rings.
ObserveOptions observe_options(const Config& config) {
  ObserveOptions options;
  options.hardware_counters = config.metrics && config.hardware_counters;
  options.trace_capacity = config.metrics ? config.trace_capacity : 0;
  options.counting = config.metrics;  // off: the workers' time reads as busy (Config::metrics)
  return options;
}

}  // namespace

SchedulerCore::SchedulerCore(const Placement& placement, const Config& config)
    : placement_(placement),
      loop_threads_(placement_.num_threads()),
      config_(effective_config(config, placement_)),
      all_workers_(with_background_workers(placement_, config_)),
      observer_(all_workers_, observe_options(config_)) {
  if (placement_.workers.empty()) {
    throw ConfigError("Placement::workers: empty (a scheduler needs at least one worker)");
  }
  // effective_config checked that a bounded policy has its limit.
  counting_ = config_.queue_policy != QueuePolicy::unbounded;
  trace_names_ = observer_.tracing();
  // The placement's workers, then the background workers (background.cpp).
  const std::size_t n = all_workers_.workers.size();
  if (n >= (1u << 16)) throw ConfigError("Placement::workers: too many workers");
  background_count_ = static_cast<unsigned>(n - placement_.workers.size());
  unsigned max_node = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const WorkerPlacement& wp = all_workers_.workers[i];
    for (unsigned v : wp.steal_order) {
      if (v >= n || v == i) {
        throw ConfigError("Placement::workers[" + std::to_string(i) + "].steal_order: " +
                          std::to_string(v) + " is not another worker");
      }
    }
    if (wp.numa_node > max_node) max_node = wp.numa_node;
  }
  for (std::size_t i = 0; i < n; ++i) {
    // The placement's steal order, then any worker it left out (a hand-made placement
    // may give none): every worker must be reachable by every other, or a task queued
    // on a busy worker would wait for it although others idle.
    std::vector<unsigned> order = all_workers_.workers[i].steal_order;
    std::vector<bool> listed(n, false);
    listed[i] = true;
    for (unsigned v : order) listed[v] = true;
    for (std::size_t v = 0; v < n; ++v) {
      if (!listed[v]) order.push_back(static_cast<unsigned>(v));
    }
    workers_.push_back(
        std::make_unique<Worker>(static_cast<unsigned>(i), all_workers_.workers[i], std::move(order)));
    workers_.back()->core = this;
    workers_.back()->spin_budget = SpinBudget(config_.spin, config_.spin_max);
    workers_.back()->bound = config_.pinning != Pinning::none && !workers_.back()->cpus.empty();
    if (!workers_.back()->bound && !workers_.back()->background) unbound_workers_ = true;
    if (config_.metrics) workers_.back()->obs = &observer_.worker(i);
  }
  numa_workers_.resize(max_node + 1);
  // Hints (TaskOptions::numa_node) address the placement's workers only.
  for (std::size_t i = 0; i < placement_.workers.size(); ++i)
    numa_workers_[workers_[i]->numa_node].push_back(static_cast<unsigned>(i));
  for (unsigned node = 0; node <= max_node; ++node) {
    numa_queues_.push_back(
        std::make_unique<std::array<std::array<InjectionQueue, num_levels>, 2>>());
  }
  init_priority_serving();
  slots_.resize(num_external_slots);
  for (auto& slot : slots_) slot = std::make_unique<ExternalSlot>();

  sleepers_.emplace(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto index = static_cast<unsigned>(i);
    if (workers_[i]->background) {
      sleepers_->add_to_group(index, WakeGroup::background);
      continue;
    }
    sleepers_->add_to_group(index, WakeGroup::ordinary);
    if (!workers_[i]->reserved) sleepers_->add_to_group(index, WakeGroup::unreserved);
  }
  unreserved_workers_ = sleepers_->group_size(WakeGroup::unreserved);

  // Threads last: everything they read is built. pthread_create synchronizes.
  for (auto& w : workers_) {
    const int error = start_thread(w->thread, &SchedulerCore::worker_entry, w.get());
    if (error != 0) {
      // Out of threads: stop the ones that started (nothing is queued yet), then report.
      stopping_.store(true, std::memory_order_seq_cst);
      for (auto& started : workers_) {
        started->parker.unpark(Parker::work);
        if (started->started) pthread_join(started->thread, nullptr);
      }
      throw std::system_error(error, std::generic_category(),
                              "weft::Scheduler: cannot start worker thread " +
                                  std::to_string(w->index));
    }
    w->started = true;
  }
  start_elastic();
}

// Shutdown itself is in shutdown.cpp (Scheduler::~Scheduler calls
// finish_for_destruction first); here it only completes if that did not run.
SchedulerCore::~SchedulerCore() {
  if (!shut_down_) finish_for_destruction();
}

Metrics SchedulerCore::metrics() const {
  // Approximate depths (relaxed size hints): a snapshot, not a synchronization point.
  std::vector<std::array<std::uint64_t, num_priorities>> depths(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    for (unsigned l = 0; l < num_levels; ++l) {
      visit_own_queues(*workers_[i], l, [&](const Source& source) {
        depths[i][l] += source.size_hint();
        return false;
      });
    }
  }
  Metrics m = observer_.metrics(depths);
  // relaxed: a snapshot, like the depths.
  if (counting_) m.queued_high_water = queued_high_water_.load(std::memory_order_relaxed);
  add_elastic_metrics(m);
  return m;
}

int SchedulerCore::current_worker() const {
  const ThreadContext& context = tls_context;
  return context.core == this && context.worker != nullptr ? static_cast<int>(context.worker->index)
                                                           : -1;
}

void SchedulerCore::enqueue(Task* task, const TaskOptions& options) {
  // First, before any group bookkeeping: a rejected task leaves no trace.
  if (may_be_invalid(options)) check_options(options, placement_);
  ThreadContext& context = tls_context;
  unsigned level = options.priority ? level_of(*options.priority) : inherited_level(context);
  const bool inside = context.core == this;
  // relaxed: destruction (or try_shutdown_for) racing with an unrelated thread's submit
  // is the caller's bug; this check catches submits that happen after shutdown visibly
  // began (e.g. from a thread the destructor is waiting on).
  if (stopping_.load(std::memory_order_relaxed) && !inside) {
    throw SchedulerError(
        "weft::Scheduler::submit: the scheduler is being destroyed or was shut down "
        "(try_shutdown_for)");
  }
  const bool hinted = options.worker != -1 || options.numa_node != -1;
  // Backpressure: counted here, or (hinted) by enqueue_hinted once its checks passed.
  if (counting_ && !hinted) admit(inside);
  if (task->owner != nullptr) {
    // A TaskGroup's task: a boosted group raises it (priority.cpp).
    level = note_group_task(*static_cast<GroupState*>(task->owner), level,
                            inside && !hinted ? context.worker : nullptr, context.level);
  }
  task->level = static_cast<std::uint8_t>(level);
  task->name = options.name;
  // A strict task never runs on a waiter that boosts it (run_ahead). relaxed: the
  // queue's publication below orders it.
  if (options.strict) task->claimed.store(TaskClaim::strict, std::memory_order_relaxed);
  if (hinted) {
    enqueue_hinted(task, options, level);
    return;
  }

  mark_level(level);
  if (inside && context.worker != nullptr) {
    context.worker->deques[level].push(task);
  } else if (inside && (context.slot != nullptr || (context.slot = acquire_slot()) != nullptr)) {
    // An external thread running tasks inside wait_on (which gives the slot back).
    context.slot->deques[level].push(task);
  } else {
    global_[level].push(task);
  }
  note_urgent(level);  // after the push: a worker that sees the bump finds the task
  wake_one(level);
}

// A task with an affinity hint (checked by enqueue). `worker` wins when both are given.
void SchedulerCore::enqueue_hinted(Task* task, const TaskOptions& options, unsigned level) {
  const bool urgent = level >= level_of(Priority::high);
  if (options.strict && !urgent) {
    // A strict low/normal task for reserved workers only would never run.
    bool runnable = false;
    if (options.worker >= 0) {
      runnable = !workers_[options.worker]->reserved;
    } else {
      for (unsigned i : numa_workers_[options.numa_node]) runnable |= !workers_[i]->reserved;
    }
    if (!runnable) {
      throw ConfigError(options.worker >= 0
                            ? "TaskOptions::worker: " + std::to_string(options.worker) +
                                  " is a reserved worker (runs only high and critical tasks)"
                            : "TaskOptions::numa_node: " + std::to_string(options.numa_node) +
                                  " has only reserved workers (run only high and critical tasks)");
    }
  }
  if (counting_) admit(tls_context.core == this);
  mark_level(level);
  if (options.worker >= 0) {
    Worker& target = *workers_[options.worker];
    (options.strict ? target.strict_inbox : target.inbox)[level].push(task);
  } else {
    (*numa_queues_[options.numa_node])[options.strict ? 1 : 0][level].push(task);
  }
  note_urgent(level);
  wake_for(options, level);
}

void SchedulerCore::register_sleeper(Worker& w) { sleepers_->announce(w.index); }

void SchedulerCore::unregister_sleeper(Worker& w) { sleepers_->withdraw(w.index); }

bool SchedulerCore::try_wake(unsigned worker) {
  if (!sleepers_->claim(worker)) return false;
  workers_[worker]->parker.unpark(Parker::work);
  return true;
}

void SchedulerCore::wake_one(unsigned level) {
  seq_cst_fence();  // step (b) of the protocol
  // Who takes work of this level: background workers (low, when there are any), else
  // unreserved workers, and for urgent work reserved ones too.
  const bool background = level == 0 && background_count_ > 0;
  const bool any_worker = level >= level_of(Priority::high);
  // relaxed: ordered by the fence above (step c).
  int spinners = spinning_[background ? 2 : 0].load(std::memory_order_relaxed);
  if (any_worker) spinners += spinning_[1].load(std::memory_order_relaxed);
  if (spinners > 0) return;
  const WakeGroup group = background   ? WakeGroup::background
                          : any_worker ? WakeGroup::ordinary
                                       : WakeGroup::unreserved;
  if (const std::optional<unsigned> worker = sleepers_->claim_one(group))
    workers_[*worker]->parker.unpark(Parker::work);
}

void SchedulerCore::wake_for(const TaskOptions& options, unsigned level) {
  seq_cst_fence();  // step (b) of the protocol
  // With background workers, the hinted (placement) workers take a low task only if it
  // is strict; a background worker takes the others from their queues (wake_one).
  const bool hinted_take = options.strict || level > 0 || background_count_ == 0;
  if (options.worker >= 0 && hinted_take) {
    // The hinted worker first; if it is awake it will see the task in its inbox.
    if (try_wake(static_cast<unsigned>(options.worker)) || options.strict) return;
    if (workers_[options.worker]->state.load(std::memory_order_relaxed) != WorkerState::busy) return;
  } else if (hinted_take) {
    for (unsigned i : numa_workers_[options.numa_node]) {
      if (try_wake(i)) return;
    }
    if (options.strict) return;
  }
  wake_one(level);
}

unsigned SchedulerCore::awake_workers() const {
  // A sizing hint for the loop family; a stale bit costs a little time (a wake-up, or a
  // share the caller steals back), never correctness.
  const unsigned parked = sleepers_->parked(WakeGroup::unreserved);
  return unreserved_workers_ - std::min(parked, unreserved_workers_);
}

void SchedulerCore::set_num_threads(unsigned n) {
  // The workers exist from construction; more loop threads than them would need new
  // threads, which a running scheduler does not add.
  const unsigned capacity = static_cast<unsigned>(placement_.workers.size()) + 1;
  if (n > capacity)
    throw ConfigError("set_num_threads: " + std::to_string(n) + " is more than this scheduler's " +
                      std::to_string(capacity) + " threads (the caller and " +
                      std::to_string(capacity - 1) + (capacity == 2 ? " worker" : " workers") +
                      ", made at its start); ask for more in Config::num_threads, or call "
                      "weft::set_num_threads before the default scheduler's first use");
  // relaxed: see num_threads().
  loop_threads_.store(n == 0 ? placement_.num_threads() : n, std::memory_order_relaxed);
}

}  // namespace weft::detail
