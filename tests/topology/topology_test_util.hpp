// Helpers shared by the topology tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/env_vars.hpp"  // the one list of the variables from_env reads
#include "temp_dir.hpp"
#include "weft/topology.hpp"

namespace weft::test {

// Passes when `f` throws E whose message contains `needle`; says what happened otherwise.
template <class E, class F>
::testing::AssertionResult throws_with(F&& f, const std::string& needle) {
  try {
    f();
  } catch (const E& e) {
    if (std::string(e.what()).find(needle) != std::string::npos)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message '" << e.what() << "' lacks '" << needle << "'";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw (expected '" << needle << "')";
}

// Clears every variable Config::from_env reads and restores them all on destruction.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : weft::fuzz::env_names) {
      if (const char* v = std::getenv(name)) saved_[name] = v;
      unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const char* name : weft::fuzz::env_names) {
      auto it = saved_.find(name);
      if (it == saved_.end()) unsetenv(name);
      else setenv(name, it->second.c_str(), 1);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  void set(const char* name, const char* value) { setenv(name, value, 1); }

 private:
  std::map<std::string, std::string> saved_;
};

inline std::vector<unsigned> range(unsigned first, unsigned last) {
  std::vector<unsigned> out;
  for (unsigned i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// The 2-package server most tests use: 2 NUMA nodes per package, 2 L3 per NUMA node,
// 8 cores per L3, 2 PUs per core: 64 cores, 128 PUs.
inline const char* const two_socket = "pack:2 numa:2 l3:2 core:8 pu:2";

// Pinned to cores, so that the placement rules show in the cpus (a synthetic machine is
// the whole machine, where the default leaves threads unbound: pinning_test.cpp).
inline Config threads(unsigned n) {
  Config c;
  c.num_threads = n;
  c.pinning = Pinning::core;
  return c;
}

}  // namespace weft::test
