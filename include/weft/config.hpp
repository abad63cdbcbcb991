// weft::Config — every knob of a scheduler in one struct.
//
// Defaults live here, in the class; `Config::from_env()` applies WEFT_* overrides;
// `plan_placement()` and `Scheduler` validate (one check, src/topology/config_check.cpp)
// and raise ConfigError for bad values; `Scheduler::config()` shows what it runs with.
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/export.hpp"

namespace weft {

// Invalid configuration or input. The message names the field and the bad value,
// e.g. "WEFT_CPUSET: '0-' is not a CPU list".
class WEFT_EXPORT ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// How a worker thread is bound to the machine.
enum class Pinning {
  none,  // not bound: the OS places it
  core,  // bound to all PUs (SMT siblings) of one core
  pu,    // bound to one PU
  numa,  // bound to every PU of its NUMA node
};

// Task urgency, lowest first. A worker always takes the most urgent task it can see.
enum class Priority : unsigned char {
  low,       // background optimisation, batch scoring
  normal,    // data preparation
  high,      // checkpointing, training steps
  critical,  // live inference
};
inline constexpr unsigned num_priorities = 4;

// What submit() does when Config::max_queued tasks are queued and not yet started
// (docs/reliability.md, "Guarantees"). Only submits from threads that are not running
// one of the scheduler's tasks are refused or held: a task's own spawns are always
// accepted.
enum class QueuePolicy {
  unbounded,  // no limit; nothing is counted (max_queued must stay 0)
  block,      // the submitting thread waits until a worker starts a queued task
  reject,     // submit raises weft::QueueFullError and does not take the task
};

// The most Config::background_workers a scheduler takes: more is a typo (each is a
// thread with its own stack).
inline constexpr unsigned max_background_workers = 1024;

// The most spans Config::trace_capacity keeps per worker: 16M x 40 B is 640 MB per
// worker, already more than anyone means.
inline constexpr std::size_t max_trace_capacity = std::size_t{1} << 24;

// The longest Config::spin and Config::spin_max, in microseconds (an hour): a longer
// spin is a typo, and the bound keeps the deadline arithmetic in range.
inline constexpr unsigned long long max_spin_us = 3'600'000'000ULL;

// One of `count` disjoint slices of the machine, for N processes on one box.
struct Partition {
  unsigned index = 0;
  unsigned count = 1;
};

struct WEFT_EXPORT Config {
  // Threads that run a loop, the calling thread included (as OMP_NUM_THREADS).
  // weft creates num_threads - 1 workers, at least one. 0: one per usable core.
  unsigned num_threads = 0;
  // Unset: bind workers to cores only when this process owns its CPUs, i.e. a partition
  // is set (or taken from the launcher), `cpuset` is set, or the affinity mask / cgroup
  // cpuset is narrower than the machine (taskset, numactl, Kubernetes' static CPU
  // manager); otherwise leave them unbound, so that two processes sharing a machine do
  // not pile onto the same cores. Set: exactly this. Placement::pinning_reason says why.
  std::optional<Pinning> pinning;
  // Restricts weft to these OS processor ids, e.g. "0-3,8,10-11". Empty: all allowed.
  std::string cpuset;
  // This process's slice of the machine. Unset: the whole usable machine.
  std::optional<Partition> partition;
  // The last N workers run only high and critical work. Must leave one worker.
  unsigned reserved_workers = 0;
  // Wall time an idle worker spins looking for work before it parks. 0 is allowed, and
  // turns spinning off altogether.
  std::chrono::microseconds spin{50};
  // How far a worker's spin grows while work keeps arriving soon after it parks: a
  // worker woken within spin_max of running out of work spins up to that gap (plus a
  // quarter) next time, so a steady request stream finds its workers awake; after the
  // last burst each worker spins at most this long before it sleeps. Preemption still
  // halves the spin, and it never runs past Config::spin while a background worker is
  // busy (it would take that worker's CPU). At or below `spin`: no growth.
  std::chrono::microseconds spin_max{5000};
  // Put threads on SMT siblings as well as on cores when num_threads is 0.
  bool use_smt = false;

