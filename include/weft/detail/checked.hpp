// Size arithmetic on values that come from the caller (ranges, extents, tile sizes,
// grains): the one place where counts are multiplied, added and divided without
// wrapping. Every entry point of the loop family and of the pthreadpool ABI computes
// its counts with these, so a range near SIZE_MAX either runs exactly or is rejected
// by name, never skipped or divided by a wrapped zero.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>

namespace weft::detail {

// a * b into `out`; false (out unchanged) when the product does not fit in size_t.
constexpr bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

// a + b into `out`; false (out unchanged) when the sum does not fit in size_t.
constexpr bool checked_add(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  if (b > std::numeric_limits<std::size_t>::max() - a) return false;
  out = a + b;
  return true;
}

// ceil(a / b) for b > 0. Not (a + b - 1) / b: that sum wraps for a near SIZE_MAX and
// yields 0, which the next division by it turns into SIGFPE.
constexpr std::size_t ceil_div(std::size_t a, std::size_t b) noexcept {
  return a / b + (a % b != 0);
}

// The end of the block of `len` items that starts at `start`, clipped to `limit`
// (start <= limit): min(start + len, limit) without forming start + len, which wraps
// when a tile or grain is near SIZE_MAX.
constexpr std::size_t clamped_end(std::size_t start, std::size_t len, std::size_t limit) noexcept {
  return start + std::min(len, limit - start);
}

}  // namespace weft::detail
