// Reads one number out of the line-oriented text files of /proc and cgroupfs.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace weft::detail {

// The unsigned number after "key<separator>" at the start of a line of `text`, blanks
// around it skipped: field(status, "voluntary_ctxt_switches", ':') for /proc/.../status,
// field(stat, "nr_throttled", ' ') for cpu.stat. nullopt when absent or not a number.
inline std::optional<std::uint64_t> text_field(std::string_view text, std::string_view key,
                                               char separator) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t eol = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
        line[key.size()] != separator)
      continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (ec != std::errc{} || end != line.data() + line.size()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace weft::detail
