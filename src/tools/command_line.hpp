// The command-line reading weft-probe and weft-run share: "--flag value" and
// "--flag=value", and the error a bad command line raises.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace weft::tools {

// A bad command line; the tools print it with their usage.
struct UsageError {
  std::string message;
};

// The flag at argv[i], split from an inline "=value" (long flags only).
class FlagAt {
 public:
  FlagAt(const std::vector<std::string>& argv, std::size_t& i) : argv_(argv), i_(i), name_(argv[i]) {
    if (const std::size_t eq = name_.find('='); name_.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value_ = name_.substr(eq + 1);
      name_.resize(eq);
    }
  }
  const std::string& name() const { return name_; }
  // The flag's value: inline, or the next argument (which it then consumes).
  std::string value() {
    if (inline_value_) return *inline_value_;
    if (i_ + 1 >= argv_.size()) throw UsageError{name_ + " needs a value"};
    return argv_[++i_];
  }
  // For a flag that takes none.
  void no_value() const {
    if (inline_value_) throw UsageError{name_ + " takes no value"};
  }

 private:
  const std::vector<std::string>& argv_;
  std::size_t& i_;
  std::string name_;
  std::optional<std::string> inline_value_;
};

}  // namespace weft::tools
