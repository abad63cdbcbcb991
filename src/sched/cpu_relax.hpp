// The spin-wait hint: tells the core we are busy-waiting (saves power, frees the SMT
// sibling's share of the pipeline).
#pragma once

namespace weft::detail {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace weft::detail
