// The one clock of the observe stage: CLOCK_MONOTONIC in nanoseconds, the clock that
// std::chrono::steady_clock reads on Linux. Metrics windows and trace spans use it, so
// a span's timestamps and a worker's busy time can be compared directly.
#pragma once

#include <chrono>
#include <cstdint>

namespace weft::detail {

inline std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace weft::detail
