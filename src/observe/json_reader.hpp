// A small JSON reader: enough for weft's own output (the Chrome trace that weft-plot
// draws, the metrics the tests check), with errors that say where the input went wrong.
// Not a general-purpose parser: numbers are doubles, \u escapes outside the BMP pass
// as two 3-byte sequences, objects keep their members in order (duplicates allowed).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::detail::json {

// Malformed input, or a value of the wrong type asked for; the message says where
// ("line 3, column 14: expected ',' or '}' in an object").
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_number() const { return kind_ == Kind::number; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  // Raise Error when the value is of another kind.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<Value>& as_array() const;
  const std::vector<std::pair<std::string, Value>>& as_object() const;

  // Object member by key (the first one), nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  // Object member by key; raises Error naming the key when absent.
  const Value& at(std::string_view key) const;

  static Value make_null() { return Value(); }
  static Value make_bool(bool b);
  static Value make_number(double d);
  static Value make_string(std::string s);
  static Value make_array(std::vector<Value> items);
  static Value make_object(std::vector<std::pair<std::string, Value>> members);

 private:
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> array_;
  std::vector<std::pair<std::string, Value>> object_;
};

// Parses one JSON value (surrounded by optional whitespace). Raises Error.
Value parse(std::string_view text);

}  // namespace weft::detail::json
