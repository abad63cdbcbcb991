// Parker: a thread sleeps on its own futex word (see weft/detail/wait.hpp).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <time.h>

#include <cstdint>

#include "sched/scheduler_core.hpp"
#include "weft/detail/wait.hpp"

namespace weft::detail {

namespace {

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected) {
  // Returns at once when *word != expected (EAGAIN), on a wake, or spuriously (EINTR).
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}

void futex_wait_for(std::atomic<std::uint32_t>* word, std::uint32_t expected, unsigned us) {
  timespec timeout{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
          &timeout, nullptr, 0);
}

void futex_wake_one(std::atomic<std::uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

thread_local Parker tls_parker;

}  // namespace

void Parker::park() noexcept {
  // acquire: pairs with unpark's release, so the waker's writes are visible to us.
  while (word_.load(std::memory_order_acquire) == 0) futex_wait(&word_, 0);
}

void Parker::park_for(unsigned timeout_us) noexcept {
  // acquire: as in park(). One timed wait: the caller loops and re-checks.
  if (word_.load(std::memory_order_acquire) == 0) futex_wait_for(&word_, 0, timeout_us);
}

void Parker::await(std::uint32_t reason) noexcept {
  // acquire: as in park(). Waiting on the value seen sleeps until any bit lands; the
  // loop goes back to sleep when it was another reason.
  for (std::uint32_t seen; ((seen = word_.load(std::memory_order_acquire)) & reason) == 0;)
    futex_wait(&word_, seen);
}

void Parker::unpark(std::uint32_t reason) noexcept {
  // release: what the waker did before (push a task, finish a group) is visible to the
  // woken thread. The futex wake is a syscall, but unpark only runs when a thread has
  // announced that it sleeps (or is about to).
  word_.fetch_or(reason, std::memory_order_release);
  futex_wake_one(&word_);
}

Parker& this_thread_parker() noexcept {
  ThreadContext& context = this_thread_context();
  return context.worker != nullptr ? context.worker->parker : tls_parker;
}

}  // namespace weft::detail
