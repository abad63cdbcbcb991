// Linux CPU list syntax ("0-3,8,10-11"), as in /sys/devices/system/cpu/online and taskset -c.
#include "topology/cpu_list.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "weft/topology.hpp"

namespace weft {
namespace {

// `item` is the offending part, quoted in the message when not empty.
[[noreturn]] void throw_not_a_list(const std::string& text, const std::string& field,
                                   std::string_view item, std::string_view why) {
  std::string message = field;
  message += ": '";
  message += text;
  message += "' is not a CPU list (";
  if (!item.empty()) {
    message += '\'';
    message += item;
    message += "' ";
  }
  message += why;
  message += "; expected ids and ranges like '0-3,8,10-11')";
  throw ConfigError(message);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Only decimal digits: std::from_chars alone would accept a leading '-'.
bool parse_id(std::string_view s, unsigned& out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace

std::vector<unsigned> parse_cpu_list(const std::string& text, const std::string& field) {
  // A machine has far fewer CPUs; the cap keeps a typo like "0-4000000000" from
  // allocating gigabytes.
  constexpr unsigned max_id = 1u << 20;
  std::vector<unsigned> ids;
  std::string_view rest = text;
  if (trim(rest).empty()) throw_not_a_list(text, field, {}, "it is empty");
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (item.empty()) throw_not_a_list(text, field, {}, "an item is empty");
    const std::size_t dash = item.find('-');
    unsigned first = 0, last = 0;
    if (dash == std::string_view::npos) {
      if (!parse_id(item, first)) throw_not_a_list(text, field, item, "is not a CPU id");
      last = first;
    } else if (!parse_id(trim(item.substr(0, dash)), first) ||
               !parse_id(trim(item.substr(dash + 1)), last)) {
      throw_not_a_list(text, field, item, "is not a range");
    }
    if (first > last)
      throw_not_a_list(text, field, item, "runs backwards");
    if (last > max_id)
      throw_not_a_list(text, field, item, "names an implausibly large id");
    for (unsigned id = first; id <= last; ++id) ids.push_back(id);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

namespace detail {

std::string format_cpu_list(const std::vector<unsigned>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) out += '-' + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

std::vector<unsigned> intersect_sorted(const std::vector<unsigned>& a,
                                       const std::vector<unsigned>& b) {
  std::vector<unsigned> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace detail
}  // namespace weft
