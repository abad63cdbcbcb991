// Preemption points for long-running low-priority work (the loop family calls this
// between chunks; a task body that loops for long may call it too).
#pragma once

#include "weft/export.hpp"

namespace weft::detail {

// On a worker running low or normal work: if high or critical work was queued (or an
// urgent loop invited this worker) since the worker last looked, runs it here, now,
// then returns to the caller, whose work resumes where it left off. Elsewhere (a
// thread weft did not create, or one already running urgent work) it returns at once.
// Cost when nothing is pending: a thread-local read and one relaxed load.
WEFT_EXPORT void preemption_point() noexcept;

}  // namespace weft::detail
