#include "common/thread_id.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {

pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

}  // namespace weft::detail
