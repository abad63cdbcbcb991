// Topology::from_xml: hwloc XML exports (weft-probe --xml, tests), written to a file
// because that is what the API reads. A file either loads as a machine the planner can
// place threads on, or is rejected with a TopologyError naming the file.
#include <unistd.h>

#include <fstream>

#include "fuzz_support.hpp"
#include "weft/topology.hpp"

namespace {

// One file per process, rewritten for each input and removed at exit.
const std::string& xml_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    const std::string p = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/weft-fuzz-xml-" + std::to_string(::getpid()) + ".xml";
    std::atexit([] { std::remove(xml_path().c_str()); });
    // hwloc's built-in parser, as the test suite uses (no dependency on the libxml2
    // plugin), and no hwloc warnings on stderr for every malformed file.
    setenv("HWLOC_LIBXML_IMPORT", "0", 1);
    setenv("HWLOC_HIDE_ERRORS", "1", 1);
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = xml_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) weft::fuzz::finding("cannot write " + path, {});
  }
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  weft::fuzz::expect_config_errors(
      "Topology::from_xml", input,
      [&] {
        const weft::Topology t = weft::Topology::from_xml(path);
        (void)t.describe();
        weft::Config config;
        config.num_threads = 1 + static_cast<unsigned>(size % 5);
        config.pinning = weft::Pinning::core;
        (void)weft::plan_placement(t, config).describe();
        config.num_threads = 0;
        config.use_smt = true;
        (void)weft::plan_placement(t, config).to_json();
      },
      [&](const weft::ConfigError& e) {
        if (dynamic_cast<const weft::TopologyError*>(&e) != nullptr &&
            std::string(e.what()).find(path) == std::string::npos)
          weft::fuzz::finding(
              std::string("a TopologyError that does not name the file: ") + e.what(), input);
      });
  return 0;
}
