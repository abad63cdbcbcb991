#include "observe/thread_stats.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "observe/text_field.hpp"

namespace weft::detail {

pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::optional<ContextSwitches> parse_context_switches(std::string_view status) {
  const auto voluntary = text_field(status, "voluntary_ctxt_switches", ':');
  const auto involuntary = text_field(status, "nonvoluntary_ctxt_switches", ':');
  if (!voluntary || !involuntary) return std::nullopt;
  return ContextSwitches{*voluntary, *involuntary};
}

std::optional<ContextSwitches> read_context_switches(pid_t tid) {
  if (tid <= 0) return std::nullopt;
  const auto text = read_small_file("/proc/self/task/" + std::to_string(tid) + "/status");
  if (!text) return std::nullopt;
  return parse_context_switches(*text);
}

std::optional<std::uint64_t> read_run_delay_ns(pid_t tid) {
  if (tid <= 0) return std::nullopt;
  const auto text = read_small_file("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  if (!text) return std::nullopt;
  // "<time on CPU ns> <time waiting on a run queue ns> <time slices>"
  unsigned long long on_cpu = 0, waiting = 0;
  if (std::sscanf(text->c_str(), "%llu %llu", &on_cpu, &waiting) != 2) return std::nullopt;
  return waiting;
}

std::optional<std::string> read_small_file(const std::string& path) {
  // open/read rather than iostreams: procfs files report size 0, and this runs on the
  // metrics() path where an exception for a vanished thread would be noise.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace weft::detail
