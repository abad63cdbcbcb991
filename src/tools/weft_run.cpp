// weft-run: runs a program with weft's OpenMP (libweft_gomp.so) and pthreadpool
// (libweft_pthreadpool.so) libraries preloaded, so that an unmodified program (PyTorch,
// OpenBLAS, XNNPACK, any gcc -fopenmp binary) runs its parallel regions on weft. Flags
// mirror weft-probe's and become WEFT_* variables, checked here by the library's own
// reader and planner before the program starts.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command_line.hpp"
#include "weft/weft.hpp"

namespace fs = std::filesystem;

namespace {

constexpr const char* usage_text = R"(usage: weft-run [options] [--] PROGRAM [ARGS...]

Runs PROGRAM with weft's OpenMP library (libweft_gomp.so) and pthreadpool library
(libweft_pthreadpool.so) preloaded, so that its OpenMP regions (libgomp, PyTorch,
OpenBLAS) and pthreadpool loops (XNNPACK) run on weft's workers. The libraries are
found beside weft-run (<prefix>/bin/../lib, or the build tree it was built in) and
added, by absolute path, after any LD_PRELOAD already set. The options set WEFT_*
variables for the program; they and any WEFT_* already set are checked before it starts.

  --threads N        WEFT_NUM_THREADS: threads, the caller included (0: one per usable core)
  --pinning P        WEFT_PINNING: none | core | pu | numa
  --cpuset LIST      WEFT_CPUSET: restrict to these CPUs, e.g. 0-3,8
  --partition I/N    WEFT_PARTITION: take slice I of N
  --reserved N       WEFT_RESERVED_WORKERS: the last N workers run only high/critical work
  --smt              WEFT_USE_SMT=1: use SMT siblings too when --threads is 0
  --metrics PATH     WEFT_METRICS: write the metrics there at exit ('-': a table on stderr)
  --trace PATH       WEFT_TRACE: write a trace there at exit
  --no-gomp          do not preload libweft_gomp.so
  --no-pthreadpool   do not preload libweft_pthreadpool.so
  --dry-run          print the variables weft-run would set and the command; run nothing
  --verbose          print the variables weft-run sets on stderr before running PROGRAM
  --help             print this help

Exit status: PROGRAM's own; 125 when weft-run fails (bad option or WEFT_* value, a
library not found), 126 when PROGRAM cannot be executed, 127 when it is not found.
)";

// weft-run's own failures, kept apart from the program's statuses as env(1) does.
constexpr int exit_failure = 125;
constexpr int exit_cannot_execute = 126;
constexpr int exit_not_found = 127;

using weft::tools::UsageError;
struct RunError {
  std::string message;
};

// One library weft-run can preload; `wanted` is cleared by its --no-* flag.
struct Library {
  const char* file;      // what the loader is given, e.g. "libweft_gomp.so"
  const char* no_flag;   // the flag that leaves it out
  const char* build_path;  // where this build tree put it ("": the build has no such target)
  bool wanted = true;
};

// A variable an option sets, remembered so that an error in its value can name the option.
struct Setting {
  std::string variable;
  std::string field;  // the Config field; the planner's messages start "Config::<field>:"
  std::string value;
  std::string flag;
};

struct Args {
  std::vector<Setting> settings;
  std::vector<Library> libraries;
  std::vector<std::string> command;
  bool dry_run = false;
  bool verbose = false;
  bool help = false;
};