  // Elastic loops (docs/elastic.md). When on, a monitor thread
  // samples every 100 ms how long the workers waited for a CPU and whether the cgroup
  // quota throttled the process, and re-reads the CPU budget (affinity mask, quota)
  // every second: loops invite fewer threads while the process is oversubscribed or
  // throttled, more as the pressure goes, and follow a budget that changed. Off by
  // default: a loop width that changes from call to call loses the stable shares'
  // cache reuse and makes runs less repeatable; turn it on where the machine is shared
  // or the quota tight. Metrics::adaptive_* show each change and why.
  bool adaptive = false;               // WEFT_ADAPTIVE=0|1|true|false
  // The fewest workers loops keep inviting under pressure (the caller always runs);
  // at most the number of workers.
  unsigned min_workers = 0;            // WEFT_MIN_WORKERS=N

  // Priority serving (docs/priorities.md).
  // Background workers: threads created once at the OS's idle class (SCHED_IDLE; nice 19
  // where that is refused) that run all low-priority work, while the other workers take
  // only normal, high and critical work and park while only low work exists. The kernel
  // then gives a core to any other thread of the machine (a request thread weft did not
  // create, a worker woken for urgent work) the moment it wakes, in the middle of a low
  // chunk, with no privilege and no syscall per task. A low parallel loop started by a
  // thread that is not one of them runs entirely on them (the caller sleeps until it is
  // done, or runs normal and urgent work meanwhile if it is a worker).
  // Unset (auto, the default): as many as a loop has threads (num_threads), so a low
  // loop is as wide as any other on an otherwise idle machine. 0: off (low work runs on
  // the ordinary workers, and only background_nice and the preemption points separate
  // it from urgent work). At most 1024 (ConfigError naming the field and value).
  std::optional<unsigned> background_workers;  // WEFT_BACKGROUND_WORKERS=N|auto
  // Nice value (1..19) a worker thread takes while it runs a stretch of low-priority
  // work, so that the OS hands the CPU to urgent threads (a request thread, a worker
  // running critical work) at once. 0: off. Costs one setpriority() syscall when a
  // worker enters a low stretch and one when it leaves (not per task). Restoring needs
  // CAP_SYS_NICE or RLIMIT_NICE; without either the scheduler leaves it off
  // (Scheduler::background_nice_active() says which). Only with background_workers = 0:
  // background workers are at the idle class already, which no nice value goes below.
  int background_nice = 0;             // WEFT_BACKGROUND_NICE=N
  // Starvation guard (a minimum share): after this many picks of more urgent work in
  // a row, a worker takes the lowest-level work it can see first, once. 0: off.
  unsigned aging_period = 64;          // WEFT_AGING_PERIOD=N

  // Backpressure (docs/reliability.md, "Guarantees"). With block or reject, at most
  // max_queued tasks submitted from outside the scheduler wait unstarted at once (its
  // own tasks' spawns are always accepted and counted). Counting costs two atomic RMWs on one shared
  // counter per task (queue, start); unbounded counts nothing and costs nothing.
  // block and reject need max_queued > 0; unbounded needs 0 (ConfigError otherwise).
  QueuePolicy queue_policy = QueuePolicy::unbounded;  // WEFT_QUEUE_POLICY=unbounded|block|reject
  std::size_t max_queued = 0;                         // WEFT_MAX_QUEUED=N

  // Observability (Scheduler::metrics(), write_trace()).
  // Count per-worker metrics: a relaxed load+store per task and steal, one clock read
  // per idle/busy transition. false skips every hook: metrics() then reports the
  // window with zero counts and all time as busy, and nothing is traced (for
  // measuring what metrics cost).
  bool metrics = true;                 // WEFT_METRICS_ENABLED=0|1|true|false
  // Read the workers' hardware counters (cache references/misses, instructions; user
  // space) with perf_event_open. Unavailable in many VMs and containers: the metrics
  // then show them as unavailable (WEFT_PERF_EVENTS=0 forces that).
  bool hardware_counters = false;      // WEFT_HARDWARE_COUNTERS=0|1|true|false
  // Spans kept per worker, and per calling thread that runs weft work (up to 8 such
  // lanes), for Scheduler::write_trace() (40 bytes each; the oldest is
  // overwritten when full). 0: tracing off, no clock read per task. At most
  // max_trace_capacity.
  std::size_t trace_capacity = 0;      // WEFT_TRACE_CAPACITY=N (65536 when WEFT_TRACE is set)

