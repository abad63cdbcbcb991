// weft-run: what the launched program gets (LD_PRELOAD by absolute, existing paths, the
// WEFT_* variables of its flags), its exit status, and weft-run's own failures. The
// program is weft-run-child (weft_run_child.c), which reports what it was started with.
//
// Set by tests/tools/weft_run.cmake: WEFT_RUN_EXE, WEFT_RUN_CHILD, WEFT_RUN_LIBDIR (the
// libdir relative to the bindir, as installed), WEFT_RUN_PTHREADPOOL_LIB and
// WEFT_RUN_GOMP_LIB (this build's libraries; "" when it has none).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.hpp"
#include "weft/config.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using weft::test::TempDir;

const bool have_gomp = WEFT_RUN_GOMP_LIB[0] != '\0';

struct Outcome {
  int status = -1;  // the exit status, or 128 + the signal that ended it
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs argv with this process's environment minus LD_PRELOAD and every WEFT_* and OMP_*
// variable (so the machine running the tests cannot change the outcome), plus `env`
// (a nullopt value unsets). Output goes through files: no pipe to fill up.
Outcome run(const std::vector<std::string>& argv,
            const std::map<std::string, std::optional<std::string>>& env = {}) {
  TempDir dir;
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (name == "LD_PRELOAD" || name.rfind("WEFT_", 0) == 0 || name.rfind("OMP_", 0) == 0 ||
        env.count(name) != 0)
      continue;
    environment.push_back(entry);
  }
  for (const auto& [name, value] : env)
    if (value) environment.push_back(name + "=" + *value);
  std::vector<char*> envp, args;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> words = argv;
  for (std::string& word : words) args.push_back(word.data());
  args.push_back(nullptr);
  const std::string out_path = (dir.path() / "out").string();
  const std::string err_path = (dir.path() / "err").string();

  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(200);
    execve(args[0], args.data(), envp.data());
    _exit(201);
  }
  Outcome outcome;
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    ADD_FAILURE() << "cannot run " << argv[0];
    return outcome;
  }
  outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.out = read_file(out_path);
  outcome.err = read_file(err_path);
  return outcome;
}

// weft-run's options that preload only the libraries this build has.
std::vector<std::string> weft_run(const std::string& exe = WEFT_RUN_EXE) {
  std::vector<std::string> argv{exe};
  if (!have_gomp) argv.push_back("--no-gomp");
  return argv;
}

std::vector<std::string> with(std::vector<std::string> argv,
                              const std::vector<std::string>& more) {
  argv.insert(argv.end(), more.begin(), more.end());
  return argv;
}

// The value after "key" on the line that starts with it ("" when there is none).
std::string line_value(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

std::vector<std::string> preload_entries(const std::string& out) {
  std::vector<std::string> entries;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("entry ", 0) == 0) entries.push_back(line.substr(6));
  return entries;
}

// The child's report shows every entry absolute and readable, and each library was
// loaded from the entry that names it.
void expect_preloaded(const Outcome& o, std::size_t expected_entries) {
  const std::vector<std::string> entries = preload_entries(o.out);
  ASSERT_EQ(entries.size(), expected_entries) << o.out << o.err;
  for (const std::string& entry : entries) EXPECT_NE(entry.find(" absolute=1 exists=1"), std::string::npos) << entry;
  EXPECT_NE(line_value(o.out, "pthreadpool_create: ").find("libweft_pthreadpool.so"),
            std::string::npos) << o.out;
  if (have_gomp) {
    EXPECT_NE(line_value(o.out, "omp_get_max_threads: ").find("libweft_gomp.so"),
              std::string::npos) << o.out;
  }
  // Nothing from the loader either: a preload it rejects is only a warning on stderr.
  EXPECT_EQ(o.err, "");
}

#ifdef WEFT_TEST_SANITIZED
// The preloaded libraries of a sanitizer build need its runtime loaded first, which a
// plain program does not do; the install tests cover the plain build.
#define SKIP_IF_SANITIZED() GTEST_SKIP() << "sanitizer build: its libraries cannot be preloaded"
#else
#define SKIP_IF_SANITIZED() (void)0
#endif

