// Config::from_env and Config::env_origins over fuzzed environment values. The input is
// lines "NAME=value" (names from env_vars.hpp; other lines are ignored). A config that
// reads is then planned on a small synthetic machine, as a Scheduler would.
#include <cstring>

#include "env_vars.hpp"
#include "fuzz_support.hpp"
#include "weft/topology.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using weft::fuzz::finding;
  const std::string text = weft::fuzz::c_string(data, size);
  weft::fuzz::clear_env();
  std::vector<std::string> set;  // the names this input set, for the message check
  for (const std::string& line : weft::fuzz::lines(text, 64)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(0, eq);
    for (const char* known : weft::fuzz::env_names) {
      if (name != known) continue;
      setenv(known, line.c_str() + eq + 1, 1);
      set.push_back(name);
    }
  }
  // A bad value is reported by the name of the variable that holds it.
  const auto names_a_variable = [&](const weft::ConfigError& e) {
    for (const std::string& name : set)
      if (std::strstr(e.what(), name.c_str()) != nullptr) return;
    finding(std::string("the message names no variable that was set: ") + e.what(), text);
  };
  weft::Config config;
  bool read = false;
  weft::fuzz::expect_config_errors(
      "Config::from_env", text,
      [&] {
        config = weft::Config::from_env();
        read = true;
      },
      names_a_variable);
  bool explained = false;
  weft::fuzz::expect_config_errors(
      "Config::env_origins", text,
      [&] {
        (void)weft::Config::env_origins();
        explained = true;
      },
      names_a_variable);
  if (read != explained) finding("from_env and env_origins disagree on whether it reads", text);
  weft::fuzz::clear_env();
  if (!read) return 0;
  static const weft::Topology machine = weft::Topology::synthetic("pack:2 numa:2 core:4 pu:2");
  weft::fuzz::expect_config_errors("plan_placement", text,
                                   [&] { (void)weft::plan_placement(machine, config); });
  return 0;
}
