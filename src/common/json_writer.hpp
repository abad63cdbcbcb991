// Writing JSON: the one writer behind Metrics::to_json, the Chrome trace and
// Placement::to_json (and weft-probe's report). weft writes JSON without a dependency,
// and names in it (task names, reasons) are user text that may hold quotes or control
// bytes, so every string goes through one escaper.
//
// The writer tracks commas itself: a value after a key, or the next element of an
// array, is written by the same calls whatever came before.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::detail {

class JsonWriter {
 public:
  // How an array lays out its elements: `compact` on one line, `one_per_line` with a
  // newline before each element and before the closing bracket (the trace's events, so
  // that a trace file reads and diffs line by line).
  enum class Layout : unsigned char { compact, one_per_line };

  void begin_object();
  void end_object();
  void begin_array(Layout layout = Layout::compact);
  void end_array();
  // The next value written becomes this member's value.
  void key(std::string_view name);

  void string(std::string_view text);
  void number(std::uint64_t value);
  void number(std::int64_t value);
  void number(unsigned value) { number(static_cast<std::uint64_t>(value)); }
  void number(int value) { number(static_cast<std::int64_t>(value)); }
  // Six significant digits (%.6g); null for infinities and NaN, which JSON cannot hold.
  void number(double value);
  // A value the caller has already written as JSON: a number in a fixed form (the
  // trace's microseconds with exactly three decimals), or another object's to_json().
  void raw_value(std::string_view json);
  void boolean(bool value);
  void null();

  // A whole array of unsigned integers (CPU lists, steal orders).
  void numbers(const std::vector<unsigned>& values);

  // The text, once every object and array is closed; the writer is then empty.
  std::string take() { return std::move(out_); }

 private:
  struct Open {
    Layout layout;
    bool empty;  // nothing written inside yet: the next value needs no comma
  };
  // Writes the separator the next value or key needs.
  void before_value();
  void close(char bracket);

  std::string out_;
  std::vector<Open> open_containers_;  // innermost last
  bool after_key_ = false;
};

}  // namespace weft::detail
