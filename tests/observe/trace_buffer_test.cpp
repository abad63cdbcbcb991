// The per-worker span ring: complete spans only, overwrite-oldest with a drop count,
// and snapshots that are safe while the owner writes.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "observe/observer.hpp"
#include "observe/trace_buffer.hpp"

namespace weft::detail {
namespace {

Span span_at(std::uint64_t t, const char* name = "s") {
  return Span{name, static_cast<Priority>(t % 4), t % 2 ? SpanKind::loop : SpanKind::task, t, t + 1};
}

TEST(ObserveTrace, CapacityZeroIsOff) {
  TraceRing ring(0);
  EXPECT_FALSE(ring.enabled());
  ring.record(span_at(1));
  const auto snap = ring.snapshot();
  EXPECT_TRUE(snap.spans.empty());
  EXPECT_EQ(snap.recorded, 0u);
  EXPECT_EQ(snap.dropped, 0u);
}

TEST(ObserveTrace, KeepsSpansInOrderWithTheirFields) {
  TraceRing ring(8);
  ring.record(Span{"matmul", Priority::critical, SpanKind::loop, 10, 20});
  ring.record(Span{nullptr, Priority::low, SpanKind::task, 30, 35});
  const auto snap = ring.snapshot();
  ASSERT_EQ(snap.spans.size(), 2u);
  EXPECT_STREQ(snap.spans[0].name, "matmul");
  EXPECT_EQ(snap.spans[0].priority, Priority::critical);
  EXPECT_EQ(snap.spans[0].kind, SpanKind::loop);
  EXPECT_EQ(snap.spans[0].begin_ns, 10u);
  EXPECT_EQ(snap.spans[0].end_ns, 20u);
  EXPECT_EQ(snap.spans[1].name, nullptr);
  EXPECT_EQ(snap.spans[1].priority, Priority::low);
  EXPECT_EQ(snap.dropped, 0u);
}

TEST(ObserveTrace, FullRingOverwritesTheOldestAndCountsDrops) {
  TraceRing ring(4);
  for (std::uint64_t t = 0; t < 10; ++t) ring.record(span_at(t));
  const auto snap = ring.snapshot();
  ASSERT_EQ(snap.spans.size(), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(snap.spans[i].begin_ns, 6 + i);
  EXPECT_EQ(snap.recorded, 10u);
  EXPECT_EQ(snap.dropped, 6u);
}

// Every span that began ends: nested spans, and spans left by an exception, are
// recorded complete and inside their parents.
TEST(ObserveTrace, SpansAreBalancedAndNested) {
  Placement placement;
  placement.workers.resize(1);
  ObserveOptions options;
  options.trace_capacity = 64;
  Observer observer(placement, options);
  WorkerObserver& w = observer.worker(0);
  {
    ObservedSpan outer(&w, SpanKind::task, Priority::high, "outer");
    {
      ObservedSpan inner(&w, SpanKind::loop, Priority::high, "inner");
      inner.set_loop_chunks(3);
    }
    try {
      ObservedSpan failing(&w, SpanKind::task, Priority::low, "failing");
      throw std::runtime_error("task failed");
    } catch (const std::runtime_error&) {
    }
  }
  ObservedSpan external(nullptr, SpanKind::task, Priority::low, "ignored");  // not a worker
  const auto snap = w.trace();
  ASSERT_EQ(snap.spans.size(), 3u);
  EXPECT_STREQ(snap.spans[0].name, "inner");
  EXPECT_STREQ(snap.spans[1].name, "failing");
  EXPECT_STREQ(snap.spans[2].name, "outer");
  for (const Span& s : snap.spans) {
    EXPECT_LE(s.begin_ns, s.end_ns);
    EXPECT_GE(s.begin_ns, snap.spans[2].begin_ns);
    EXPECT_LE(s.end_ns, snap.spans[2].end_ns);
  }
  const Metrics m = observer.metrics();
  EXPECT_EQ(m.workers[0].tasks_run[static_cast<unsigned>(Priority::high)], 1u);
  EXPECT_EQ(m.workers[0].tasks_run[static_cast<unsigned>(Priority::low)], 1u);
  EXPECT_EQ(m.workers[0].loop_chunks, 3u);
}

TEST(ObserveTrace, CountsTasksWithTracingOff) {
  Placement placement;
  placement.workers.resize(1);
  Observer observer(placement, ObserveOptions{});
  { ObservedSpan s(&observer.worker(0), SpanKind::task, Priority::normal, "t"); }
  EXPECT_TRUE(observer.worker(0).trace().spans.empty());
  EXPECT_EQ(observer.metrics().workers[0].tasks_run[1], 1u);
}

// Snapshots taken while the owner writes see only whole spans (never a mix of two);
// once the owner stops, the snapshot is exact.
TEST(ObserveTrace, SnapshotWhileWritingSeesWholeSpans) {
  static const char* const names[3] = {"a", "b", "c"};
  TraceRing ring(64);
  constexpr std::uint64_t total = 30000;
  std::atomic<bool> done{false};
  std::thread owner([&] {
    for (std::uint64_t t = 0; t < total; ++t)
      ring.record(Span{names[t % 3], static_cast<Priority>(t % 4), SpanKind::task, t, t + 1000});
    done.store(true, std::memory_order_release);  // release/acquire: only a stop flag; join() orders the rest
  });
  while (!done.load(std::memory_order_acquire)) {
    const auto snap = ring.snapshot();
    ASSERT_EQ(snap.spans.size() + snap.dropped, snap.recorded);
    for (const Span& s : snap.spans) {
      ASSERT_EQ(s.end_ns, s.begin_ns + 1000);
      ASSERT_EQ(s.name, names[s.begin_ns % 3]);
      ASSERT_EQ(static_cast<std::uint64_t>(s.priority), s.begin_ns % 4);
    }
  }
  owner.join();
  const auto snap = ring.snapshot();
  ASSERT_EQ(snap.spans.size(), 64u);
  EXPECT_EQ(snap.spans.front().begin_ns, total - 64);
  EXPECT_EQ(snap.dropped, total - 64);
}

}  // namespace
}  // namespace weft::detail
