// weft-soak's loop operations: small loops with per-index counters, large loops
// against a sequential pass, reductions, nesting, and bodies that throw.
// Operations. Each draws all its parameters from c.rng before it starts.
#include "soak.hpp"

namespace soak {

// Small loops with per-index (per-cell) counters: 1D by index and by chunk (with the
// grain contract checked), 2D and 3D tiles.
void op_loop_small(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  weft::ForOptions o = loop_options(c.rng, c.workers());
  LateGuard late;
  c.step("loop");
  if (variant <= 1) {
    const std::size_t n = c.rng.below(sized(4096) + 1);
    const std::size_t begin = c.rng.below(1000);
    Hits hits(n);
    if (variant == 0) {
      c.s.parallel_for(begin, begin + n, [&](std::size_t i) {
        late.enter();
        hits.hit(i - begin);
      }, o);
    } else {
      std::atomic<std::size_t> bad_chunk{0};
      c.s.parallel_for(begin, begin + n, [&](std::size_t b, std::size_t e) {
        late.enter();
        if (!weft::test::chunk_contract_error(o, false, begin, begin + n, b, e).empty())
          bad_chunk.store(b + 1, relaxed);
        for (std::size_t i = b; i < e; ++i) hits.hit(i - begin);
      }, o);
      c.expect(bad_chunk.load() == 0, "a chunk starting at " + str(bad_chunk.load() - 1) +
                                           " broke the contract of grain " + str(o.grain) +
                                           ", chunk " + str(o.chunk));
    }
    late.close();
    hits.expect_once(c, "parallel_for");
  } else if (variant == 2) {
    const std::size_t rows = c.rng.between(1, 64), cols = c.rng.between(1, 64);
    const std::size_t tr = c.rng.between(1, 17), tc = c.rng.between(1, 17);
    Hits hits(rows * cols);
    std::atomic<bool> bad_tile{false};
    auto tile = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
      late.enter();
      if (r0 % tr != 0 || c0 % tc != 0 || r1 != std::min(r0 + tr, rows) ||
          c1 != std::min(c0 + tc, cols)) {
        bad_tile.store(true, relaxed);
      }
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t k = c0; k < c1; ++k) hits.hit(r * cols + k);
      }
    };
    c.s.parallel_for_2d(rows, cols, tr, tc, tile, o);
    late.close();
    c.expect(!bad_tile.load(), "parallel_for_2d handed out a malformed tile");
    hits.expect_once(c, "parallel_for_2d");
  } else {
    const std::size_t d0 = c.rng.between(1, 16), d1 = c.rng.between(1, 16),
                      d2 = c.rng.between(1, 16);
    const std::size_t t0 = c.rng.between(1, 5), t1 = c.rng.between(1, 5), t2 = c.rng.between(1, 5);
    Hits hits(d0 * d1 * d2);
    c.s.parallel_for_3d(d0, d1, d2, t0, t1, t2,
                        [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1,
                            std::size_t k0, std::size_t k1) {
      late.enter();
      for (std::size_t i = i0; i < i1; ++i) {
        for (std::size_t j = j0; j < j1; ++j) {
          for (std::size_t k = k0; k < k1; ++k) hits.hit((i * d1 + j) * d2 + k);
        }
      }
    }, o);
    late.close();
    hits.expect_once(c, "parallel_for_3d");
  }
  ledger.loops.fetch_add(1, relaxed);
}

// A large loop: count, sum and sum of squares of the indices (mod 2^64) against a
// sequential pass. A gap and an overlap compensating each other in all three is not
// a realistic failure.
void op_loop_large(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(1u << 20));
  const std::size_t begin = c.rng.below(std::size_t{1} << 32);
  const weft::ForOptions o = loop_options(c.rng, c.workers());
  const bool by_index = n <= sized(1u << 16) && c.rng.percent(50);
  std::atomic<std::uint64_t> count{0}, sum{0}, squares{0};
  c.step("loop");
  if (by_index) {
    c.s.parallel_for(begin, begin + n, [&](std::size_t i) {
      count.fetch_add(1, relaxed);
      sum.fetch_add(i, relaxed);
      squares.fetch_add(static_cast<std::uint64_t>(i) * i, relaxed);
    }, o);
  } else {
    c.s.parallel_for(begin, begin + n, [&](std::size_t b, std::size_t e) {
      std::uint64_t k = 0, s1 = 0, s2 = 0;
      for (std::size_t i = b; i < e; ++i) {
        k += 1;
        s1 += i;
        s2 += static_cast<std::uint64_t>(i) * i;
      }
      count.fetch_add(k, relaxed);
      sum.fetch_add(s1, relaxed);
      squares.fetch_add(s2, relaxed);
    }, o);
  }
  std::uint64_t s1 = 0, s2 = 0;
  for (std::size_t i = begin; i < begin + n; ++i) {
    s1 += i;
    s2 += static_cast<std::uint64_t>(i) * i;
  }
  c.expect(count.load() == n && sum.load() == s1 && squares.load() == s2,
           "parallel_for over " + str(n) + " indices: count " + str(count.load()) + ", sum " +
               str(sum.load()) + " (want " + str(s1) + "), squares " + str(squares.load()) +
               " (want " + str(s2) + ")");
  ledger.loops.fetch_add(1, relaxed);
}

