#include "common/json_writer.hpp"

#include <cmath>
#include <cstdio>

namespace weft::detail {

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

}  // namespace

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (open_containers_.empty()) return;
  Open& container = open_containers_.back();
  if (!container.empty) out_ += ',';
  if (container.layout == Layout::one_per_line) out_ += '\n';
  container.empty = false;
}

void JsonWriter::close(char bracket) {
  const Open container = open_containers_.back();
  open_containers_.pop_back();
  if (container.layout == Layout::one_per_line) out_ += '\n';
  out_ += bracket;
}

void JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  open_containers_.push_back({Layout::compact, true});
}

void JsonWriter::end_object() { close('}'); }

void JsonWriter::begin_array(Layout layout) {
  before_value();
  out_ += '[';
  open_containers_.push_back({layout, true});
}

void JsonWriter::end_array() { close(']'); }

void JsonWriter::key(std::string_view name) {
  before_value();
  append_json_string(out_, name);
  out_ += ':';
  after_key_ = true;
}

void JsonWriter::string(std::string_view text) {
  before_value();
  append_json_string(out_, text);
}

void JsonWriter::number(std::uint64_t value) {
  before_value();
  out_ += std::to_string(value);
}

void JsonWriter::number(std::int64_t value) {
  before_value();
  out_ += std::to_string(value);
}

void JsonWriter::number(double value) {
  if (!std::isfinite(value)) {
    null();
    return;
  }
  char digits[32];
  std::snprintf(digits, sizeof digits, "%.6g", value);
  raw_value(digits);
}

void JsonWriter::raw_value(std::string_view json) {
  before_value();
  out_ += json;
}

void JsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

void JsonWriter::numbers(const std::vector<unsigned>& values) {
  begin_array();
  for (const unsigned v : values) number(v);
  end_array();
}

}  // namespace weft::detail
