// hwloc XML input, checked before hwloc sees it: the bounded file read and the form
// check that keeps hwloc 2.9's XML import from crashing on malformed files (found by
// tests/fuzz/fuzz_xml.cpp). No hwloc here: it is text in, text or an error out.
#include "topology/xml_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "weft/topology.hpp"

namespace weft::detail {
namespace {

// An XML export of an 8192-PU machine is about 4 MiB ("lstopo --of xml"); distance
// matrices and I/O devices add a few more. The file is read into memory at most once.
constexpr std::size_t max_xml_bytes = 64u << 20;

}  // namespace

// Why hwloc should not be handed `text` ("" when it may be). hwloc's XML import trusts
// its input: hwloc 2.9 dereferences NULL on a file cut inside its first tag
// ('<topology version="2.0"' and no '>'), and on an <object> with a cpuset but no
// complete_cpuset or a nodeset but no complete_nodeset (or the reverse), which the
// libFuzzer target found within minutes. Its built-in reader also stops reading a tag's
// attributes, silently, at the first one it cannot parse, which leaves such half pairs
// behind; and its bitmap parser asserts on a value such as ",0x1". So the text must be
// well-formed XML in the form hwloc's reader parses in full: one root element, tags
// nested and closed, element names [a-z0-9_], attribute names [a-z_], values in double
// quotes with hwloc's entities only, spaces, tabs or newlines between attributes, no NUL;
// each <object> carries those sets in pairs, once each; and every *cpuset / *nodeset
// value is a bitmap as hwloc writes it. What lstopo writes always passes; the check is
// one pass over the text.
std::string xml_input_error(std::string_view text) {
  std::size_t i = 0;
  const auto at = [&i](const std::string& what) { return what + " at byte " + std::to_string(i); };
  const auto is_tag_space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  const auto name = [&](bool element) {
    const std::size_t start = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || text[i] == '_' ||
                               (element && text[i] >= '0' && text[i] <= '9')))
      ++i;
    return text.substr(start, i - start);
  };
  // Skips "<?...?>", "<!...>" and "<!--...-->" at i; false when none starts there.
  const auto skip_markup = [&]() -> bool {
    const char* end = text.compare(i, 4, "<!--") == 0 ? "-->"
                      : text.compare(i, 2, "<?") == 0 ? "?>"
                      : text.compare(i, 2, "<!") == 0 ? ">"
                                                      : nullptr;
    if (end == nullptr) return false;
    const std::size_t close = text.find(end, i + 2);
    i = close == std::string_view::npos ? text.size() + 1 : close + std::strlen(end);
    return true;
  };
  // hwloc skips every leading line that starts "<?xml " or "<!DOCTYPE ", whatever else it
  // holds: each must be that one declaration, so that both readers see the same root.
  while (text.compare(i, 6, "<?xml ") == 0 || text.compare(i, 10, "<!DOCTYPE ") == 0) {
    const std::size_t line_end = std::min(text.find('\n', i), text.size());
    skip_markup();
    if (i > line_end ||
        text.substr(i, line_end - i).find_first_not_of(" \t\r") != std::string_view::npos)
      return at("an XML declaration that is not a line of its own");
    i = line_end;
  }
  // The entities hwloc's reader decodes in attribute values.
  const auto entity_length = [&]() -> std::size_t {
    for (std::string_view e : {"&#10;", "&#13;", "&#9;", "&quot;", "&lt;", "&gt;", "&amp;"})
      if (text.compare(i, e.size(), e) == 0) return e.size();
    return 0;
  };
  // hwloc's bitmap text: "0xf...f" (all), or 32-bit words "0x1f" separated by commas,
  // most significant first, optionally after "0xf...f," (all above); zero words inside
  // may be empty ("0x00000001,,0x0").
  const auto bitmap_ok = [](std::string_view v) {
    if (v.compare(0, 7, "0xf...f") == 0) {
      if (v.size() == 7) return true;
      if (v[7] != ',') return false;
      v.remove_prefix(8);
    }
    for (std::size_t word = 0;; ++word) {
      const std::size_t comma = std::min(v.find(','), v.size());
      const std::string_view w = v.substr(0, comma);
      const bool last = comma == v.size();
      const bool hex = w.size() >= 3 && w.size() <= 10 && w.compare(0, 2, "0x") == 0 &&
                       w.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos;
      if (w.empty() ? word == 0 || last : !hex) return false;
      if (last) return true;
      v.remove_prefix(comma + 1);
    }
  };
  // Whether bitmap `a` is included in bitmap `b` (or, `any_common`, shares a bit with
  // it); both start a value that bitmap_ok accepted, up to its closing '"'.
  const auto bitmap_included = [](std::string_view a, std::string_view b, bool any_common = false) {
    struct Bits {
      std::vector<std::uint32_t> words;  // least significant first
      bool infinite = false;             // every bit above `words` is set
    };
    const auto parse = [](std::string_view v) {
      v = v.substr(0, v.find('"'));
      Bits bits;
      if (v.compare(0, 7, "0xf...f") == 0) {
        bits.infinite = true;
        v.remove_prefix(std::min<std::size_t>(8, v.size()));
      }
      while (!v.empty()) {
        const std::size_t comma = std::min(v.find(','), v.size());
        const std::string word(v.substr(0, comma));
        bits.words.push_back(
            word.empty() ? 0 : static_cast<std::uint32_t>(std::strtoul(word.c_str(), nullptr, 16)));
        v.remove_prefix(std::min(comma + 1, v.size()));
      }
      std::reverse(bits.words.begin(), bits.words.end());
      return bits;
    };
    const Bits sub = parse(a), super = parse(b);
    const auto word = [](const Bits& bits, std::size_t k) -> std::uint32_t {
      return k < bits.words.size() ? bits.words[k] : bits.infinite ? ~0u : 0u;
    };
    if (any_common) {
      for (std::size_t k = 0; k < std::max(sub.words.size(), super.words.size()); ++k)
        if ((word(sub, k) & word(super, k)) != 0) return true;
      return sub.infinite && super.infinite;
    }
    for (std::size_t k = 0; k < std::max(sub.words.size(), super.words.size()); ++k)
      if ((word(sub, k) & ~word(super, k)) != 0) return false;
    return !sub.infinite || super.infinite;
  };
  // hwloc reads the buffer as a C string: a NUL would cut it short unchecked.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    i = nul;
    return at("a NUL byte");
  }
  static constexpr std::string_view sets[] = {"cpuset", "complete_cpuset", "nodeset",
                                              "complete_nodeset"};
  std::vector<std::string_view> open;
  bool had_root = false;
  while (i < text.size()) {
    if (text[i] != '<') {  // content: hwloc reads it only where it expects some
      if (open.empty() && !is_tag_space(text[i]) && text[i] != '\r')
        return at("text outside the root element");
      ++i;
      continue;
    }
    if (skip_markup()) {
      if (i > text.size()) return "unterminated markup";
      continue;
    }
    ++i;
    if (i < text.size() && text[i] == '/') {
      ++i;
      const std::string_view closing = name(true);
      if (open.empty() || closing != open.back() || i >= text.size() || text[i] != '>')
        return at("a closing tag that closes no open element");
      open.pop_back();
      ++i;
      continue;
    }
    if (open.empty() && had_root) return at("a second root element");
    const std::string_view element = name(true);
    if (element.empty()) return at("a tag without a name");
    unsigned seen[4] = {};  // of an <object>: how often each of `sets`
    std::string_view set_text[4];
    std::string_view allowed_text[2];  // allowed_cpuset, allowed_nodeset (the root's)
    while (true) {
      const std::size_t before = i;
      while (i < text.size() && is_tag_space(text[i])) ++i;
      if (i >= text.size()) return "a tag that does not end";
      if (text[i] == '>' || text.compare(i, 2, "/>") == 0) break;
      if (i == before) return at("an attribute not preceded by a space");
      const std::string_view attribute = name(false);
      if (attribute.empty()) return at("an attribute name outside [a-z_]");
      if (text.compare(i, 2, "=\"") != 0) return at("an attribute without =\"value\"");
      const std::size_t value = i + 2;
      if (element == "object") {
        for (unsigned k = 0; k < 4; ++k)
          if (attribute == sets[k]) ++seen[k], set_text[k] = text.substr(value);
        if (attribute == "allowed_cpuset") allowed_text[0] = text.substr(value);
        if (attribute == "allowed_nodeset") allowed_text[1] = text.substr(value);
      }
      for (i += 2; i < text.size() && text[i] != '"';) {
        // hwloc ends a tag at the first '>', even inside a value.
        if (text[i] == '<' || text[i] == '>') return at("a '<' or '>' in an attribute value");
        if (text[i] != '&') {
          ++i;
        } else if (const std::size_t n = entity_length(); n != 0) {
          i += n;
        } else {
          return at("an entity hwloc does not read");
        }
      }
      if (i >= text.size()) return "an attribute value that does not end";
      const auto ends_with = [&attribute](std::string_view end) {
        return attribute.size() >= end.size() &&
               attribute.compare(attribute.size() - end.size(), end.size(), end) == 0;
      };
      if ((ends_with("cpuset") || ends_with("nodeset")) &&
          !bitmap_ok(text.substr(value, i - value))) {
        i = value;
        return at("a " + std::string(attribute) + " that is not a bitmap");
      }
      ++i;
    }
    for (unsigned k = 0; k < 4; k += 2) {
      if (seen[k] > 1 || seen[k + 1] > 1 || seen[k] != seen[k + 1])
        return at("an <object> with " + std::to_string(seen[k]) + " " + std::string(sets[k]) +
                  " and " + std::to_string(seen[k + 1]) + " " + std::string(sets[k + 1]));
      // A set outside its complete set empties the topology, which hwloc 2.9 then
      // dereferences ("Topology became empty, aborting!" and SIGSEGV).
      if (seen[k] == 1 && !bitmap_included(set_text[k], set_text[k + 1]))
        return at("an <object> whose " + std::string(sets[k]) + " is not in its " +
                  std::string(sets[k + 1]));
      // An allowed set sharing nothing with the set also empties the topology (found
      // by tests/fuzz/fuzz_xml.cpp: hwloc 2.9 then crashes in hwloc_topology_load).
      if (seen[k] == 1 && !allowed_text[k / 2].empty() &&
          !bitmap_included(allowed_text[k / 2], set_text[k], true))
        return at("an <object> whose allowed_" + std::string(sets[k]) + " has nothing of its " +
                  std::string(sets[k]));
    }
    had_root = true;
    if (text[i] == '>') {
      open.push_back(element);
      ++i;
    } else {
      i += 2;
    }
  }
  if (!open.empty()) return "element <" + std::string(open.back()) + "> is not closed";
  if (!had_root) return "no root element";
  return "";
}

