// Synthetic descriptions and XML files that would make hwloc build a machine larger than
// any Linux kernel runs are rejected before hwloc spends minutes and gigabytes on them.
// The limits are owned by src/topology/hwloc_reader.cpp; these tests read them back from
// the messages, so that only the behaviour around them is fixed here.
#include <filesystem>
#include <fstream>
#include <string>

#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

using test::throws_with;

// The message of the TopologyError that `f` raises ("" when it raises none).
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const TopologyError& e) {
    return e.what();
  }
  return "";
}

// The number that follows `after` in `text` (0 when there is none).
unsigned long long number_after(const std::string& text, const std::string& after) {
  const std::size_t at = text.find(after);
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + after.size()));
}

unsigned long long pu_limit() {
  return number_after(message_of([] { Topology::synthetic("pack:64 numa:64 core:1024 pu:64"); }),
                      "more than the ");
}

unsigned long long arity_limit() {
  // As many PUs as allowed, all on one level: wider than any level may be.
  const std::string flat = "core:" + std::to_string(pu_limit()) + " pu:1";
  return number_after(message_of([&] { Topology::synthetic(flat); }), "more than the ");
}

TEST(TopologyLimits, HugeSyntheticIsRejectedNamingItAndTheLimit) {
  // Without the cap hwloc takes minutes and gigabytes over this one.
  const std::string huge = "pack:64 numa:64 core:1024 pu:64";
  const std::string message = message_of([&] { Topology::synthetic(huge); });
  EXPECT_NE(message.find("synthetic topology '" + huge + "' has 268435456 PUs, more than the "),
            std::string::npos)
      << message;
  EXPECT_GE(pu_limit(), 1024u);  // every machine weft is tested on fits
}

TEST(TopologyLimits, LargestAllowedSyntheticLoads) {
  const unsigned long long limit = pu_limit();
  ASSERT_GT(limit, 0u);
  ASSERT_EQ(limit % 64, 0u);
  // 64 PUs per package, as a real large machine is described: narrow levels.
  const std::string largest = "pack:" + std::to_string(limit / 64) + " numa:2 l3:2 core:8 pu:2";
  const Topology t = Topology::synthetic(largest);
  EXPECT_EQ(t.num_pus(), limit);
  EXPECT_EQ(t.num_numa_nodes(), 2 * limit / 64);
  const std::string one_more =
      "pack:" + std::to_string(limit / 64 + 1) + " numa:2 l3:2 core:8 pu:2";
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::synthetic(one_more); },
                                         "has " + std::to_string(limit + 64) + " PUs"));
}

TEST(TopologyLimits, WideLevelIsRejectedAndTheWidestAllowedLoads) {
  const unsigned long long arity = arity_limit();
  ASSERT_GT(arity, 0u);
  EXPECT_TRUE(throws_with<TopologyError>(
      [&] { Topology::synthetic("core:" + std::to_string(arity + 1) + " pu:1"); },
      "gives an object " + std::to_string(arity + 1) +
          " children ('core:" + std::to_string(arity + 1) + "')"));
  EXPECT_EQ(Topology::synthetic("core:" + std::to_string(arity) + " pu:1").num_cores(), arity);
}

TEST(TopologyLimits, CountsAreCheckedForOverflowAndReadAsHwlocReadsThem) {
  // 2^32 * 2^32 * 2 wraps to 0 in 64 bits: it must not pass as a small machine.
  EXPECT_TRUE(throws_with<TopologyError>(
      [] { Topology::synthetic("pack:4294967296 core:4294967296 pu:2"); },
      "has more than 2^64 PUs"));
  // hwloc reads counts with strtoul(.., 0): hex and octal count as such, and "-1" is huge.
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic("pack:0x100 core:0x100 pu:1"); },
                                         "has 65536 PUs"));
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic("pack:0400 core:0400 pu:1"); },
                                         "has 65536 PUs"));
  EXPECT_TRUE(
      throws_with<TopologyError>([] { Topology::synthetic("core:-1 pu:1"); }, "more than the"));
  // Attached NUMA nodes and attributes add no PU; levels need no space between them.
  EXPECT_EQ(Topology::synthetic("pack:2 [numa(memory=1GB)] core:4(indexes=0,1,2,3) pu:2").num_pus(),
            16u);
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic("pack:128core:128pu:2"); },
                                         "has 32768 PUs"));
  // Malformed strings are still hwloc's to reject.
  EXPECT_TRUE(throws_with<TopologyError>([] { Topology::synthetic("pack:2 core:0 pu:99999"); },
                                         "is malformed"));
}

