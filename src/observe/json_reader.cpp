#include "observe/json_reader.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace weft::detail::json {

namespace {

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "a boolean";
    case Value::Kind::number: return "a number";
    case Value::Kind::string: return "a string";
    case Value::Kind::array: return "an array";
    case Value::Kind::object: return "an object";
  }
  return "?";
}

[[noreturn]] void wrong_kind(Value::Kind have, const char* want) {
  throw Error(std::string("JSON: expected ") + want + ", found " + kind_name(have));
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Value parse_document() {
    skip_space();
    Value v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  // Deeper nesting than any trace needs: refuse instead of overflowing the stack.
  static constexpr int max_depth = 200;

  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw Error("JSON: line " + std::to_string(line) + ", column " + std::to_string(column) +
                ": " + what);
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }

  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("invalid literal (expected a value)");
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than " + std::to_string(max_depth));
    if (pos_ >= text_.size()) fail("unexpected end of input (expected a value)");
    switch (text_[pos_]) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Value::make_string(parse_string());
      case 't': expect_word("true"); return Value::make_bool(true);
      case 'f': expect_word("false"); return Value::make_bool(false);
      case 'n': expect_word("null"); return Value::make_null();
      default: return Value::make_number(parse_number());
    }
  }

  Value parse_object(int depth) {
    ++pos_;  // '{'
    std::vector<std::pair<std::string, Value>> members;
    skip_space();
    if (consume('}')) return Value::make_object(std::move(members));
    for (;;) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string key in an object");
      std::string key = parse_string();
      skip_space();
      if (!consume(':')) fail("expected ':' after an object key");
      skip_space();
      Value v = parse_value(depth + 1);
      members.emplace_back(std::move(key), std::move(v));
      skip_space();
      if (consume('}')) return Value::make_object(std::move(members));
      if (!consume(',')) fail("expected ',' or '}' in an object");
    }
  }

  Value parse_array(int depth) {
    ++pos_;  // '['
    std::vector<Value> items;
    skip_space();
    if (consume(']')) return Value::make_array(std::move(items));
    for (;;) {
      skip_space();
      items.push_back(parse_value(depth + 1));
      skip_space();
      if (consume(']')) return Value::make_array(std::move(items));
      if (!consume(',')) fail("expected ',' or ']' in an array");
    }
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("invalid hex digit in a \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string parse_string() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;
        fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, hex4()); break;
        default: --pos_; fail("invalid escape in a string");
      }
    }
  }

  double parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    consume('-');
    if (!digits()) fail("expected a value");
    if (consume('.') && !digits()) fail("expected digits after '.' in a number");
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!consume('+')) consume('-');
      if (!digits()) fail("expected digits in a number's exponent");
    }
    const std::string number(text_.substr(start, pos_ - start));
    errno = 0;
    const double v = std::strtod(number.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(v)) {
      pos_ = start;
      fail("number out of range");
    }
    return v;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

bool Value::as_bool() const {
  if (kind_ != Kind::boolean) wrong_kind(kind_, "a boolean");
  return boolean_;
}
double Value::as_number() const {
  if (kind_ != Kind::number) wrong_kind(kind_, "a number");
  return number_;
}
const std::string& Value::as_string() const {
  if (kind_ != Kind::string) wrong_kind(kind_, "a string");
  return string_;
}
const std::vector<Value>& Value::as_array() const {
  if (kind_ != Kind::array) wrong_kind(kind_, "an array");
  return array_;
}
const std::vector<std::pair<std::string, Value>>& Value::as_object() const {
  if (kind_ != Kind::object) wrong_kind(kind_, "an object");
  return object_;
}

const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::object) return nullptr;
  for (const auto& [k, v] : object_)
    if (k == key) return &v;
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  if (kind_ != Kind::object) wrong_kind(kind_, "an object");
  if (const Value* v = find(key)) return *v;
  throw Error("JSON: missing key '" + std::string(key) + "'");
}

Value Value::make_bool(bool b) {
  Value v;
  v.kind_ = Kind::boolean;
  v.boolean_ = b;
  return v;
}
Value Value::make_number(double d) {
  Value v;
  v.kind_ = Kind::number;
  v.number_ = d;
  return v;
}
Value Value::make_string(std::string s) {
  Value v;
  v.kind_ = Kind::string;
  v.string_ = std::move(s);
  return v;
}
Value Value::make_array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::array;
  v.array_ = std::move(items);
  return v;
}
Value Value::make_object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.kind_ = Kind::object;
  v.object_ = std::move(members);
  return v;
}

Value parse(std::string_view text) { return Parser(text).parse_document(); }

}  // namespace weft::detail::json
