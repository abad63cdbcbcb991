// weft-probe: what weft sees on this machine (or a synthetic/XML one) and where it
// would put its threads. Config starts from the WEFT_* environment; flags override it.
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "common/json_writer.hpp"
#include "weft/weft.hpp"

namespace {

constexpr const char* usage_text = R"(usage: weft-probe [options]

Prints the machine weft sees, its CPU budget, and the placement for a config.
The config starts from the WEFT_* environment variables; options override them.

  --synthetic DESC   use an hwloc synthetic machine, e.g. "pack:2 numa:2 l3:2 core:8 pu:2"
  --xml PATH         use an hwloc XML export (lstopo machine.xml)
  --threads N        threads, the caller included (0: one per usable core)
  --pinning P        none | core | pu | numa (default: core only where this process
                     owns its CPUs, otherwise unbound; the report says which and why)
  --cpuset LIST      restrict to these CPUs, e.g. 0-3,8
  --partition I/N    take slice I of N
  --reserved N       the last N workers run only high/critical work
  --smt              use SMT siblings too when --threads is 0
  --json             print JSON instead of text
  --help             print this help
)";

// A bad command line: reported on stderr with exit code 2.
using weft::tools::UsageError;

// What to do and with which config. A mode that is not a probe (a later `--plot`)
// becomes one more field here and one more branch in main.
struct Args {
  std::optional<std::string> synthetic;
  std::optional<std::string> xml;
  weft::Config config;
  std::vector<std::string> env_origins;  // what the environment decided (Config::env_origins)
  bool json = false;
  bool help = false;
};

// A flag's value read by the library's own parser for the WEFT_* variable it mirrors, so
// that the flag and the variable take the same spellings; a bad one is a usage error.
template <class Parse>
auto parse_flag(const std::string& flag, const std::string& value, Parse parse) {
  try {
    return parse(value, flag);
  } catch (const weft::ConfigError& e) {
    throw UsageError{e.what()};
  }
}

unsigned parse_count(const std::string& value, const std::string& flag) {
  return static_cast<unsigned>(weft::parse_number(value, flag));
}

// Accepts "--flag value" and "--flag=value".
Args parse_args(const std::vector<std::string>& argv, weft::Config config) {
  Args args;
  args.config = std::move(config);
  for (std::size_t i = 0; i < argv.size(); ++i) {
    weft::tools::FlagAt at(argv, i);
    const std::string flag = at.name();
    auto value = [&] { return at.value(); };
    auto no_value = [&] { at.no_value(); };
    if (flag == "--synthetic") args.synthetic = value();
    else if (flag == "--xml") args.xml = value();
    else if (flag == "--threads") args.config.num_threads = parse_flag(flag, value(), parse_count);
    else if (flag == "--pinning")
      args.config.pinning = parse_flag(flag, value(), weft::parse_pinning);
    else if (flag == "--cpuset") args.config.cpuset = value();
    else if (flag == "--partition")
      args.config.partition = parse_flag(flag, value(), weft::parse_partition);
    else if (flag == "--reserved")
      args.config.reserved_workers = parse_flag(flag, value(), parse_count);
    else if (flag == "--smt") no_value(), args.config.use_smt = true;
    else if (flag == "--json") no_value(), args.json = true;
    else if (flag == "--help" || flag == "-h") no_value(), args.help = true;
    else throw UsageError{"unknown option '" + argv[i] + "'"};
  }
  if (args.synthetic && args.xml) throw UsageError{"--synthetic and --xml exclude each other"};
  if (!args.config.cpuset.empty()) parse_flag("--cpuset", args.config.cpuset, weft::parse_cpu_list);
  return args;
}

std::string partition_text(const weft::Config& c) {
  if (!c.partition) return {};
  std::string out = std::to_string(c.partition->index);
  out += '/';
  out += std::to_string(c.partition->count);
  return out;
}

const char* pinning_text(const weft::Config& c) {
  return c.pinning ? weft::to_string(*c.pinning) : "(default rule)";
}

