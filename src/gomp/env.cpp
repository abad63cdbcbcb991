// The OpenMP environment (OMP_*), read once, and weft's default scheduler set up from it.
//
// Team sizes: nthreads-var starts at OMP_NUM_THREADS (its first value) or weft's thread
// count, and a team never has more threads than weft's scheduler (the thread limit).
// weft's own Config::from_env already takes OMP_NUM_THREADS, OMP_PROC_BIND and
// OMP_PLACES when WEFT_NUM_THREADS / WEFT_PINNING are unset; here we add OMP_WAIT_POLICY
// (how long waits spin: 1 ms unset, 10 ms active, 0 passive; WEFT_SPIN_US wins) and
// OMP_THREAD_LIMIT (caps weft's thread count). A value we cannot read is a fatal error
// naming it (libgomp would warn and use a default): an OpenMP program deserves to know
// its setting was not applied.
#include <strings.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "gomp/runtime.hpp"
#include "weft/scheduler.hpp"

namespace weft::gomp {

void fatal(const char* what) {
  std::fprintf(stderr, "libweft_gomp: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

namespace {

[[noreturn]] void bad_env(const char* name, const char* value, const char* expected) {
  std::string msg = std::string(name) + "='" + value + "' is not " + expected;
  fatal(msg.c_str());
}

unsigned parse_count(const char* name, const char* text, const char** rest = nullptr) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || v == 0 || v > 1u << 20) bad_env(name, text, "a positive number");
  if (rest != nullptr) {
    *rest = end;
  } else if (*end != '\0') {
    bad_env(name, text, "a positive number");
  }
  return static_cast<unsigned>(v);
}

// weft's one boolean reader (true, false, 1, 0, any case: what OpenMP allows and more).
bool parse_bool(const char* name, const char* text) {
  try {
    return weft::parse_bool(text, name);
  } catch (const ConfigError& e) {
    fatal(e.what());
  }
}

void parse_schedule(const char* text, Icvs& icvs) {
  std::string s = text;
  for (const char* prefix : {"monotonic:", "nonmonotonic:"}) {
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::strlen(prefix));
  }
  const std::size_t comma = s.find(',');
  const std::string kind = s.substr(0, comma);
  if (strcasecmp(kind.c_str(), "static") == 0) {
    icvs.run_sched = Schedule::static_;
  } else if (strcasecmp(kind.c_str(), "dynamic") == 0) {
    icvs.run_sched = Schedule::dynamic;
  } else if (strcasecmp(kind.c_str(), "guided") == 0) {
    icvs.run_sched = Schedule::guided;
  } else if (strcasecmp(kind.c_str(), "auto") == 0) {
    icvs.run_sched = Schedule::auto_;
  } else {
    bad_env("OMP_SCHEDULE", text, "static|dynamic|guided|auto[,chunk]");
  }
  // OpenMP: the default chunk is 0 for static (one block per thread), 1 otherwise.
  icvs.run_chunk = icvs.run_sched == Schedule::static_ ? 0 : 1;
  if (comma != std::string::npos) {
    icvs.run_chunk = parse_count("OMP_SCHEDULE", s.c_str() + comma + 1);
  }
}

Config config_from_env() {
  // Config::from_env maps OMP_PLACES' abstract names (cores, threads, ...) to a pinning
  // and says so in env_origins; an explicit list it ignores, which matters unless
  // WEFT_PINNING decided or OMP_PROC_BIND unbinds.
  if (const char* places = std::getenv("OMP_PLACES")) {
    bool moot = false;
    for (const std::string& line : Config::env_origins()) {
      if (line.rfind("pinning = ", 0) != 0) continue;
      moot = line.rfind("pinning = none", 0) == 0 ||
             line.find("(OMP_PLACES=") != std::string::npos ||
             line.find("(WEFT_PINNING=") != std::string::npos;
    }
    if (!moot)
      std::fprintf(stderr, "libweft_gomp: OMP_PLACES='%s': explicit place lists are not "
                   "followed; weft's placement is used\n", places);
  }
  // How long waits spin before they sleep: workers between regions, members at
  // barriers. OpenMP programs run region after region, and a sleeping member makes the
  // next region (or barrier) pay a wake-up, which on a loaded machine is a trip through
  // the run queue behind other processes. So the default is libgomp's order of
  // magnitude (its default spin count is some milliseconds of pauses), not weft's 50 us
  // for tasks; WEFT_SPIN_US, when set, wins over both (from_env applies it on top).
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy != nullptr && strcasecmp(policy, "active") != 0 &&
      strcasecmp(policy, "passive") != 0) {
    bad_env("OMP_WAIT_POLICY", policy, "active or passive");
  }
  Config defaults;
  // Background workers as weft's default (low regions' members at the idle class, so
  // any urgent thread takes their CPU), except next to OpenBLAS's OpenMP build, whose
  // process-wide buffer turns them into a priority inversion (blas_probe.cpp). Checked
  // once, here, at the first OpenMP call: by then a program's BLAS is normally loaded
  // (PyTorch's is a dependency of libtorch_cpu). WEFT_BACKGROUND_WORKERS overrides both.
  // Measured with PyTorch, two models in one process (docs/weft-run.md): with BLIS, the
  // critical model's p99 beside the low one 1.7 ms with them against 13-15 ms without.
  if (openmp_openblas_loaded()) defaults.background_workers = 0;
  if (policy == nullptr) {
    defaults.spin = std::chrono::microseconds(1000);
  } else if (strcasecmp(policy, "active") == 0) {
    defaults.spin = std::chrono::microseconds(10000);
  } else {
    defaults.spin = std::chrono::microseconds(0);
  }
  Config cfg = Config::from_env(defaults);
  if (const char* limit = std::getenv("OMP_THREAD_LIMIT")) {
    const unsigned n = parse_count("OMP_THREAD_LIMIT", limit);
    if (cfg.num_threads == 0 || cfg.num_threads > n) cfg.num_threads = n;
  }
  return cfg;
}