// An interval [lo, hi): combined only when adjacent, so the result is [begin, end) and
// `ok` exactly when every chunk was folded once, in range order.
struct Span {
  std::size_t lo = 0, hi = 0;
  bool empty = true, ok = true;
};
Span join(const Span& a, const Span& b) {
  if (a.empty) return b;
  if (b.empty) return a;
  return Span{a.lo, b.hi, false, a.ok && b.ok && a.hi == b.lo};
}

double term(std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i % 1000003)); }

void op_reduce(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(3));
  const std::size_t n = c.rng.below(sized(1u << 18) + 1);
  const std::size_t begin = c.rng.below(100000);
  weft::ForOptions o = loop_options(c.rng, c.workers());
  const std::size_t end = begin + n;
  c.step("reduce");
  if (variant == 0) {
    // Exact integer sum, normal mode.
    auto body = [](std::size_t b, std::size_t e, std::uint64_t acc) {
      for (std::size_t i = b; i < e; ++i) acc += mix(i);
      return acc;
    };
    std::uint64_t got = c.s.parallel_reduce(begin, end, std::uint64_t{0}, body, std::plus<>{}, o);
    std::uint64_t want = body(begin, end, 0);
    c.expect(got == want, "parallel_reduce (uint64) over " + str(n) + ": " + str(got) +
                              ", want " + str(want));
  } else if (variant == 1) {
    // Deterministic doubles: bit-identical to the sequential chunked reference.
    o.deterministic = true;
    auto body = [](std::size_t b, std::size_t e, double acc) {
      for (std::size_t i = b; i < e; ++i) acc += term(i);
      return acc;
    };
    double got = c.s.parallel_reduce(begin, end, 0.0, body, std::plus<>{}, o);
    const std::size_t chunk =
        o.chunk != 0 ? o.chunk : weft::detail::loop_tuning::deterministic_chunk;
    double want = 0.0;
    for (std::size_t b = begin; b < end; b += chunk) {
      double part = body(b, std::min(b + chunk, end), 0.0);
      want = b == begin ? part : want + part;
    }
    c.expect(std::memcmp(&got, &want, sizeof got) == 0,
             "deterministic parallel_reduce over " + str(n) + " with chunk " + str(chunk) +
                 " differs from the sequential chunked sum");
  } else {
    // Non-commutative: the intervals must join in order, each chunk once.
    o.deterministic = c.rng.percent(30);
    std::atomic<std::uint64_t> covered{0};
    Span got = c.s.parallel_reduce(begin, end, Span{}, [&](std::size_t b, std::size_t e, Span acc) {
      covered.fetch_add(e - b, relaxed);
      return join(acc, Span{b, e, b == e, true});
    }, [](const Span& a, const Span& b) { return join(a, b); }, o);
    const bool good = n == 0 ? got.empty : !got.empty && got.ok && got.lo == begin && got.hi == end;
    c.expect(good && covered.load() == n,
             "parallel_reduce of intervals over [" + str(begin) + ", " + str(end) + "): got [" +
                 str(got.lo) + ", " + str(got.hi) + ") ok=" + str(got.ok) + " covered " +
                 str(covered.load()));
  }
  ledger.loops.fetch_add(1, relaxed);
}

