// Where work waits, in the order a thread looks: the one list that taking (find_work,
// find_work_external), the check before sleeping (has_visible_work,
// has_visible_work_external) and the metrics' queue depths all walk. A queue that a
// thread takes from but does not check before it sleeps is a lost wake-up; a queue
// added here is both taken and checked, by construction.
//
// A worker, at a level it serves (lowest_level..highest_level), looks at:
//   its mailbox (a loop invitation), its own deque, strict inbox and inbox;
//   its NUMA node's strict and hinted queues; the global queue;
//   the workers in its steal_order (deque, then inbox); the other nodes' hinted queues;
//   the deques of external threads.
// Below lowest_level it takes only what nobody else may run: a reserved worker its own
// deque (what its urgent work spawned), another worker its strict inbox and its node's
// strict queue (strict tasks queued there while background workers take the rest).
// A thread weft did not create (a waiter, the destructor's drain) looks at its borrowed
// deque, the global queue, every worker's deque and inbox, every node's hinted queue
// and the other external deques; while draining at shutdown, strict queues too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "sched/scheduler_core.hpp"

namespace weft::detail {

// One place work waits at one level, and how a thread takes from it.
struct Source {
  enum class Kind : unsigned char {
    invitation,  // a worker's mailbox: a loop invitation of this level
    own_deque,   // a deque this thread pushes to: pop, newest first
    steal,       // another thread's deque: steal, oldest first
    queue,       // an InjectionQueue: pop
  };
  // Steals only: where the work comes from, for Metrics (steal counts and distances).
  static constexpr int not_a_steal = -1;
  static constexpr int remote = -2;  // another node's queue, an external thread's deque

  Kind kind;
  void* where;  // the mailbox word, the WorkDeque or the InjectionQueue
  unsigned level = 0;      // invitation: the level an invitation must carry
  int from = not_a_steal;  // a victim worker's index, remote, or not_a_steal

  static Source invitation(std::atomic<std::uintptr_t>& mailbox, unsigned level) {
    return {Kind::invitation, &mailbox, level};
  }
  static Source own(WorkDeque& deque) { return {Kind::own_deque, &deque}; }
  static Source steal(WorkDeque& deque, int from) { return {Kind::steal, &deque, 0, from}; }
  static Source queue(InjectionQueue& queue, int from = not_a_steal) {
    return {Kind::queue, &queue, 0, from};
  }
  std::atomic<std::uintptr_t>& mailbox() const {
    return *static_cast<std::atomic<std::uintptr_t>*>(where);
  }
  WorkDeque& deque() const { return *static_cast<WorkDeque*>(where); }
  InjectionQueue& injection_queue() const { return *static_cast<InjectionQueue*>(where); }

