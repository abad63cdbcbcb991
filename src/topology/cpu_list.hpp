// CPU lists as text ("0-3,8,10-11"): the inverse of parse_cpu_list, for reports.
#pragma once

#include <string>
#include <vector>

namespace weft::detail {

// Formats sorted, unique ids compactly: {0,1,2,3,8} -> "0-3,8". Empty -> "".
std::string format_cpu_list(const std::vector<unsigned>& ids);

// Sorted intersection of two sorted, unique id lists.
std::vector<unsigned> intersect_sorted(const std::vector<unsigned>& a,
                                       const std::vector<unsigned>& b);

}  // namespace weft::detail