// Loops inside loops, reductions inside loops, loops inside tasks, groups inside loops.
void op_nested(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  const std::size_t outer = c.rng.between(1, 32);
  const std::size_t inner = c.rng.between(1, sized(256));
  const weft::ForOptions oo = loop_options(c.rng, c.workers());
  const weft::ForOptions io = loop_options(c.rng, c.workers());
  const std::uint64_t seed = c.rng.next();
  Hits hits(outer * inner);
  c.step("nested");
  if (variant == 0) {
    // parallel_for in parallel_for (and a third level on some rows).
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      if (i % 4 == 3) {
        c.s.parallel_for(0, inner, [&](std::size_t b, std::size_t e) {
          c.s.parallel_for(b, e, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
        }, oo);
      } else {
        c.s.parallel_for(0, inner, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
      }
    }, oo);
    ledger.loops.fetch_add(1 + outer, relaxed);
  } else if (variant == 1) {
    // parallel_reduce in parallel_for: each row's sum checked.
    std::atomic<std::size_t> bad_row{0};
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      std::uint64_t got = c.s.parallel_reduce(0, inner, std::uint64_t{0},
          [&](std::size_t b, std::size_t e, std::uint64_t acc) {
            for (std::size_t j = b; j < e; ++j) {
              hits.hit(i * inner + j);
              acc += j;
            }
            return acc;
          }, std::plus<>{}, io);
      if (got != inner * (inner - 1) / 2) bad_row.store(i + 1, relaxed);
    }, oo);
    c.expect(bad_row.load() == 0, "the reduction of row " + str(bad_row.load() - 1) + " is wrong");
    ledger.loops.fetch_add(1 + outer, relaxed);
  } else if (variant == 2) {
    // Loops inside tasks: each task runs a parallel_for over its row.
    weft::TaskGroup g(c.s);
    for (std::size_t i = 0; i < outer; ++i) {
      g.run([&, i] {
        ledger.tasks_ran.fetch_add(1, relaxed);
        c.s.parallel_for(0, inner, [&](std::size_t j) { hits.hit(i * inner + j); }, io);
      }, task_options(c, item_hash(seed, i)));
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
    g.wait();
    ledger.loops.fetch_add(outer, relaxed);
  } else {
    // A TaskGroup inside each iteration of a loop.
    c.s.parallel_for(0, outer, [&](std::size_t i) {
      weft::TaskGroup g(c.s);
      for (std::size_t b = 0; b < inner; b += 16) {
        g.run([&hits, i, b, inner] {
          ledger.tasks_ran.fetch_add(1, relaxed);
          for (std::size_t j = b; j < std::min(b + 16, inner); ++j) hits.hit(i * inner + j);
        });
        ledger.tasks_accepted.fetch_add(1, relaxed);
      }
      g.wait();
    }, oo);
    ledger.loops.fetch_add(1, relaxed);
  }
  hits.expect_once(c, "nested loops");
}

// Loops and reductions whose bodies throw at chosen indices: exactly one exception out
// of the call, one that was thrown; no index twice; nothing after the call returned.
void op_throw_loop(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(4096));
  const std::uint64_t seed = c.rng.next();
  const std::size_t one_in = c.rng.between(1, 600);
  const std::size_t forced = c.rng.below(n);  // at least this index throws
  const bool reduce = c.rng.percent(40);
  weft::ForOptions o = loop_options(c.rng, c.workers());
  if (reduce) o.deterministic = c.rng.percent(50);
  Hits ran(n);
  std::vector<std::exception_ptr> errors(n);
  LateGuard late;
  auto visit = [&](std::size_t i) {
    late.enter();
    ran.hit(i);
    if (i == forced || item_hash(seed, i) % one_in == 0) {
      ledger.exceptions_thrown.fetch_add(1, relaxed);
      throw_recorded(errors[i]);
    }
  };
  std::optional<std::size_t> caught;  // which index's exception the loop rethrew
  c.step("throwing loop");
  try {
    if (reduce) {
      auto chunk = [&](std::size_t b, std::size_t e, std::uint64_t acc) {
        for (std::size_t i = b; i < e; ++i) visit(i);
        return acc + (e - b);
      };
      (void)c.s.parallel_reduce(0, n, std::uint64_t{0}, chunk, std::plus<>{}, o);
    } else {
      c.s.parallel_for(0, n, visit, o);
    }
  } catch (const SoakError&) {
    caught = which(errors);
  }
  late.close();
  std::this_thread::yield();
  std::size_t thrown = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (ran.at(i) > 1) c.fail("index " + str(i) + " ran " + str(ran.at(i)) + " times");
    thrown += errors[i] != nullptr;
  }
  c.expect(caught.has_value(),
           "the loop returned normally though index " + str(forced) + " throws");
  c.expect(*caught < n, "the loop rethrew an exception that no body threw");
  c.expect(thrown >= 1, "an exception came out of a loop in which nothing threw");
  ledger.exceptions_caught.fetch_add(1, relaxed);
  ledger.exceptions_discarded.fetch_add(thrown - 1, relaxed);
  ledger.loops.fetch_add(1, relaxed);
}

}  // namespace soak
