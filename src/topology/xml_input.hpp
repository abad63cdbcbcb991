// hwloc XML input, checked before hwloc sees it (xml_input.cpp). Private to the
// library; hwloc_reader.cpp is its user.
#pragma once

#include <string>
#include <string_view>

namespace weft::detail {

// The whole file at `path`; TopologyError when it cannot be read or is too large.
std::string read_xml_file(const std::string& path);

// Why hwloc should not be handed `text` ("" when it may be).
std::string xml_input_error(std::string_view text);

}  // namespace weft::detail