// The whole file, or TopologyError when it cannot be read or holds more than
// max_xml_bytes: a regular file is measured before reading, anything else (a pipe,
// /dev/zero) is cut off once past the limit.
std::string read_xml_file(const std::string& path) {
  const auto unreadable = [&path] {
    return TopologyError("XML topology '" + path + "' cannot be read: " + std::strerror(errno != 0 ? errno : EIO));
  };
  // `size`: "is N bytes" or "holds more than N bytes"
  const auto too_big = [&path](const std::string& size) {
    return TopologyError("XML topology '" + path + "' " + size + ", more than the " +
                         std::to_string(max_xml_bytes) + " (" +
                         std::to_string(max_xml_bytes >> 20) + " MiB) weft reads");
  };
  errno = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw unreadable();
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw unreadable();
  std::string text;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<unsigned long long>(st.st_size) > max_xml_bytes)
      throw too_big("is " + std::to_string(st.st_size) + " bytes");
    text.reserve(static_cast<std::size_t>(st.st_size));
  }
  char chunk[1 << 16];
  while (true) {
    errno = 0;
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw unreadable();
    if (n == 0) return text;
    if (text.size() + static_cast<std::size_t>(n) > max_xml_bytes)
      throw too_big("holds more bytes");
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace weft::detail
