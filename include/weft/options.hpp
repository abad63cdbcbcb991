// Per-call options: TaskOptions for submit/TaskGroup::run, ForOptions for the loop family.
#pragma once

#include <cstddef>

#include "weft/config.hpp"

namespace weft {

struct TaskOptions {
  Priority priority = Priority::normal;
  // Affinity hint: queue the task at this worker (index into Placement::workers) or on
  // this NUMA node's workers; -1 = no hint. Idle workers elsewhere may still steal it
  // unless `strict` is set.
  int worker = -1;
  int numa_node = -1;
  bool strict = false;
  // Shown in traces; must outlive the scheduler (a string literal).
  const char* name = nullptr;
};

struct ForOptions {
  // Iterations per chunk handed out at a time. 0: automatic.
  std::size_t grain = 0;
  Priority priority = Priority::normal;
  // At most this many threads run the loop, the caller included. 0: no cap.
  unsigned max_threads = 0;
  // Run only on the workers of this NUMA node / L3 domain (logical index); -1: anywhere.
  int numa_node = -1;
  int l3 = -1;
  // parallel_reduce: split the range into fixed grain-sized chunks combined in range
  // order, so float results are bit-identical run to run and across thread counts.
  bool deterministic = false;
  // Shown in traces; must outlive the scheduler (a string literal).
  const char* name = nullptr;
};

}  // namespace weft
