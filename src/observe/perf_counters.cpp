#include "observe/perf_counters.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/small_file.hpp"

namespace weft::detail {

namespace {

long perf_event_open(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
  return ::syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

struct EventKind {
  std::uint32_t type;
  std::uint64_t config;
  const char* name;
};
constexpr EventKind hardware_events[3] = {
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, "cache-references"},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache-misses"},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions"},
};
constexpr EventKind software_events[3] = {
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task-clock"},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "cpu-clock"},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page-faults"},
};

std::string paranoid_note() {
  const auto text = read_small_file("/proc/sys/kernel/perf_event_paranoid");
  if (!text) return "";
  std::string value = *text;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return "; kernel.perf_event_paranoid = " + value;
}

}  // namespace

bool PerfCounters::open(pid_t tid, bool enabled, PerfEvents which) {
  if (state_.load(std::memory_order_relaxed) != state_unopened) return available();
  auto give_up = [this](std::string why) {
    for (int& fd : fds_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    reason_ = std::move(why);
    // release: publishes reason_ to unavailable_reason() on other threads.
    state_.store(state_unavailable, std::memory_order_release);
    return false;
  };
  if (!enabled) return give_up("disabled (Config::hardware_counters is off)");
  if (!perf_events_allowed_by_env()) return give_up("disabled by WEFT_PERF_EVENTS (not 1 or true)");
  const EventKind* events = which == PerfEvents::hardware ? hardware_events : software_events;
  for (int i = 0; i < 3; ++i) {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = events[i].type;
    attr.config = events[i].config;
    attr.read_format =
        PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.disabled = i == 0 ? 1 : 0;  // the leader starts the whole group at once
    attr.exclude_kernel = 1;         // what paranoid level 2 allows, and what we want
    attr.exclude_hv = 1;
    const long fd = perf_event_open(&attr, tid, -1, i == 0 ? -1 : fds_[0], PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return give_up(std::string("perf_event_open (") + events[i].name + "): " +
                     std::strerror(err) + paranoid_note());
    }
    fds_[i] = static_cast<int>(fd);
  }
  if (::ioctl(fds_[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) != 0) {
    const int err = errno;
    return give_up(std::string("perf_event_open: enabling the group: ") + std::strerror(err));
  }
  // release: the descriptors are visible to read() after its acquire load.
  state_.store(state_open, std::memory_order_release);
  return true;
}

std::optional<HardwareCounts> PerfCounters::read() const {
  // acquire: pairs with open()'s release store of state_open.
  if (state_.load(std::memory_order_acquire) != state_open) return std::nullopt;
  // PERF_FORMAT_GROUP layout: nr, time_enabled, time_running, then one value per event.
  std::uint64_t data[3 + 3] = {};
  const ssize_t n = ::read(fds_[0], data, sizeof data);
  if (n != static_cast<ssize_t>(sizeof data) || data[0] != 3) return std::nullopt;
  const std::uint64_t enabled = data[1], running = data[2];
  if (running == 0) return std::nullopt;  // never on the PMU: no basis for a number
  auto scaled = [&](std::uint64_t v) -> std::uint64_t {
    if (running >= enabled) return v;
    return static_cast<std::uint64_t>(static_cast<long double>(v) * enabled / running);
  };
  return HardwareCounts{scaled(data[3]), scaled(data[4]), scaled(data[5])};
}

std::string PerfCounters::unavailable_reason() const {
  // acquire: pairs with give_up()'s release store, after which reason_ is not written.
  if (state_.load(std::memory_order_acquire) != state_unavailable) return "";
  return reason_;
}

void PerfCounters::close() {
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

}  // namespace weft::detail
