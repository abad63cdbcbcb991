// Links against an installed weft and uses it.
#include <weft/weft.hpp>

#include <cstdio>

int main() {
  weft::Topology machine = weft::Topology::synthetic("pack:2 core:4 pu:2");
  weft::Config config;
  config.num_threads = 4;
  weft::Placement placement = weft::plan_placement(machine, config);
  std::printf("weft %s: %u threads on %u cores\n", WEFT_VERSION_STRING,
              placement.num_threads(), machine.num_cores());
  return placement.num_threads() == 4 ? 0 : 1;
}