  // Items waiting here (an invitation counts 1). relaxed loads: a check before sleeping
  // is ordered by the sleeper's seq_cst registration (protocol step 3), metrics are a
  // snapshot.
  std::uint64_t size_hint() const {
    switch (kind) {
      case Kind::invitation: {
        const std::uintptr_t invite = mailbox().load(std::memory_order_relaxed);
        return invite != mailbox::empty && mailbox::level(invite) == level ? 1 : 0;
      }
      case Kind::own_deque:
      case Kind::steal:
        return deque().size_hint();
      case Kind::queue:
        break;
    }
    return injection_queue().size_hint();
  }
  bool maybe_nonempty() const { return size_hint() != 0; }
};

// Who is looking: a worker, or a thread weft did not create (worker null).
struct Looker {
  Worker* worker = nullptr;
  ExternalSlot* slot = nullptr;  // an external thread's borrowed deques (may be none)
  bool draining = false;         // the destructor's drain: strict work too
};

// What a visitor returns: the first result that converts to true ends the walk and is
// returned (a bool for a check, a Work for taking); otherwise a value-initialised one.
template <class Visit>
using VisitResult = std::invoke_result_t<Visit&, const Source&>;

// A worker's own queues at `level`: what it pushes to or what is queued for it alone.
// The metrics' depth of a worker is these.
template <class Visit>
[[gnu::always_inline]] inline VisitResult<Visit> visit_own_queues(Worker& w, unsigned level,
                                                                  Visit&& visit) {
  if (VisitResult<Visit> r = visit(Source::own(w.deques[level]))) return r;
  if (VisitResult<Visit> r = visit(Source::queue(w.strict_inbox[level]))) return r;
  return visit(Source::queue(w.inbox[level]));
}

// Inlined into each caller, with the visitor: every Source is then a constant at its call
// site and `take` folds to the one operation it needs. The result is returned, not
// written through a capture: a Work stored field by field and read back whole stalls
// store forwarding (fib(30) measured 15% slower that way).
template <class Visit>
[[gnu::always_inline]] inline auto SchedulerCore::visit_sources(const Looker& who, unsigned level,
                                                                 Visit&& visit) {
  using Result = VisitResult<Visit>;
  // Never true; it tells the compiler the level indexes the per-level arrays (without
  // it, gcc 12 warns of an out-of-bounds load in the inlined copies).
  if (level >= num_levels) return Result{};
  Worker* const self = who.worker;
  if (self != nullptr && level < lowest_level(*self)) {
    if (self->reserved) return visit(Source::own(self->deques[level]));
    if (Result r = visit(Source::queue(self->strict_inbox[level]))) return r;
    return visit(Source::queue((*numa_queues_[self->numa_node])[1][level]));
  }
  // Its own: invitations first (a loop's caller waits for helpers right now).
  if (self != nullptr) {
    if (Result r = visit(Source::invitation(self->mailbox, level))) return r;
    if (Result r = visit_own_queues(*self, level, visit)) return r;
    auto& node = *numa_queues_[self->numa_node];
    if (Result r = visit(Source::queue(node[1][level]))) return r;
    if (Result r = visit(Source::queue(node[0][level]))) return r;
  } else if (who.slot != nullptr) {
    if (Result r = visit(Source::own(who.slot->deques[level]))) return r;
  }
  if (Result r = visit(Source::queue(global_[level]))) return r;
  // Other workers: a worker in its steal_order, anyone else in index order.
  auto victim = [&](unsigned index) -> Result {
    Worker& other = *workers_[index];
    const int from = static_cast<int>(index);
    if (Result r = visit(Source::steal(other.deques[level], from))) return r;
    if (Result r = visit(Source::queue(other.inbox[level], from))) return r;
    if (!who.draining) return Result{};
    return visit(Source::queue(other.strict_inbox[level]));
  };
  if (self != nullptr) {
    for (unsigned index : self->steal_order) {
      if (Result r = victim(index)) return r;
    }
  } else {
    for (unsigned index = 0; index < workers_.size(); ++index) {
      if (Result r = victim(index)) return r;
    }
  }
  for (std::size_t node = 0; node < numa_queues_.size(); ++node) {
    if (self != nullptr && node == self->numa_node) continue;
    auto& queues = *numa_queues_[node];
    if (Result r = visit(Source::queue(queues[0][level], Source::remote))) return r;
    if (who.draining) {
      if (Result r = visit(Source::queue(queues[1][level]))) return r;
    }
  }
  for (auto& slot : slots_) {
    if (slot.get() == who.slot) continue;
    if (Result r = visit(Source::steal(slot->deques[level], Source::remote))) return r;
  }
  return Result{};
}

[[gnu::always_inline]] inline Work SchedulerCore::take(const Source& s, Worker* self) {
  Task* task = nullptr;
  switch (s.kind) {
    case Source::Kind::invitation: {
      // acquire: pairs with the poster's release, so the LoopControl is visible.
      std::uintptr_t invite = s.mailbox().load(std::memory_order_acquire);
      if (invite != mailbox::empty && mailbox::level(invite) == s.level &&
          s.mailbox().compare_exchange_strong(invite, mailbox::empty, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
        return Work{nullptr, mailbox::control(invite), mailbox::slot(invite), s.level};
      }
      return {};
    }
    case Source::Kind::own_deque:
      return Work{s.deque().pop()};
    case Source::Kind::queue:
      task = s.injection_queue().pop();
      if (task != nullptr) count_steal(s, self, true);
      return Work{task};
    case Source::Kind::steal:
      break;
  }
  for (;;) {
    StealResult r = s.deque().steal();
    if (r.status == StealStatus::empty) return {};
    // Metrics count real attempts only (a non-empty victim), so idle scans add nothing.
    count_steal(s, self, r.status == StealStatus::success);
    if (r.status == StealStatus::success) return Work{r.task};
    // lost_race: someone else took the top item; the deque may hold more.
  }
}

[[gnu::always_inline]] inline void SchedulerCore::count_steal(const Source& s, Worker* self,
                                                              bool succeeded) {
  if (s.from == Source::not_a_steal || self == nullptr || self->obs == nullptr) return;
  self->obs->steal_attempted();
  if (!succeeded) return;
  self->obs->steal_succeeded(s.from == Source::remote
                                 ? StealDistance::remote
                                 : observer_.distance(self->index, static_cast<unsigned>(s.from)));
}

}  // namespace weft::detail
