// A sequentially consistent fence that ThreadSanitizer understands.
#pragma once

#include <atomic>

namespace weft::detail {

#if defined(__SANITIZE_THREAD__)
// TSan does not model atomic_thread_fence (GCC warns with -Wtsan). Under TSan only, a
// seq_cst read-modify-write of one shared variable stands in: every fence then orders
// against every other, which is stronger than the fence (TSan may miss a race that the
// fence alone would allow, never report a false one).
inline std::atomic<unsigned> tsan_fence_word{0};
inline void seq_cst_fence() { tsan_fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else
inline void seq_cst_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

}  // namespace weft::detail
