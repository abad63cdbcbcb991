// The small JSON reader weft-plot and these tests use: values, escapes, and errors
// that say where the input went wrong.
#include <gtest/gtest.h>

#include <string>

#include "observe/json_reader.hpp"

namespace weft::detail::json {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ObserveJsonReader, ReadsEveryKindOfValue) {
  const Value v = parse(R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"y\\z\n\u00e9"}} )");
  const auto& a = v.at("a").as_array();
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].as_number(), 1.0);
  EXPECT_EQ(a[1].as_number(), -2500.0);
  EXPECT_TRUE(a[2].as_bool());
  EXPECT_FALSE(a[3].as_bool());
  EXPECT_TRUE(a[4].is_null());
  EXPECT_EQ(v.at("b").at("c").as_string(), "x\"y\\z\n\xc3\xa9");
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_TRUE(parse("[]").as_array().empty());
  EXPECT_TRUE(parse("{}").as_object().empty());
}

TEST(ObserveJsonReader, ErrorsSayWhere) {
  EXPECT_NE(error_of("{\"a\": 1,\n \"b\" 2}").find("line 2, column 6"), std::string::npos)
      << error_of("{\"a\": 1,\n \"b\" 2}");
  EXPECT_NE(error_of("[1, 2").find("expected ',' or ']'"), std::string::npos);
  EXPECT_NE(error_of("{\"a\": 1} x").find("unexpected text after"), std::string::npos);
  EXPECT_NE(error_of("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(error_of("tru").find("invalid literal"), std::string::npos);
  EXPECT_NE(error_of("").find("unexpected end of input"), std::string::npos);
  EXPECT_NE(error_of("-").find("expected a value"), std::string::npos);
  EXPECT_NE(error_of("1.").find("digits after '.'"), std::string::npos);
  EXPECT_NE(error_of("\"\\q\"").find("invalid escape"), std::string::npos);
  EXPECT_NE(error_of(std::string(1000, '[')).find("nesting deeper"), std::string::npos);
}

TEST(ObserveJsonReader, WrongKindAndMissingKeyAreErrors) {
  const Value v = parse(R"({"n": 1})");
  EXPECT_THROW(v.at("n").as_string(), Error);
  EXPECT_THROW(v.at("missing"), Error);
  EXPECT_THROW(parse("[1]").at("n"), Error);
}

}  // namespace
}  // namespace weft::detail::json