// Options end at "--" or at the first word that is not an option, so that
// `weft-run python3 -c ...` leaves python's own options alone.
Args parse_args(const std::vector<std::string>& argv) {
  Args args;
  args.libraries = {
      {"libweft_gomp.so", "--no-gomp", WEFT_RUN_BUILD_GOMP},
      {"libweft_pthreadpool.so", "--no-pthreadpool", WEFT_RUN_BUILD_PTHREADPOOL},
  };
  std::size_t i = 0;
  for (; i < argv.size(); ++i) {
    if (argv[i] == "--") {
      ++i;
      break;
    }
    if (argv[i].empty() || argv[i][0] != '-') break;
    weft::tools::FlagAt at(argv, i);
    const std::string flag = at.name();
    auto value = [&] { return at.value(); };
    auto no_value = [&] { at.no_value(); };
    auto set = [&](const char* variable, const char* field, std::string text) {
      args.settings.push_back({variable, field, std::move(text), flag});
    };
    if (flag == "--threads") set("WEFT_NUM_THREADS", "num_threads", value());
    else if (flag == "--pinning") set("WEFT_PINNING", "pinning", value());
    else if (flag == "--cpuset") set("WEFT_CPUSET", "cpuset", value());
    else if (flag == "--partition") set("WEFT_PARTITION", "partition", value());
    else if (flag == "--reserved") set("WEFT_RESERVED_WORKERS", "reserved_workers", value());
    else if (flag == "--smt") no_value(), set("WEFT_USE_SMT", "use_smt", "1");
    else if (flag == "--metrics") set("WEFT_METRICS", "", value());
    else if (flag == "--trace") set("WEFT_TRACE", "", value());
    else if (flag == "--dry-run") no_value(), args.dry_run = true;
    else if (flag == "--verbose") no_value(), args.verbose = true;
    else if (flag == "--help" || flag == "-h") no_value(), args.help = true;
    else {
      bool matched = false;
      for (Library& library : args.libraries)
        if (flag == library.no_flag) no_value(), library.wanted = false, matched = true;
      if (!matched) throw UsageError{"unknown option '" + argv[i] + "'"};
    }
  }
  // An empty value would read as unset in the program, silently: say so here.
  for (const Setting& s : args.settings)
    if (s.value.empty()) throw UsageError{s.flag + " needs a value"};
  args.command.assign(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  if (args.command.empty() && !args.help) throw UsageError{"no program to run"};
  return args;
}

// The same reading and planning the program's weft will do, so that a bad value stops
// here, before the program starts, with the library's message.
void check_config(const std::vector<Setting>& settings) {
  try {
    const weft::Config config = weft::Config::from_env();
    weft::plan_placement(weft::Topology::probe(), config);
  } catch (const weft::ConfigError& e) {
    std::string message = e.what();
    for (const Setting& s : settings) {
      if (message.rfind(s.variable + ":", 0) == 0 ||
          (!s.field.empty() && message.rfind("Config::" + s.field + ":", 0) == 0)) {
        message += " (from " + s.flag + ")";
        break;
      }
    }
    throw RunError{message};
  }
}

std::optional<fs::path> own_directory() {
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return exe.parent_path();
}

bool same_directory(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

bool is_readable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && access(path.c_str(), R_OK) == 0;
}

// Installed, the libraries sit in <prefix>/<libdir> beside <prefix>/<bindir>/weft-run
// (WEFT_RUN_LIBDIR: the libdir relative to the bindir, or absolute), or in weft-run's
// own folder. Run from the build tree, each is where its target was built; that path
// is used only there, never by an installed copy.
fs::path find_library(const Library& library, std::string& looked_in) {
  std::vector<fs::path> candidates;
  if (const auto dir = own_directory()) {
    if (*library.build_path != '\0' && same_directory(*dir, WEFT_RUN_BUILD_DIR))
      candidates.emplace_back(library.build_path);
    const fs::path libdir(WEFT_RUN_LIBDIR);
    candidates.push_back((libdir.is_absolute() ? libdir : *dir / libdir) / library.file);
    candidates.push_back(*dir / library.file);
  } else {
    looked_in = "nowhere: /proc/self/exe, which says where weft-run is, cannot be read";
  }
  for (const fs::path& candidate : candidates) {
    if (is_readable_file(candidate)) return fs::absolute(candidate).lexically_normal();
    looked_in += looked_in.empty() ? "" : ", ";
    looked_in += candidate.lexically_normal().string();
  }
  return {};
}

// FNV-1a: a stable short name for a folder, not a security measure.
std::string short_hash(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

// The loader splits LD_PRELOAD at spaces and colons and expands '$' tokens, with no
// escape. A library whose path holds one of them (an install under "/opt/My Tools") is
// given through a symbolic link to its folder instead, in a folder only this user can
// write. The link is to the folder, not the file, so that the library's $ORIGIN RUNPATH
// (its libweft.so beside it) still resolves. Links are kept and reused: removing one
// after exec would pull it from under the program's own children.
bool loader_safe(const std::string& path) { return path.find_first_of(" \t\n:$") == std::string::npos; }

fs::path preloadable(const fs::path& library) {
  if (loader_safe(library.string())) return library;
  std::string base = "/tmp";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR");
      runtime != nullptr && runtime[0] == '/' && loader_safe(runtime))
    base = runtime;
  const std::string dir = base + "/weft-run-" + std::to_string(getuid());
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw RunError{"cannot create '" + dir + "' for a link to '" + library.string() +
                   "' (its path has a character LD_PRELOAD cannot hold): " +
                   std::strerror(errno)};
  // Another user could have made the folder first and filled it with their own links.
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
      (st.st_mode & 077) != 0)
    throw RunError{"'" + dir + "' is not a folder private to this user; weft-run needs one "
                   "for a link to '" + library.string() +
                   "' (its path has a character LD_PRELOAD cannot hold)"};
  const std::string target = library.parent_path().string();
  const std::string link = dir + "/" + short_hash(target);
  std::error_code ec;
  if (fs::read_symlink(link, ec) != fs::path(target) || ec) {
    // A fresh name then rename: concurrent weft-runs never see a half-made link.
    const std::string fresh = link + ".new" + std::to_string(getpid());
    unlink(fresh.c_str());
    if (symlink(target.c_str(), fresh.c_str()) != 0 || rename(fresh.c_str(), link.c_str()) != 0)
      throw RunError{"cannot make the link '" + link + "' -> '" + target +
                     "': " + std::strerror(errno)};
  }
  return fs::path(link) / library.filename();
}

