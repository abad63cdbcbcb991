// Topology::synthetic: hwloc synthetic descriptions (weft-probe --synthetic, tests).
// A description either loads, as a machine of a bounded size that the planner can place
// threads on, or is rejected with a TopologyError naming it.
#include "fuzz_support.hpp"
#include "weft/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string description = weft::fuzz::c_string(data, size);
  weft::fuzz::expect_config_errors(
      "Topology::synthetic", description,
      [&] {
        const weft::Topology t = weft::Topology::synthetic(description);
        if (t.num_pus() == 0 || t.num_cores() == 0 || t.num_cores() > t.num_pus())
          weft::fuzz::finding("a loaded machine with " + std::to_string(t.num_cores()) +
                                  " cores and " + std::to_string(t.num_pus()) + " PUs",
                              description);
        (void)t.describe();
        // A few threads, placed both ways: enough to walk every planning step.
        weft::Config config;
        config.num_threads = 1 + static_cast<unsigned>(description.size() % 5);
        config.pinning = weft::Pinning::core;
        (void)weft::plan_placement(t, config).describe();
        config.pinning = weft::Pinning::numa;
        config.use_smt = true;
        (void)weft::plan_placement(t, config).to_json();
      },
      [&](const weft::ConfigError& e) {
        // Errors about the description come from TopologyError; the planner's from
        // ConfigError. Both must say what they are about.
        if (dynamic_cast<const weft::TopologyError*>(&e) != nullptr &&
            std::string(e.what()).find("synthetic topology '") == std::string::npos &&
            std::string(e.what()).find("synthetic: ") == std::string::npos)
          weft::fuzz::finding(
              std::string("a TopologyError that does not name the description: ") + e.what(),
              description);
      });
  return 0;
}
