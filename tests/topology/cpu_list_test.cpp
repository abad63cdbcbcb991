// parse_cpu_list: the Linux CPU list syntax, and its errors naming the field.
#include "topology/cpu_list.hpp"
#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::throws_with;

TEST(TopologyCpuList, Parses) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11", "cpuset"),
            (std::vector<unsigned>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list("5", "cpuset"), std::vector<unsigned>{5});
  EXPECT_EQ(parse_cpu_list("3,1, 1-2 ", "cpuset"), (std::vector<unsigned>{1, 2, 3}));
}

TEST(TopologyCpuList, RejectsWithTheFieldName) {
  for (const char* bad : {"0-", "", "-1", "3-1", "a", "1,,2", "1-2-3", "0x3", "99999999999"}) {
    EXPECT_TRUE(throws_with<ConfigError>([&] { parse_cpu_list(bad, "WEFT_CPUSET"); },
                                         std::string("WEFT_CPUSET: '") + bad +
                                             "' is not a CPU list"))
        << bad;
  }
}

TEST(TopologyCpuList, FormatsCompactly) {
  EXPECT_EQ(detail::format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(detail::format_cpu_list({}), "");
  EXPECT_EQ(parse_cpu_list(detail::format_cpu_list({2, 4, 5, 6}), "x"),
            (std::vector<unsigned>{2, 4, 5, 6}));
}

}  // namespace
}  // namespace weft