TEST(WeftRun, PreloadsLibrariesByAbsolutePathAndTheyWin) {
  SKIP_IF_SANITIZED();
  const Outcome o = run(with(weft_run(), {"--", WEFT_RUN_CHILD}));
  ASSERT_EQ(o.status, 0) << o.err;
  expect_preloaded(o, have_gomp ? 2 : 1);
  const std::vector<std::string> entries = preload_entries(o.out);
  const std::string first = entries.back().substr(0, entries.back().find(' '));
  EXPECT_TRUE(fs::equivalent(first, WEFT_RUN_PTHREADPOOL_LIB)) << first;
}

TEST(WeftRun, AsksForOpenMpLibraryByDefault) {
  const Outcome o = run({WEFT_RUN_EXE, "--dry-run", "--", WEFT_RUN_CHILD});
  if (have_gomp) {
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_NE(line_value(o.out, "LD_PRELOAD=").find("libweft_gomp.so"), std::string::npos);
  } else {
    // Without the library, the default is an error that says how to go on without it.
    EXPECT_EQ(o.status, 125);
    EXPECT_NE(o.err.find("weft-run: libweft_gomp.so not found (looked in: "), std::string::npos)
        << o.err;
    EXPECT_NE(o.err.find("pass --no-gomp"), std::string::npos) << o.err;
  }
}

TEST(WeftRun, NoFlagsLeaveLibrariesOut) {
  const Outcome o = run({WEFT_RUN_EXE, "--no-gomp", "--no-pthreadpool", "--dry-run", "true"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "true\n");  // no LD_PRELOAD line: nothing to set
}

TEST(WeftRun, AppendsToExistingPreloadOnce) {
  SKIP_IF_SANITIZED();  // the second run preloads the library into weft-run itself
  const std::string mine = fs::canonical(WEFT_RUN_PTHREADPOOL_LIB).string();
  Outcome o = run(with(weft_run(), {"--dry-run", "true"}),
                  {{"LD_PRELOAD", "/opt/other/libfirst.so"}});
  ASSERT_EQ(o.status, 0) << o.err;
  const std::string value = line_value(o.out, "LD_PRELOAD=");
  EXPECT_EQ(value.rfind("/opt/other/libfirst.so:", 0), 0U) << value;
  EXPECT_NE(value.find("libweft_pthreadpool.so"), std::string::npos) << value;
  // Run again inside itself (weft-run under weft-run): nothing is added twice.
  o = run(with(weft_run(), {"--dry-run", "true"}), {{"LD_PRELOAD", value}});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(line_value(o.out, "LD_PRELOAD="), value);
}

TEST(WeftRun, FlagsBecomeWeftVariables) {
  SKIP_IF_SANITIZED();
  const Outcome o =
      run(with(weft_run(), {"--threads", "1", "--pinning=none", "--smt", "--metrics", "-",
                            "--trace", "trace.json", WEFT_RUN_CHILD}),
          {{"WEFT_SPIN_US", "7"}});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("\nWEFT_NUM_THREADS=1\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nWEFT_PINNING=none\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nWEFT_USE_SMT=1\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nWEFT_METRICS=-\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nWEFT_TRACE=trace.json\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nWEFT_SPIN_US=7\n"), std::string::npos) << o.out;  // kept
}

TEST(WeftRun, ProgramArgumentsAndExitStatusPassThrough) {
  SKIP_IF_SANITIZED();
  for (const char* status : {"0", "3", "42"}) {
    const Outcome o = run(with(weft_run(), {"--", WEFT_RUN_CHILD, status}));
    EXPECT_EQ(o.status, std::atoi(status)) << o.err;
  }
  // Options after the program's name are the program's: python3 -c stays python's.
  const Outcome o = run(with(weft_run(), {"/bin/sh", "-c", "exit 9", "--threads", "x"}));
  EXPECT_EQ(o.status, 9) << o.err;
}

