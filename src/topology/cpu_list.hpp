// CPU lists as text ("0-3,8,10-11"): the inverse of parse_cpu_list, for reports.
#pragma once

#include <string>
#include <vector>

#include "weft/export.hpp"
namespace weft::detail {

// WEFT_EXPORT only so that the tests link against a shared libweft too.

// Formats sorted, unique ids compactly: {0,1,2,3,8} -> "0-3,8". Empty -> "".
WEFT_EXPORT std::string format_cpu_list(const std::vector<unsigned>& ids);

// Sorted intersection of two sorted, unique id lists.
WEFT_EXPORT std::vector<unsigned> intersect_sorted(const std::vector<unsigned>& a,
                                       const std::vector<unsigned>& b);

}  // namespace weft::detail
