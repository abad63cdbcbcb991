// The calling thread's kernel id, the one /proc/self/task/<tid>, setpriority and
// perf_event_open take. A raw syscall: glibc before 2.30 has no gettid() wrapper.
#pragma once

#include <sys/types.h>

namespace weft::detail {

pid_t current_tid() noexcept;

}  // namespace weft::detail
