// weft::parse_cpu_list: the CPU lists of WEFT_CPUSET, Config::cpuset and weft-probe
// --cpuset. A list that parses is sorted and unique and survives a round trip through
// detail::format_cpu_list; one that does not names the field.
#include <algorithm>

#include "fuzz_support.hpp"
#include "topology/cpu_list.hpp"
#include "weft/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using weft::fuzz::finding;
  // The whole input: the API takes a std::string, NULs and all.
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<unsigned> ids;
  bool parsed = false;
  weft::fuzz::expect_config_errors(
      "parse_cpu_list", text,
      [&] {
        ids = weft::parse_cpu_list(text, "FUZZ_FIELD");
        parsed = true;
      },
      [&](const weft::ConfigError& e) {
        if (std::string(e.what()).rfind("FUZZ_FIELD: ", 0) != 0)
          finding(std::string("the message does not start with the field: ") + e.what(), text);
      });
  if (!parsed) return 0;
  if (ids.empty()) finding("parsed to an empty list", text);
  if (std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) != ids.end())
    finding("the ids are not sorted and unique", text);
  const std::string formatted = weft::detail::format_cpu_list(ids);
  if (weft::parse_cpu_list(formatted, "FUZZ_FIELD") != ids)
    finding("format_cpu_list gives '" + formatted + "', which parses to other ids", text);
  return 0;
}
