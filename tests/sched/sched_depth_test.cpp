// Wait depth: chains of tasks each waiting on the next, far deeper than a stack could
// nest, complete with the right result (src/sched/deep_wait.cpp), via Future and via
// TaskGroup, from workers and from other threads, with one worker or several.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sched/scheduler_core.hpp"
#include "sched_test_support.hpp"
#include "weft/task_group.hpp"

namespace {

using weft::test::make_placement;
using weft::test::unpinned;

// 100000 links in a plain build, 20000 under a sanitizer (both far past what one stack
// holds: a few thousand links under ASan, tens of thousands in release).
const std::size_t chain_length = weft::test::sanitized ? 20000 : 100000;

// Runs `body` on a thread of its own and waits for it at most `limit`: a hang fails
// with a message instead of hanging the suite (the process ends, since a hung body
// cannot be stopped). Not a speed check: the limit is minutes.
template <class Body>
void bounded(const char* what, Body body, std::chrono::seconds limit = std::chrono::seconds(240)) {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::thread runner([&] {
    body();
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  if (!cv.wait_for(lock, limit, [&] { return done; })) {
    std::fprintf(stderr, "FAILED: %s did not finish within %lld s; it is hung\n", what,
                 static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  lock.unlock();
  runner.join();
}

// Link k submits link k+1 and waits on it; the last link returns its own index, so the
// root returns n - 1 only if every link ran and passed the result back.
struct Chain {
  weft::Scheduler& sched;
  std::size_t n;
  // Optional per-link records: the thread a link ran on, and an address in its frame.
  std::vector<std::thread::id>* threads = nullptr;
  std::vector<std::uintptr_t>* frames = nullptr;

  void record(std::size_t k) {
    volatile char here = 0;
    if (threads != nullptr) (*threads)[k] = std::this_thread::get_id();
    if (frames != nullptr) (*frames)[k] = reinterpret_cast<std::uintptr_t>(&here);
  }
  std::size_t by_future(std::size_t k) {
    record(k);
    if (k + 1 == n) return k;
    weft::Future<std::size_t> next = sched.submit([this, k] { return by_future(k + 1); });
    return next.get();
  }
  // A link with a 4 KiB frame: the stack, not the depth, limits how many nest.
  std::size_t by_future_padded(std::size_t k) {
    volatile char pad[4096];
    pad[0] = 0;
    pad[sizeof pad - 1] = 0;
    record(k);
    if (k + 1 == n) return k;
    weft::Future<std::size_t> next = sched.submit([this, k] { return by_future_padded(k + 1); });
    return next.get() + static_cast<std::size_t>(pad[0] + pad[sizeof pad - 1]);
  }
  std::size_t by_group(std::size_t k) {
    record(k);
    if (k + 1 == n) return k;
    std::size_t result = 0;
    weft::TaskGroup g(sched);
    g.run([this, k, &result] { result = by_group(k + 1); });
    g.wait();
    return result;
  }
};

TEST(SchedDepth, FutureChainFromATaskOnOneWorker) {
  weft::Scheduler s(make_placement(1), unpinned());
  Chain chain{s, chain_length};
  bounded("future chain", [&] {
    EXPECT_EQ(s.submit([&] { return chain.by_future(0); }).get(), chain_length - 1);
  });
}

TEST(SchedDepth, GroupChainFromATaskOnOneWorker) {
  weft::Scheduler s(make_placement(1), unpinned());
  Chain chain{s, chain_length};
  bounded("group chain", [&] {
    EXPECT_EQ(s.submit([&] { return chain.by_group(0); }).get(), chain_length - 1);
  });
}

TEST(SchedDepth, ChainsFromAThreadThatIsNotAWorker) {
  weft::Scheduler s(make_placement(1), unpinned());
  Chain chain{s, chain_length};
  bounded("chains from an external thread", [&] {
    EXPECT_EQ(chain.by_future(0), chain_length - 1);
    EXPECT_EQ(chain.by_group(0), chain_length - 1);
  });
}

// Every worker deep in a chain of its own at once: none is free, and all complete.
TEST(SchedDepth, EveryWorkerDeepAtOnce) {
  constexpr unsigned workers = 3;
  weft::Scheduler s(make_placement(workers), unpinned());
  Chain chain{s, chain_length / 2};
  bounded("concurrent chains", [&] {
    std::vector<weft::Future<std::size_t>> roots;
    for (unsigned w = 0; w < workers; ++w) {
      weft::TaskOptions o;
      o.worker = static_cast<int>(w);
      roots.push_back(s.submit(
          [&chain, w] { return w % 2 == 0 ? chain.by_future(0) : chain.by_group(0); }, o));
    }
    for (auto& root : roots) EXPECT_EQ(root.get(), chain.n - 1);
  });
}

// A node spawns `width` children in a group: the first goes on deeper, the others are
// small full binary trees; both kinds wait on their children.
struct Comb {
  static constexpr unsigned width = 4;
  static constexpr unsigned bush_height = 2;  // 7 nodes
  weft::Scheduler& sched;
  std::size_t depth;

  std::size_t bush(unsigned height) {
    if (height == 0) return 1;
    std::size_t left = 0, right = 0;
    weft::TaskGroup g(sched);
    g.run([&] { left = bush(height - 1); });
    g.run([&] { right = bush(height - 1); });
    g.wait();
    return 1 + left + right;
  }
  std::size_t node(std::size_t d) {
    if (d == depth) return 1;
    std::array<std::size_t, width> counts{};
    weft::TaskGroup g(sched);
    for (unsigned c = 0; c < width; ++c) {
      g.run([this, d, c, &counts] { counts[c] = c == 0 ? node(d + 1) : bush(bush_height); });
    }
    g.wait();
    std::size_t total = 1;
    for (std::size_t n : counts) total += n;
    return total;
  }
  std::size_t expected() const {
    const std::size_t bush_nodes = (std::size_t{2} << bush_height) - 1;
    return depth * (1 + (width - 1) * bush_nodes) + 1;
  }
};

TEST(SchedDepth, WideAndDeepTree) {
  for (unsigned workers : {1u, 3u}) {
    weft::Scheduler s(make_placement(workers), unpinned());
    Comb comb{s, weft::test::sanitized ? 4000 : 20000};
    bounded("wide and deep tree", [&] {
      EXPECT_EQ(s.submit([&] { return comb.node(0); }).get(), comb.expected())
          << workers << " workers";
    });
  }
}

// The bound itself: links that run one after the other on the same thread are nested
// on its stack (each waits for the next), so no such run may be longer than
// max_inline_depth, nor span more than half of the thread's stack.
TEST(SchedDepth, NoThreadNestsMoreThanTheLimit) {
  weft::Scheduler s(make_placement(1), unpinned());
  const std::size_t n = 3 * weft::detail::max_inline_depth + 100;
  std::vector<std::thread::id> threads(n);
  std::vector<std::uintptr_t> frames(n);
  Chain chain{s, n, &threads, &frames};
  bounded("chain with records", [&] {
    EXPECT_EQ(s.submit([&] { return chain.by_future(0); }).get(), n - 1);
  });
  std::size_t longest = 0, widest = 0, runs = 0;
  for (std::size_t first = 0; first < n;) {
    std::size_t last = first;
    while (last + 1 < n && threads[last + 1] == threads[first]) ++last;
    longest = std::max(longest, last - first + 1);
    widest = std::max<std::size_t>(widest, frames[first] - frames[last]);
    ++runs;
    first = last + 1;
  }
  EXPECT_LE(longest, weft::detail::max_inline_depth);
  EXPECT_LE(widest, weft::detail::thread_stack_size() / 2);
  EXPECT_GE(runs, 4u);  // n links at most max_inline_depth per thread
}

// A thread weft did not create, with a small stack: its own stack bounds the nesting
// (links with 4 KiB frames reach half of it long before max_inline_depth links, in any
// build). TSan keeps about 800 KiB of thread state at the top of every thread's stack:
// a larger one there.
#ifdef WEFT_TEST_TSAN
constexpr std::size_t small_stack = 2 << 20;
#else
constexpr std::size_t small_stack = 512 << 10;
#endif
TEST(SchedDepth, SmallStackExternalThread) {
  weft::Scheduler s(make_placement(1), unpinned());
  const std::size_t n = 5000;
  std::vector<std::thread::id> threads(n);
  std::vector<std::uintptr_t> frames(n);
  Chain chain{s, n, &threads, &frames};
  std::size_t result = 0;
  struct FreeStack {
    void operator()(void* p) const { std::free(p); }
  };
  const std::unique_ptr<void, FreeStack> stack(std::aligned_alloc(1 << 16, small_stack));
  ASSERT_NE(stack, nullptr);
  // The worker is held, so the small thread runs the links itself until it may not.
  std::latch held(1), release(1);
  s.submit([&] {
    held.count_down();
    release.wait();
  });
  held.wait();
  bounded("chain on a small stack", [&] {
    // Our own memory: glibc would otherwise reuse a larger cached stack of a thread
    // that ended (a spare's 8 MiB) for a small request.
    pthread_attr_t attr;
    ASSERT_EQ(pthread_attr_init(&attr), 0);
    ASSERT_EQ(pthread_attr_setstack(&attr, stack.get(), small_stack), 0);
    struct Args {
      Chain* chain;
      std::size_t* result;
    } args{&chain, &result};
    pthread_t thread;
    ASSERT_EQ(pthread_create(
                  &thread, &attr,
                  [](void* p) -> void* {
                    auto* a = static_cast<Args*>(p);
                    *a->result = a->chain->by_future_padded(0);
                    return nullptr;
                  },
                  &args),
              0);
    pthread_attr_destroy(&attr);
    pthread_join(thread, nullptr);
  });
  release.count_down();
  EXPECT_EQ(result, chain.n - 1);
  // The links nested on the small thread (link 0 and those it ran ahead, one inside the
  // other) stopped at half of its stack, before the depth limit did.
  std::size_t last = 0;
  while (last + 1 < n && threads[last + 1] == threads[0]) ++last;
  EXPECT_GT(last, 10u);
  EXPECT_LT(last + 1, weft::detail::max_inline_depth);
  EXPECT_LE(frames[0] - frames[last], small_stack / 2);
}

// Deep waits at shutdown: the destructor's draining and a complete try_shutdown_for
// still finish chains queued before they began.
TEST(SchedDepth, ChainsQueuedBeforeShutdownComplete) {
  std::atomic<std::size_t> result{0};
  {
    weft::Scheduler s(make_placement(1), unpinned());
    Chain chain{s, chain_length / 4};
    s.submit([&] { result = chain.by_group(0); });
    bounded("shutdown with a chain", [&] {
      weft::ShutdownResult r = s.try_shutdown_for(std::chrono::minutes(4));
      EXPECT_TRUE(r.complete);
    });
    EXPECT_EQ(result.load(), chain.n - 1);
  }
}

}  // namespace
