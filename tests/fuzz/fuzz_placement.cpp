// plan_placement: Config validation on synthetic machines. The input is words
// "key=value": machine=K (one of the machines below), threads=N, pinning=P (the raw enum
// value; 4 and up are not a Pinning), cpuset=LIST, partition=I/N, reserved=N, smt=0|1,
// and, for the topology, allowed=LIST (with_allowed_pus) and quota=CPUS (with_quota).
// Numbers read as strtoull(.., 0) reads them, so "-1" is the largest. Every outcome is a
// placement whose threads fit the machine, or a ConfigError.
#include <cmath>

#include "fuzz_support.hpp"
#include "weft/topology.hpp"

namespace {

const weft::Topology& machine(unsigned long long k) {
  static const weft::Topology machines[] = {
      weft::Topology::synthetic("pack:2 numa:2 l3:2 core:4 pu:2"),
      weft::Topology::synthetic("core:1 pu:1"),
      weft::Topology::synthetic("pack:1 numa:1 core:8 pu:2"),
      weft::Topology::synthetic("pack:4 core:3 pu:1"),
      weft::Topology::synthetic("pack:2 [numa] l3:3 core:2 pu:4"),
  };
  return machines[k % (sizeof machines / sizeof machines[0])];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using weft::fuzz::finding;
  using weft::fuzz::number;
  const std::string text = weft::fuzz::c_string(data, size);
  weft::Config config;
  unsigned long long which = 0;
  std::string allowed, quota, value;
  for (const std::string& w : weft::fuzz::words(text)) {
    if (weft::fuzz::value_of(w, "machine", value)) which = number(value);
    if (weft::fuzz::value_of(w, "threads", value))
      config.num_threads = static_cast<unsigned>(number(value));
    if (weft::fuzz::value_of(w, "pinning", value))
      config.pinning = static_cast<weft::Pinning>(number(value) & 0xff);
    if (weft::fuzz::value_of(w, "cpuset", value)) config.cpuset = value;
    if (weft::fuzz::value_of(w, "partition", value)) {
      const std::size_t slash = value.find('/');
      config.partition = weft::Partition{
          static_cast<unsigned>(number(value.substr(0, slash))),
          slash == std::string::npos ? 1u : static_cast<unsigned>(number(value.substr(slash + 1)))};
    }
    if (weft::fuzz::value_of(w, "reserved", value))
      config.reserved_workers = static_cast<unsigned>(number(value));
    if (weft::fuzz::value_of(w, "smt", value)) config.use_smt = number(value) != 0;
    if (weft::fuzz::value_of(w, "allowed", value)) allowed = value;
    if (weft::fuzz::value_of(w, "quota", value)) quota = value;
  }
  weft::fuzz::expect_config_errors("plan_placement", text, [&] {
    weft::Topology t = machine(which);
    if (!allowed.empty()) t = t.with_allowed_pus(weft::parse_cpu_list(allowed, "allowed"));
    if (!quota.empty()) t = t.with_quota(std::strtod(quota.c_str(), nullptr));
    const weft::Placement p = weft::plan_placement(t, config);
    if (p.workers.empty()) finding("a placement without workers", text);
    if (p.num_threads() == 0 || p.num_threads() > p.workers.size() + 1)
      finding("a placement whose loops run on " + std::to_string(p.num_threads()) +
                  " threads with " + std::to_string(p.workers.size()) + " workers",
              text);
    if (config.num_threads != 0 && p.workers.size() + 1 != std::max(config.num_threads, 2u))
      finding("num_threads " + std::to_string(config.num_threads) + " gave " +
                  std::to_string(p.workers.size()) + " workers",
              text);
    for (const weft::WorkerPlacement& w : p.workers) {
      if (w.core >= t.num_cores()) finding("a worker on core " + std::to_string(w.core), text);
      if (w.steal_order.size() != p.workers.size() - 1)
        finding("a steal order of " + std::to_string(w.steal_order.size()) + " workers", text);
    }
    (void)p.describe();
    (void)p.to_json();
  });
  return 0;
}
