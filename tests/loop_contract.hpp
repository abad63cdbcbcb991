// What ForOptions promises a loop's chunk body (weft/options.hpp, "grain and chunk"):
// one check shared by the loop tests, the soak and the loops fuzz target.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "weft/detail/range_exec.hpp"
#include "weft/options.hpp"

namespace weft::test {

// "" when body(b, e) of a loop over [begin, end) kept `options`, else what it broke.
// `deterministic_reduce`: the call was parallel_reduce with options.deterministic, whose
// chunks are exact even with chunk unset.
//  - chunk (or a deterministic reduce): [b, e) is the chunk starting at begin + k * chunk,
//    exactly `chunk` iterations unless it ends the range;
//  - grain alone: [b, e) is whole grains from begin + k * grain, or ends the range.
inline std::string chunk_contract_error(const ForOptions& options, bool deterministic_reduce,
                                        std::size_t begin, std::size_t end, std::size_t b,
                                        std::size_t e) {
  // Appended piece by piece: "[" + std::to_string(b) trips GCC 12's -Wrestrict.
  std::string chunk = "[";
  chunk += std::to_string(b);
  chunk += ", ";
  chunk += std::to_string(e);
  chunk += ")";
  if (!(begin <= b && b < e && e <= end)) return "chunk " + chunk + " outside the range";
  const std::size_t exact =
      options.chunk != 0 ? options.chunk
      : deterministic_reduce ? detail::loop_tuning::deterministic_chunk
                             : 0;
  if (exact != 0 && ((b - begin) % exact != 0 || e - b != std::min(exact, end - b)))
    return "chunk " + chunk + " is not one chunk of " + std::to_string(exact);
  if (exact == 0 && options.grain != 0 &&
      ((b - begin) % options.grain != 0 || ((e - b) % options.grain != 0 && e != end)))
    return "chunk " + chunk + " is not whole grains of " + std::to_string(options.grain);
  return "";
}

}  // namespace weft::test
