// weft-probe's flags and the WEFT_* variables they mirror go through the same parsers:
// every spelling one accepts the other accepts, every one it rejects the other rejects.
// WEFT_PROBE_EXE (tests/topology/CMakeLists.txt) is the weft-probe this build made.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "topology/topology_test_util.hpp"

namespace weft {
namespace {

// weft-probe's exit status for `flag=value` on a small synthetic machine, run with an
// empty environment (no WEFT_* from the machine running the tests) and no output.
int probe_status(const std::string& flag, const std::string& value) {
  std::string exe = WEFT_PROBE_EXE, machine = "--synthetic=pack:1 core:8 pu:2",
              setting = flag + "=" + value;
  char* argv[] = {exe.data(), machine.data(), setting.data(), nullptr};
  char* envp[] = {nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) _exit(200);
    execve(argv[0], argv, envp);
    _exit(201);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool from_env_accepts(const char* variable, const std::string& value) {
  test::EnvGuard env;
  env.set(variable, value.c_str());
  try {
    Config::from_env();
    return true;
  } catch (const ConfigError&) {
    return false;
  }
}

TEST(TopologyProbeSpellings, FlagsAndVariablesAgree) {
  struct Case {
    const char* flag;
    const char* variable;
    std::vector<std::string> values;
  };
  // Values that plan on the 8-core machine when they read, so that weft-probe's status
  // (0 read and planned, 2 bad flag) tells the reading alone.
  const Case cases[] = {
      {"--threads", "WEFT_NUM_THREADS",
       {"4", "04", "0", "-1", "+4", " 4", "4x", "0x4", "4.0", "99999999999"}},
      {"--reserved", "WEFT_RESERVED_WORKERS", {"1", "01", "-1", "one", "1 "}},
      {"--pinning", "WEFT_PINNING", {"core", "CORE", "Pu", "none", "numa", "socket", "cores", " core"}},
      {"--partition", "WEFT_PARTITION",
       {"1/2", "01/2", "0/1", "2/2", "1/0", "1-2", "a/2", "1/2/3", "/2", "1/", "-1/2"}},
      {"--cpuset", "WEFT_CPUSET", {"0-3", "0-3,8", "5", "0-", "a", "3-1", "0,,1"}},
  };
  for (const Case& c : cases) {
    for (const std::string& value : c.values) {
      const bool env_ok = from_env_accepts(c.variable, value);
      const int status = probe_status(c.flag, value);
      EXPECT_TRUE(status == 0 || status == 2) << c.flag << "=" << value << ": status " << status;
      EXPECT_EQ(env_ok, status == 0)
          << c.variable << "='" << value << "' " << (env_ok ? "accepted" : "rejected") << " but "
          << c.flag << "='" << value << "' gave status " << status;
    }
  }
}

}  // namespace
}  // namespace weft