std::string config_text(const weft::Config& c, const std::vector<std::string>& env_origins) {
  std::ostringstream out;
  out << "Environment:";
  if (env_origins.empty()) out << " no WEFT_* or OMP_* variable changes the defaults\n";
  else out << "\n";
  for (const std::string& line : env_origins) out << "  " << line << "\n";
  out << "Config: num_threads=" << c.num_threads << " pinning=" << pinning_text(c)
      << " cpuset=" << (c.cpuset.empty() ? "(all)" : c.cpuset) << " partition="
      << (c.partition ? partition_text(c) : "(none)")
      << " reserved_workers=" << c.reserved_workers << " use_smt=" << (c.use_smt ? 1 : 0)
      << " spin_us=" << c.spin.count() << " spin_max_us=" << c.spin_max.count()
      << " background_workers="
      << (c.background_workers ? std::to_string(*c.background_workers) : std::string("auto"))
      << "\n";
  return out.str();
}

std::string report_json(const weft::Topology& t, const Args& args, const weft::Placement& p) {
  const weft::Config& c = args.config;
  weft::detail::JsonWriter json;
  json.begin_object();
  json.key("topology");
  json.begin_object();
  json.key("source");
  json.string(t.source());
  const std::pair<const char*, unsigned> counts[] = {
      {"packages", t.num_packages()}, {"numa_nodes", t.num_numa_nodes()},
      {"l3", t.num_l3()},             {"l2", t.num_l2()},
      {"cores", t.num_cores()},       {"pus", t.num_pus()},
      {"core_kinds", t.num_core_kinds()}};
  for (const auto& [name, count] : counts) {
    json.key(name);
    json.number(count);
  }
  json.end_object();
  json.key("budget");
  json.begin_object();
  json.key("allowed_pus");
  json.number(t.budget().allowed_pus.size());
  json.key("quota");
  if (t.budget().quota) json.number(*t.budget().quota); else json.null();
  json.key("cpus");
  json.number(t.budget().cpus());
  json.end_object();
  json.key("config");
  json.begin_object();
  json.key("num_threads");
  json.number(c.num_threads);
  json.key("pinning");
  if (c.pinning) json.string(weft::to_string(*c.pinning)); else json.null();
  json.key("cpuset");
  json.string(c.cpuset);
  json.key("partition");
  if (c.partition) json.string(partition_text(c)); else json.null();
  json.key("reserved_workers");
  json.number(c.reserved_workers);
  json.key("use_smt");
  json.boolean(c.use_smt);
  json.key("spin_us");
  json.number(c.spin.count());
  json.key("spin_max_us");
  json.number(c.spin_max.count());
  json.key("background_workers");
  if (c.background_workers) json.number(*c.background_workers); else json.null();
  json.end_object();
  json.key("environment");
  json.begin_array();
  for (const std::string& origin : args.env_origins) json.string(origin);
  json.end_array();
  json.key("placement");
  json.raw_value(p.to_json());
  json.end_object();
  return json.take() + "\n";
}

int probe(const Args& args) {
  const weft::Topology topology = args.synthetic ? weft::Topology::synthetic(*args.synthetic)
                                  : args.xml     ? weft::Topology::from_xml(*args.xml)
                                                 : weft::Topology::probe();
  const weft::Placement placement = weft::plan_placement(topology, args.config);
  if (args.json)
    std::cout << report_json(topology, args, placement);
  else
    std::cout << topology.describe() << "\n" << config_text(args.config, args.env_origins)
              << placement.describe();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args = parse_args({argv + 1, argv + argc}, weft::Config::from_env());
    args.env_origins = weft::Config::env_origins();
    if (args.help) {
      std::cout << usage_text;
      return 0;
    }
    return probe(args);
  } catch (const UsageError& e) {
    std::cerr << "weft-probe: " << e.message << "\nTry 'weft-probe --help'.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "weft-probe: " << e.what() << "\n";
    return 1;
  }
}
