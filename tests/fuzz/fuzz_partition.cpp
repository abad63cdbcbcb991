// WEFT_PARTITION ("I/N") through Config::from_env, then planned on a synthetic machine
// of 16 cores in 2 packages. Line 1 is WEFT_PARTITION; lines 2 and 3, when present, are
// LOCAL_RANK and LOCAL_WORLD_SIZE (torchrun's), which decide when WEFT_PARTITION is
// empty. A partition that reads names a slice that is planned or rejected by name.
#include "env_vars.hpp"
#include "fuzz_support.hpp"
#include "weft/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using weft::fuzz::finding;
  const std::string text = weft::fuzz::c_string(data, size);
  const std::vector<std::string> values = weft::fuzz::lines(text, 3);
  weft::fuzz::clear_env();
  setenv("WEFT_PARTITION", values[0].c_str(), 1);
  if (values.size() > 1) setenv("LOCAL_RANK", values[1].c_str(), 1);
  if (values.size() > 2) setenv("LOCAL_WORLD_SIZE", values[2].c_str(), 1);
  weft::Config config;
  bool read = false;
  weft::fuzz::expect_config_errors("Config::from_env", text, [&] {
    config = weft::Config::from_env();
    read = true;
  });
  weft::fuzz::clear_env();
  if (!read || !config.partition) return 0;
  const weft::Partition p = *config.partition;
  if (p.count == 0 || p.index >= p.count)
    finding(
        "from_env accepted partition " + std::to_string(p.index) + "/" + std::to_string(p.count),
        text);
  static const weft::Topology machine = weft::Topology::synthetic("pack:2 numa:2 l3:2 core:4 pu:2");
  config.pinning = weft::Pinning::core;
  weft::fuzz::expect_config_errors(
      "plan_placement", text,
      [&] {
        const weft::Placement placement = weft::plan_placement(machine, config);
        // The caller always gets a core of the slice.
        if (placement.caller_cpus.empty()) finding("a partition with no caller core", text);
      },
      [&](const weft::ConfigError& e) {
        if (std::string(e.what()).rfind("Config::partition: ", 0) != 0)
          finding(std::string("a partition error that does not name the field: ") + e.what(), text);
      });
  return 0;
}
