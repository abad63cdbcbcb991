// What every fuzz target shares: the rule that only weft::ConfigError (TopologyError
// included) may come out of a parser, and small readers for the inputs.
//
// A target defines LLVMFuzzerTestOneInput. Built with WEFT_FUZZ (clang) it links
// libFuzzer; in the normal test build it links replay_main.cpp, which runs it once over
// every file of its seed corpus. A finding ends the process (abort), with a line on
// stderr saying which call and which input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "weft/config.hpp"

namespace weft::fuzz {

// Aborts with `what` and `input` on stderr.
[[noreturn]] inline void finding(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "weft fuzz finding: %s\n  input: '%.*s'\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

// Runs f(). A ConfigError is an expected answer to bad input and is passed to
// `on_error` (which may check its message); any other exception is a finding.
template <class F, class OnError>
void expect_config_errors(const char* call, std::string_view input, F&& f, OnError&& on_error) {
  try {
    f();
  } catch (const ConfigError& e) {
    if (e.what()[0] == '\0')
      finding(std::string(call) + " raised a ConfigError without a message", input);
    on_error(e);
  } catch (const std::exception& e) {
    finding(std::string(call) + " raised " + typeid(e).name() + ": " + e.what(), input);
  } catch (...) {
    finding(std::string(call) + " raised a non-std exception", input);
  }
}

template <class F>
void expect_config_errors(const char* call, std::string_view input, F&& f) {
  expect_config_errors(call, input, std::forward<F>(f), [](const ConfigError&) {});
}

// The input as text, up to its first NUL (what an environment variable or a C string
// can hold).
inline std::string c_string(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  return text.substr(0, text.find('\0'));
}

// The input's lines (without '\n'); at most `max` of them, the last one keeping the rest.
inline std::vector<std::string> lines(const std::string& text, std::size_t max) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (out.size() + 1 < max) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  out.push_back(text.substr(start));
  return out;
}

// Space-separated words.
inline std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) out.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A number as strtoull(.., 0) reads it: "-1" is the largest value, "0x10" is 16, junk
// is 0. Fuzzed text reaches every boundary this way ("-1", "-2", "0xffffffff").
inline unsigned long long number(const std::string& text) {
  return std::strtoull(text.c_str(), nullptr, 0);
}

// The value of "key=value" when `word` starts with "key=".
inline bool value_of(const std::string& word, const char* key, std::string& value) {
  const std::string prefix = std::string(key) + "=";
  if (word.compare(0, prefix.size(), prefix) != 0) return false;
  value = word.substr(prefix.size());
  return true;
}

}  // namespace weft::fuzz