  // Defaults plus overrides from WEFT_NUM_THREADS (else OMP_NUM_THREADS, its first
  // value), WEFT_PINNING (none|core|pu|numa, any case; else OMP_PROC_BIND and OMP_PLACES:
  // OMP_PROC_BIND=false unbinds; else OMP_PLACES cores/ll_caches, threads or
  // sockets/numa_domains bind to a core, a PU or a NUMA node; else OMP_PROC_BIND
  // true/close/spread/primary/master binds to cores),
  // WEFT_CPUSET, WEFT_PARTITION ("1/4"), WEFT_RESERVED_WORKERS, WEFT_BACKGROUND_WORKERS,
  // WEFT_BACKGROUND_NICE, WEFT_AGING_PERIOD, WEFT_SPIN_US, WEFT_SPIN_MAX_US and
  // WEFT_USE_SMT (0|1|true|false), WEFT_ADAPTIVE, WEFT_MIN_WORKERS, WEFT_METRICS_ENABLED,
  // WEFT_HARDWARE_COUNTERS,
  // WEFT_TRACE_CAPACITY, WEFT_QUEUE_POLICY and WEFT_MAX_QUEUED (see the fields;
  // WEFT_MAX_QUEUED alone implies block). Booleans read 0|1|true|false in any case.
  // WEFT_PERF_EVENTS (a boolean; 0 keeps every scheduler off the PMU) is checked too.
  // Without WEFT_PARTITION, the partition comes from the launcher when it set one: OMPI_COMM_WORLD_LOCAL_RANK/_SIZE (Open MPI),
  // SLURM_LOCALID/SLURM_NTASKS_PER_NODE (Slurm), LOCAL_RANK/LOCAL_WORLD_SIZE (torchrun).
  // Raises ConfigError naming the variable and its value.
  static Config from_env();
  // The same overrides applied to `defaults` instead of Config{}: a variable that is set
  // wins over the default it replaces, an unset one leaves it (libweft_gomp starts from
  // its own spin default this way, which WEFT_SPIN_US still overrides).
  static Config from_env(Config defaults);
  // What from_env() took from the environment, one line per field a variable decided,
  // e.g. "num_threads = 1 (OMP_NUM_THREADS=1, WEFT_NUM_THREADS unset)". weft-probe
  // prints them. Raises as from_env() does.
  static std::vector<std::string> env_origins();
};

// The value readers Config::from_env uses, for programs and tools that take the same
// values from elsewhere (weft-probe's flags): each accepts exactly the spellings the
// WEFT_* variable accepts and raises ConfigError naming `field` and the text otherwise.

// "none" | "core" | "pu" | "numa", in any case.
WEFT_EXPORT Pinning parse_pinning(const std::string& text, const std::string& field);
// "I/N" with I < N, e.g. "1/4": slice 1 of 4.
WEFT_EXPORT Partition parse_partition(const std::string& text, const std::string& field);
// "0" | "1" | "true" | "false", in any case.
WEFT_EXPORT bool parse_bool(const std::string& text, const std::string& field);
// Decimal digits only (no sign, space or suffix), at most `max`.
WEFT_EXPORT unsigned long long parse_number(
    const std::string& text, const std::string& field,
    unsigned long long max = std::numeric_limits<unsigned>::max());

// "none" | "core" | "pu" | "numa"
WEFT_EXPORT const char* to_string(Pinning pinning);
WEFT_EXPORT const char* to_string(Priority priority);
// "unbounded" | "block" | "reject"
WEFT_EXPORT const char* to_string(QueuePolicy policy);

}  // namespace weft
