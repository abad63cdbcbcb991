// weft::default_scheduler() and what happens to it across fork().
//
// Created on first use from Config::from_env(). It is never destroyed (its workers may
// be running tasks while static destructors run at exit; joining them there could
// deadlock), so tasks still queued when the process exits do not run.
//
// fork(): only the forking thread exists in the child, so the parent's workers are
// gone. A pthread_atfork child handler forgets the default scheduler (its object is
// leaked in the child: destroying it would join threads that do not exist) and the
// next default_scheduler() call in the child builds a fresh one. Other Scheduler
// objects are unusable in a child; do not touch them there.
//
// WEFT_METRICS=path / WEFT_TRACE=path: when the default scheduler has been created, an
// atexit handler writes its metrics (JSON; "-": the table on stderr) and its trace
// there. A child after fork writes to path.<pid> so it does not overwrite the parent's.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <utility>

#include "observe/trace_writer.hpp"
#include "sched/scheduler_core.hpp"
#include "topology/config_env.hpp"
#include "weft/scheduler.hpp"

namespace weft {

namespace {

std::atomic<Scheduler*> default_instance{nullptr};
std::mutex default_mutex;  // taken only to create, and around fork()

void before_fork() { default_mutex.lock(); }
void after_fork_in_parent() { default_mutex.unlock(); }
void after_fork_in_child() {
  // The forking thread held the mutex across fork(), so no creation is half done.
  default_instance.store(nullptr, std::memory_order_relaxed);  // leak: its threads are gone
  detail::this_thread_context() = detail::ThreadContext{};
  default_mutex.unlock();
}

// What to write at exit. Leaked on purpose: it must outlive static destructors, which
// may run before the atexit handler.
struct ExitReports {
  std::string metrics_path;
  std::string trace_path;
  pid_t pid = 0;  // the process that registered; a forked child adds its pid
};
ExitReports* exit_reports = nullptr;

std::string path_for_this_process(const std::string& path) {
  if (path == "-" || ::getpid() == exit_reports->pid) return path;
  return path + "." + std::to_string(::getpid());
}

// Never throws: it runs inside exit().
void write_reports_at_exit() noexcept {
  // acquire: as in default_scheduler(). In a child that never used weft this is null.
  Scheduler* s = default_instance.load(std::memory_order_acquire);
  if (s == nullptr || exit_reports == nullptr) return;
  if (!exit_reports->metrics_path.empty()) {
    try {
      const std::string path = path_for_this_process(exit_reports->metrics_path);
      if (path == "-") {
        std::fputs(s->metrics().to_string().c_str(), stderr);
      } else {
        detail::write_text_file(path, s->metrics().to_json());
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: WEFT_METRICS: %s\n", e.what());
    }
  }
  if (!exit_reports->trace_path.empty()) {
    try {
      s->write_trace(path_for_this_process(exit_reports->trace_path));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: WEFT_TRACE: %s\n", e.what());
    }
  }
}

// Once per process (a forked child inherits the registration and the paths).
void register_exit_reports() {
  detail::ExitReportPaths paths = detail::exit_report_paths_from_env();
  if (paths.metrics.empty() && paths.trace.empty()) return;
  exit_reports = new ExitReports{std::move(paths.metrics), std::move(paths.trace), ::getpid()};
  std::atexit(write_reports_at_exit);
}

// Takes default_mutex; `config` makes the scheduler when none exists, and `existing`
// decides what to do with one that does. Returns the default scheduler.
template <class MakeConfig, class OnExisting>
Scheduler& with_default(MakeConfig config, OnExisting existing) {
  static std::once_flag atfork_once;
  std::call_once(atfork_once,
                 [] { pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child); });
  std::lock_guard<std::mutex> lock(default_mutex);
  Scheduler* s = default_instance.load(std::memory_order_relaxed);  // relaxed: under the mutex
  if (s != nullptr) {
    existing(*s);
    return *s;
  }
  s = new Scheduler(config());  // a ConfigError leaves no default behind
  default_instance.store(s, std::memory_order_release);
  static std::once_flag exit_once;
  std::call_once(exit_once, register_exit_reports);
  return *s;
}

}  // namespace

Scheduler& default_scheduler() {
  // acquire: pairs with the release in with_default, so the scheduler is fully built.
  if (Scheduler* s = default_instance.load(std::memory_order_acquire)) return *s;
  return with_default([] { return Config::from_env(); }, [](Scheduler&) {});
}

void configure(const Config& config) {
  with_default([&config] { return config; }, [](Scheduler&) {
    throw SchedulerError(
        "configure: the default scheduler is already running (the first weft::parallel_for, "
        "weft::submit or default_scheduler() call made it) and cannot be replaced; call "
        "configure before that, or weft::set_num_threads to change its loop width");
  });
}

void set_num_threads(unsigned n) {
  with_default(
      [n] {
        Config config = Config::from_env();
        if (n != 0) config.num_threads = n;
        return config;
      },
      [n](Scheduler& s) { s.set_num_threads(n); });
}

}  // namespace weft