Settings& load() {
  static Settings s;
  Config cfg;
  try {
    cfg = config_from_env();
    // The application may have made weft's default scheduler already (it uses weft
    // itself): then that one, as it is, serves the OpenMP regions too.
    try {
      weft::configure(cfg);
    } catch (const SchedulerError&) {
    }
  } catch (const std::exception& e) {
    fatal(e.what());
  }
  s.spin_ns = static_cast<long>(cfg.spin.count()) * 1000;
  s.initial.nthreads = weft::default_scheduler().num_threads();
  if (const char* v = std::getenv("OMP_NUM_THREADS")) {
    const char* p = v;
    while (*p != '\0' && s.nthreads_levels < 8) {
      s.nthreads_list[s.nthreads_levels++] = parse_count("OMP_NUM_THREADS", p, &p);
      if (*p == ',') {
        ++p;
      } else if (*p != '\0') {
        bad_env("OMP_NUM_THREADS", v, "a list of positive numbers");
      }
    }
    if (s.nthreads_levels > 0) s.initial.nthreads = s.nthreads_list[0];
  }
  if (const char* v = std::getenv("OMP_DYNAMIC")) s.initial.dynamic = parse_bool("OMP_DYNAMIC", v);
  if (const char* v = std::getenv("OMP_SCHEDULE")) parse_schedule(v, s.initial);
  // libgomp's default: one active level, more when OMP_NESTED or a list asks for it.
  unsigned levels = s.nthreads_levels > 1 ? s.nthreads_levels : 1;
  if (const char* v = std::getenv("OMP_NESTED")) levels = parse_bool("OMP_NESTED", v) ? 255 : 1;
  if (const char* v = std::getenv("OMP_MAX_ACTIVE_LEVELS")) {
    const char* p = v;
    levels = std::strcmp(v, "0") == 0 ? 0 : parse_count("OMP_MAX_ACTIVE_LEVELS", p);
  }
  s.max_active_levels.store(levels, std::memory_order_relaxed);  // relaxed: before threads
  if (const char* v = std::getenv("OMP_THREAD_LIMIT")) {
    s.thread_limit = parse_count("OMP_THREAD_LIMIT", v);
  }
  if (const char* v = std::getenv("OMP_CANCELLATION")) s.cancellation = parse_bool("OMP_CANCELLATION", v);
  if (const char* v = std::getenv("OMP_WAIT_POLICY")) {
    s.wait_policy = strcasecmp(v, "active") == 0 ? 1 : 2;
  }
  if (const char* v = std::getenv("OMP_PROC_BIND")) {
    // omp_proc_bind_t: false 0, true 1, primary/master 2, close 3, spread 4.
    const std::string first = std::string(v).substr(0, std::string(v).find(','));
    static const char* const names[] = {"false", "true", "master", "close", "spread"};
    for (unsigned i = 0; i < 5; ++i) {
      if (strcasecmp(first.c_str(), names[i]) == 0) s.initial.bind = i;
    }
    if (strcasecmp(first.c_str(), "primary") == 0) s.initial.bind = 2;
  }
  return s;
}

}  // namespace

Settings& settings() {
  // Thread-safe once (a function-local static); every entry point that needs a setting
  // or the scheduler comes through here first.
  static Settings& s = load();
  return s;
}

unsigned weft_threads() {
  settings();
  return weft::default_scheduler().num_threads();
}

}  // namespace weft::gomp