TEST(WeftRun, BadThreadsGivesTheLibrarysMessage) {
  // What the program's weft would raise for the same value.
  std::string expected;
  ASSERT_EQ(setenv("WEFT_NUM_THREADS", "x", 1), 0);
  try {
    weft::Config::from_env();
  } catch (const weft::ConfigError& e) {
    expected = e.what();
  }
  unsetenv("WEFT_NUM_THREADS");
  ASSERT_FALSE(expected.empty());
  const Outcome o = run(with(weft_run(), {"--threads", "x", WEFT_RUN_CHILD}));
  EXPECT_EQ(o.status, 125);
  EXPECT_EQ(o.out, "");  // the program never started
  EXPECT_EQ(o.err, "weft-run: " + expected + " (from --threads)\n");
}

TEST(WeftRun, BadValuesStopBeforeTheProgramStarts) {
  struct Case {
    std::vector<std::string> flags;
    std::map<std::string, std::optional<std::string>> env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--pinning", "socket"}, {}, "WEFT_PINNING: 'socket' is not one of none, core, pu, numa (from --pinning)"},
      {{"--cpuset", "0-"}, {}, "WEFT_CPUSET: '0-' is not a CPU list"},
      {{"--cpuset", "100000"}, {}, "Config::cpuset: '100000' holds no CPU this process may use"},
      {{"--partition", "4/4"}, {}, "WEFT_PARTITION: '4/4' is not a partition"},
      {{"--reserved", "4096"}, {}, "Config::reserved_workers: 4096 leaves no worker"},
      // Already in the environment, not from a flag: checked all the same.
      {{}, {{"WEFT_SPIN_US", "soon"}}, "WEFT_SPIN_US: 'soon' is not a non-negative integer"},
      {{}, {{"OMP_NUM_THREADS", "0"}}, "OMP_NUM_THREADS: '0' is not a positive integer"},
      {{"--threads"}, {}, "--threads needs a value"},
      {{"--threads="}, {}, "--threads needs a value"},
      {{"--smt=1"}, {}, "--smt takes no value"},
      {{"--bogus"}, {}, "unknown option '--bogus'"},
      {{"--no-gomp", "--"}, {}, "no program to run"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = with(weft_run(), c.flags);
    if (c.message != "no program to run" && c.flags != std::vector<std::string>{"--threads"})
      argv.push_back(WEFT_RUN_CHILD);
    const Outcome o = run(argv, c.env);
    EXPECT_EQ(o.status, 125) << c.message;
    EXPECT_EQ(o.out, "") << c.message;
    EXPECT_EQ(o.err.rfind("weft-run: " + c.message, 0), 0U) << o.err;
  }
}

TEST(WeftRun, MissingOrUnrunnableProgram) {
  Outcome o = run(with(weft_run(), {"weft-run-no-such-program", "arg"}));
  EXPECT_EQ(o.status, 127);
  EXPECT_EQ(o.err, "weft-run: cannot run 'weft-run-no-such-program': No such file or directory\n");
  TempDir dir;
  const std::string text = dir.write("not-a-program", "just text\n");
  o = run(with(weft_run(), {text}));
  EXPECT_EQ(o.status, 126);
  EXPECT_EQ(o.err, "weft-run: cannot run '" + text + "': Permission denied\n");
}

// weft-run copied to a folder with no library near it: it names what it looked for,
// where, and how to go on without it.
TEST(WeftRun, MissingLibraryIsAnError) {
  TempDir dir;
  const fs::path exe = dir.path() / "bin" / "weft-run";
  fs::create_directories(exe.parent_path());
  fs::copy_file(WEFT_RUN_EXE, exe);
  const Outcome o = run({exe.string(), "--no-gomp", WEFT_RUN_CHILD});
  EXPECT_EQ(o.status, 125);
  EXPECT_EQ(o.out, "");
  const std::string installed =
      (exe.parent_path() / WEFT_RUN_LIBDIR / "libweft_pthreadpool.so").lexically_normal().string();
  EXPECT_EQ(o.err, "weft-run: libweft_pthreadpool.so not found (looked in: " + installed + ", " +
                       (exe.parent_path() / "libweft_pthreadpool.so").string() +
                       "); build and install it beside weft-run, or pass --no-pthreadpool "
                       "to run without it\n");
}

// weft-run copied into the installed layout, <prefix>/bin and <prefix>/<libdir>, under a
// prefix whose path has a space (which LD_PRELOAD cannot hold). The libraries are the
// caller's to copy.
struct InstalledCopy {
  fs::path exe, libdir;
};
InstalledCopy install_weft_run(const TempDir& dir) {
  const fs::path exe = dir.path() / "my tools" / "bin" / "weft-run";
  const fs::path libdir = (exe.parent_path() / WEFT_RUN_LIBDIR).lexically_normal();
  fs::create_directories(exe.parent_path());
  fs::create_directories(libdir);
  fs::copy_file(WEFT_RUN_EXE, exe);
  return {exe, libdir};
}

// The installed layout, <prefix>/bin/weft-run and <prefix>/<libdir>/lib*.so, in a prefix
// whose path has a space (which LD_PRELOAD cannot hold) and reached through a symlink.
TEST(WeftRun, InstalledLayoutWithSpaceInPrefix) {
  SKIP_IF_SANITIZED();
  TempDir dir;
  const InstalledCopy copy = install_weft_run(dir);
  const fs::path& exe = copy.exe;
  const fs::path& libdir = copy.libdir;
  // In weft-run's order: OpenMP first, then pthreadpool.
  std::vector<fs::path> libraries;
  if (have_gomp) {
    libraries.push_back(libdir / "libweft_gomp.so");
    fs::copy_file(fs::canonical(WEFT_RUN_GOMP_LIB), libraries.back());
  }
  libraries.push_back(libdir / "libweft_pthreadpool.so");
  fs::copy_file(fs::canonical(WEFT_RUN_PTHREADPOOL_LIB), libraries.back());
  fs::create_directory_symlink(exe.parent_path(), dir.path() / "bin-link");
  const fs::path runtime_dir = dir.path() / "run";
  fs::create_directory(runtime_dir);
  const Outcome o = run(with(weft_run((dir.path() / "bin-link" / "weft-run").string()),
                             {WEFT_RUN_CHILD}),
                        {{"XDG_RUNTIME_DIR", runtime_dir.string()}});
  ASSERT_EQ(o.status, 0) << o.err;
  expect_preloaded(o, libraries.size());
  // Each entry is a link, free of spaces, to the library in the prefix.
  const std::vector<std::string> entries = preload_entries(o.out);
  for (std::size_t i = 0; i < libraries.size(); ++i) {
    const std::string path = entries[i].substr(0, entries[i].find(' '));
    EXPECT_EQ(path.find(' '), std::string::npos) << path;
    EXPECT_EQ(path.rfind(runtime_dir.string(), 0), 0U) << path;
    EXPECT_TRUE(fs::equivalent(path, libraries[i])) << path;
  }
  // The link folder is this user's alone.
  struct stat st {};
  ASSERT_EQ(lstat((runtime_dir / ("weft-run-" + std::to_string(getuid()))).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0U);
  // A second run reuses the link.
  EXPECT_EQ(run(with(weft_run((dir.path() / "bin-link" / "weft-run").string()), {WEFT_RUN_CHILD}),
                {{"XDG_RUNTIME_DIR", runtime_dir.string()}})
                .out,
            o.out);
}

TEST(WeftRun, RefusesASharedLinkFolder) {
  TempDir dir;
  const InstalledCopy copy = install_weft_run(dir);
  const fs::path& exe = copy.exe;
  const fs::path& libdir = copy.libdir;
  fs::copy_file(fs::canonical(WEFT_RUN_PTHREADPOOL_LIB), libdir / "libweft_pthreadpool.so");
  const fs::path runtime_dir = dir.path() / "run";
  const fs::path links = runtime_dir / ("weft-run-" + std::to_string(getuid()));
  fs::create_directories(links);
  chmod(links.c_str(), 0777);  // as if someone else could have put links in it
  const Outcome o = run({exe.string(), "--no-gomp", "--dry-run", "true"},
                        {{"XDG_RUNTIME_DIR", runtime_dir.string()}});
  EXPECT_EQ(o.status, 125);
  EXPECT_EQ(o.err.rfind("weft-run: '" + links.string() + "' is not a folder private to this user", 0),
            0U) << o.err;
}

}  // namespace
