#include "observe/thread_stats.hpp"

#include <cstdio>

#include "common/small_file.hpp"
#include "observe/text_field.hpp"

namespace weft::detail {

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

}  // namespace weft::detail