// LD_PRELOAD after ours is added: the existing entries first, in their order, then each
// library not already among them (so nesting weft-run adds nothing twice).
std::string joined_preload(const std::vector<fs::path>& libraries) {
  const char* existing = std::getenv("LD_PRELOAD");
  std::string out = existing != nullptr ? existing : "";
  std::vector<std::string> entries;
  for (std::size_t begin = 0; begin <= out.size();) {
    const std::size_t end = std::min(out.find_first_of(" :", begin), out.size());
    if (end > begin) entries.push_back(out.substr(begin, end - begin));
    begin = end + 1;
  }
  for (const fs::path& library : libraries) {
    const std::string entry = library.string();
    if (std::find(entries.begin(), entries.end(), entry) != entries.end()) continue;
    if (!out.empty() && out.back() != ':' && out.back() != ' ') out += ':';
    out += entry;
    entries.push_back(entry);
  }
  return out;
}

std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=/.,:@%") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run(const Args& args) {
  std::vector<std::pair<std::string, std::string>> assigned;  // what the program gets
  for (const Setting& s : args.settings) {
    setenv(s.variable.c_str(), s.value.c_str(), 1);
    assigned.emplace_back(s.variable, s.value);
  }
  check_config(args.settings);

  std::vector<fs::path> preload;
  for (const Library& library : args.libraries) {
    if (!library.wanted) continue;
    std::string looked_in;
    const fs::path found = find_library(library, looked_in);
    if (found.empty())
      throw RunError{std::string(library.file) + " not found (looked in: " + looked_in +
                     "); build and install it beside weft-run, or pass " + library.no_flag +
                     " to run without it"};
    preload.push_back(preloadable(found));
  }
  if (!preload.empty()) {
    const std::string value = joined_preload(preload);
    setenv("LD_PRELOAD", value.c_str(), 1);
    assigned.emplace(assigned.begin(), "LD_PRELOAD", value);
  }

  if (args.dry_run || args.verbose) {
    // --dry-run prints what a shell would take; --verbose marks its lines as weft-run's.
    const std::string mark = args.dry_run ? "" : "weft-run: ";
    std::string text;
    for (const auto& [variable, value] : assigned) {
      text += mark;
      text += variable;
      text += '=';
      text += shell_quoted(value);
      text += '\n';
    }
    text += args.dry_run ? "" : "weft-run: exec ";
    for (std::size_t i = 0; i < args.command.size(); ++i) {
      if (i > 0) text += ' ';
      text += shell_quoted(args.command[i]);
    }
    (args.dry_run ? std::cout : std::cerr) << text << "\n" << std::flush;
    if (args.dry_run) return 0;
  }

  std::vector<char*> argv;
  for (const std::string& word : args.command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  const int error = errno;
  std::cerr << "weft-run: cannot run '" << args.command[0] << "': " << std::strerror(error)
            << "\n";
  return error == ENOENT || error == ENOTDIR ? exit_not_found : exit_cannot_execute;
}

}  // namespace

// The same frame as weft-probe's main (command_line.hpp's contract: --help, then
// UsageError exits 2), with this tool's own errors.
int main(int argc, char** argv) {
  try {
    const Args args = parse_args({argv + 1, argv + argc});
    if (args.help) {
      std::cout << usage_text;
      return 0;
    }
    return run(args);
  } catch (const UsageError& e) {
    std::cerr << "weft-run: " << e.message << "\nTry 'weft-run --help'.\n";
  } catch (const RunError& e) {
    std::cerr << "weft-run: " << e.message << "\n";
  } catch (const std::exception& e) {
    std::cerr << "weft-run: " << e.what() << "\n";
  }
  return exit_failure;
}
