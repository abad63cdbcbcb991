// The contract between the loop family (src/parallel/) and the scheduler (src/sched/).
//
// A parallel loop is one LoopJob that several threads join. The scheduler decides
// which threads join and gives each a distinct slot; the job decides what a slot does
// (its own share of the range first, then stealing from the others). The job keeps
// its own exception and completion state, so run_slot never throws.
#pragma once

#include <cstdint>

#include "weft/export.hpp"

namespace weft::detail {

class LoopJob {
 public:
  // Runs the work of `slot` (0 = the thread that started the loop), then helps the
  // other slots until no work is left. Called at most once per slot.
  virtual void run_slot(unsigned slot) noexcept = 0;

  // Shown in traces (ForOptions::name: a string literal, or null for "loop").
  const char* name = nullptr;

 protected:
  LoopJob() = default;
  LoopJob(const LoopJob&) = delete;
  LoopJob& operator=(const LoopJob&) = delete;
  ~LoopJob() = default;
};

// Metrics: a run_slot implementation calls this once, just before it returns, with the
// number of chunks it ran (WorkerMetrics::loop_chunks). A slot that does not report
// counts as one chunk. A plain function call, no allocation, lock or syscall.
WEFT_EXPORT void report_loop_chunks(std::uint64_t chunks) noexcept;

// Which workers a loop may run on: all (-1), or those of one NUMA node / L3 domain.
struct LoopDomain {
  int numa_node = -1;
  int l3 = -1;
};

}  // namespace weft::detail
