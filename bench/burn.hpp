// Work of a known length for the Google Benchmark binaries: the same kernel for every
// library in a binary, calibrated once per process.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <benchmark/benchmark.h>

namespace weft::bench {

// A dependent arithmetic chain: `units` steps, a few ns each, never optimized away.
inline void burn(std::uint64_t units) {
  std::uint64_t x = units | 1;
  for (std::uint64_t i = 0; i < units; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    benchmark::DoNotOptimize(x);
  }
}

// burn() units per microsecond on this machine, measured once (at the first call).
inline std::uint64_t units_per_us() {
  static const std::uint64_t per_us = [] {
    constexpr std::uint64_t probe = 4'000'000;
    const auto t0 = std::chrono::steady_clock::now();
    burn(probe);
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(probe / us));
  }();
  return per_us;
}

}  // namespace weft::bench
