// weft::EigenThreadPool: Eigen Tensor expressions on an Eigen::ThreadPoolDevice over the
// adapter give the DefaultDevice's results, and the adapter keeps Eigen's pool contract
// (thread ids, priorities, destructor waits, Cancel).
//
// Exactness: the inputs are small integers, so every product and partial sum is an
// integer below 2^24 and exactly representable in float; any summation order (Eigen's
// k-blocking depends on the device's cache share per thread, and a contraction may be
// sharded along k) then gives bit-identical results, and the comparison is exact. The
// random-float contraction is compared with a tolerance instead (reassociation).
#define EIGEN_USE_THREADS
#include <unsupported/Eigen/CXX11/Tensor>

#include <gtest/gtest.h>
#include <weft/eigen.hpp>
#include <weft/scheduler.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "sched/sched_test_support.hpp"

namespace {

using Matrix = Eigen::Tensor<float, 2, Eigen::RowMajor>;

weft::Config config_with(unsigned threads) {
  weft::Config config;
  config.num_threads = threads;
  config.pinning = weft::Pinning::none;  // tests share the machine with other tests
  return config;
}

void fill_integers(Matrix& m, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-4, 4);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(dist(gen));
}

void fill_floats(Matrix& m, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
}

TEST(EigenThreadPool, ContractionEqualsDefaultDeviceExactly) {
  weft::Scheduler sched(config_with(3));
  weft::EigenThreadPool pool(sched, weft::Priority::critical);
  Eigen::ThreadPoolDevice device(&pool, pool.NumThreads());

  Matrix a(256, 192), b(192, 160);
  fill_integers(a, 1);
  fill_integers(b, 2);
  const Eigen::array<Eigen::IndexPair<int>, 1> dims = {Eigen::IndexPair<int>(1, 0)};
  Matrix expected(256, 160), got(256, 160);
  expected = a.contract(b, dims);  // DefaultDevice
  got.device(device) = a.contract(b, dims);
  for (Eigen::Index i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(got.data()[i], expected.data()[i]) << "element " << i;
  }
}

TEST(EigenThreadPool, FloatContractionMatchesWithinReassociationTolerance) {
  weft::Scheduler sched(config_with(3));
  weft::EigenThreadPool pool(sched);
  Eigen::ThreadPoolDevice device(&pool, pool.NumThreads());

  Matrix a(256, 192), b(192, 160);
  fill_floats(a, 3);
  fill_floats(b, 4);
  const Eigen::array<Eigen::IndexPair<int>, 1> dims = {Eigen::IndexPair<int>(1, 0)};
  Matrix expected(256, 160), got(256, 160);
  expected = a.contract(b, dims);
  got.device(device) = a.contract(b, dims);
  // |a|,|b| <= 1 and k = 192: each sum is reordered at most; 192 roundings of terms up
  // to ~192 in magnitude stay far below 1e-3.
  for (Eigen::Index i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(got.data()[i], expected.data()[i], 1e-3f) << "element " << i;
  }
}

TEST(EigenThreadPool, ConvolutionEqualsDefaultDeviceExactly) {
  weft::Scheduler sched(config_with(3));
  weft::EigenThreadPool pool(sched, weft::Priority::high);
  Eigen::ThreadPoolDevice device(&pool, pool.NumThreads());

  Matrix input(160, 128), kernel(5, 5);
  fill_integers(input, 5);
  fill_integers(kernel, 6);
  const Eigen::array<Eigen::Index, 2> dims = {0, 1};
  Matrix expected(156, 124), got(156, 124);
  expected = input.convolve(kernel, dims);
  got.device(device) = input.convolve(kernel, dims);
  for (Eigen::Index i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(got.data()[i], expected.data()[i]) << "element " << i;
  }
}

TEST(EigenThreadPool, NumThreadsCountsWorkersAndCurrentThreadIdIsInRange) {
  weft::Scheduler sched(config_with(3));
  weft::EigenThreadPool pool(sched);
  ASSERT_EQ(pool.NumThreads(), static_cast<int>(sched.num_threads()) - 1);
  ASSERT_EQ(pool.NumThreads(), 2);
  EXPECT_EQ(pool.CurrentThreadId(), -1);  // the test thread is not a worker
  Eigen::ThreadPoolDevice device(&pool, pool.NumThreads());
  EXPECT_EQ(device.currentThreadId(), -1);

  // The test thread only watches (it does not wait inside weft, so it runs nothing):
  // every closure runs on a worker and must see that worker's index.
  constexpr int kClosures = 100;
  std::vector<std::atomic<int>> ids(kClosures);
  std::atomic<int> finished{0};
  for (int i = 0; i < kClosures; ++i) {
    ids[i].store(-2);
    pool.Schedule([&, i] {
      ids[i].store(pool.CurrentThreadId() == sched.current_worker() ? pool.CurrentThreadId()
                                                                    : -3);
      finished.fetch_add(1);
    });
  }
  while (finished.load() < kClosures) std::this_thread::yield();
  for (int i = 0; i < kClosures; ++i) {
    const int id = ids[i].load();
    EXPECT_TRUE(id >= 0 && id < pool.NumThreads()) << "closure " << i << " id " << id;
  }
}

TEST(EigenThreadPool, EveryPriorityRunsItsClosures) {
  weft::Scheduler sched(config_with(3));
  for (weft::Priority prio : {weft::Priority::low, weft::Priority::normal, weft::Priority::high,
                              weft::Priority::critical}) {
    std::atomic<int> ran{0};
    {
      weft::EigenThreadPool pool(sched, prio);
      EXPECT_EQ(pool.priority(), prio);
      for (int i = 0; i < 50; ++i) pool.Schedule([&] { ran.fetch_add(1); });
      // Hints in range, out of range and empty: all run.
      pool.ScheduleWithHint([&] { ran.fetch_add(1); }, 0, 1);
      pool.ScheduleWithHint([&] { ran.fetch_add(1); }, 1, 2);
      pool.ScheduleWithHint([&] { ran.fetch_add(1); }, 0, 99);
      pool.ScheduleWithHint([&] { ran.fetch_add(1); }, 1, 1);
    }
    EXPECT_EQ(ran.load(), 54) << weft::to_string(prio);
  }
}

TEST(EigenThreadPool, DestructorWaitsForNestedClosures) {
  weft::Scheduler sched(config_with(3));
  std::atomic<int> ran{0};
  weft::test::wait_or_dump(sched, "the pool's destructor, its closures scheduling more", [&] {
    weft::EigenThreadPool pool(sched);
    for (int i = 0; i < 20; ++i) {
      pool.Schedule([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        // A closure scheduling more closures, as Eigen's parallelFor does.
        pool.Schedule([&] { ran.fetch_add(1); });
        ran.fetch_add(1);
      });
    }
  });
  EXPECT_EQ(ran.load(), 40);
}

TEST(EigenThreadPool, CancelSkipsClosuresScheduledAfterIt) {
  weft::Scheduler sched(config_with(3));
  std::atomic<int> ran{0};
  {
    weft::EigenThreadPool pool(sched);
    pool.Schedule([&] { ran.fetch_add(1); });
    pool.Cancel();
    for (int i = 0; i < 10; ++i) pool.Schedule([&] { ran.fetch_add(100); });
  }
  EXPECT_LE(ran.load(), 1);
}

}  // namespace