// A flat hwloc XML machine of `pus` PUs (one NUMA node), as lstopo would write it.
std::string flat_xml(unsigned pus) {
  // hwloc's bitmap text: 32-bit words, most significant first; zero words empty except
  // the last.
  const auto bitmap = [](unsigned first, unsigned last) {
    std::string text;
    for (unsigned word = last / 32 + 1; word-- > 0;) {
      unsigned long bits = 0;
      for (unsigned b = 0; b < 32; ++b)
        if (word * 32 + b >= first && word * 32 + b <= last) bits |= 1ul << b;
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08lx", bits);
      if (!text.empty() || word != last / 32) text += ',';
      if (bits != 0)
        text += hex;
      else if (word == 0)
        text += "0x0";
    }
    return text;
  };
  const std::string all = bitmap(0, pus - 1);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<topology version=\"2.0\">\n"
      "<object type=\"Machine\" os_index=\"0\" cpuset=\"" +
      all + "\" complete_cpuset=\"" + all +
      "\" nodeset=\"0x1\" complete_nodeset=\"0x1\">\n"
      "<object type=\"NUMANode\" os_index=\"0\" cpuset=\"" +
      all + "\" complete_cpuset=\"" + all + "\" nodeset=\"0x1\" complete_nodeset=\"0x1\"/>\n";
  for (unsigned pu = 0; pu < pus; ++pu) {
    const std::string one = bitmap(pu, pu);
    xml += "<object type=\"PU\" os_index=\"" + std::to_string(pu) + "\" cpuset=\"" + one +
           "\" complete_cpuset=\"" + one + "\" nodeset=\"0x1\" complete_nodeset=\"0x1\"/>\n";
  }
  return xml + "</object>\n</topology>\n";
}

TEST(TopologyLimits, XmlWithTooManyPusIsRejectedAfterLoading) {
  const unsigned limit = static_cast<unsigned>(pu_limit());
  ASSERT_GT(limit, 0u);
  test::TempDir dir;
  const std::string small = dir.write("small.xml", flat_xml(40));
  EXPECT_EQ(Topology::from_xml(small).num_pus(), 40u);
  const std::string largest = dir.write("largest.xml", flat_xml(limit));
  EXPECT_EQ(Topology::from_xml(largest).num_pus(), limit);
  const std::string over = dir.write("over.xml", flat_xml(limit + 1));
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(over); },
                                         "XML topology '" + over + "' has " +
                                             std::to_string(limit + 1) + " PUs, more than the " +
                                             std::to_string(limit)));
}

TEST(TopologyLimits, OversizedXmlFileIsRejectedBeforeLoading) {
  test::TempDir dir;
  // A sparse file: large, yet nothing is written to disk.
  const std::string huge = (dir.path() / "huge.xml").string();
  std::ofstream(huge).put('<');
  std::filesystem::resize_file(huge, 1ull << 32);
  EXPECT_TRUE(throws_with<TopologyError>(
      [&] { Topology::from_xml(huge); },
      "XML topology '" + huge + "' is 4294967296 bytes, more than the "));
  const std::string message = message_of([&] { Topology::from_xml(huge); });
  const unsigned long long limit = number_after(message, "more than the ");
  ASSERT_GT(limit, 0u);
  // Just over the limit is rejected; anything up to it reaches the XML parser.
  std::filesystem::resize_file(huge, limit + 1);
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(huge); },
                                         "is " + std::to_string(limit + 1) + " bytes"));
  std::filesystem::resize_file(huge, limit);
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(huge); },
                                         "is not a valid hwloc XML export"));
  // A file without an end is cut off at the limit rather than read forever.
  EXPECT_TRUE(throws_with<TopologyError>(
      [] { Topology::from_xml("/dev/zero"); },
      "XML topology '/dev/zero' holds more bytes, more than the " + std::to_string(limit)));
}

// Found by tests/fuzz/fuzz_xml.cpp: a file cut right after a set's attribute name once
// escaped as std::out_of_range from the form check.
TEST(TopologyLimits, XmlCutAfterASetNameIsATopologyError) {
  test::TempDir dir;
  const std::string path =
      dir.write("cut.xml", "<topology version=\"2.0\">\n <object type=\"Machine\" cpuset");
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(path); },
                                         "an attribute without =\"value\""));
}

TEST(TopologyLimits, XmlDirectoryCannotBeRead) {
  test::TempDir dir;
  const std::string path = dir.path().string();
  EXPECT_TRUE(throws_with<TopologyError>([&] { Topology::from_xml(path); },
                                         "XML topology '" + path + "' cannot be read"));
}

}  // namespace
}  // namespace weft
