// weft-soak's task operations: submit() and Futures, TaskGroups and their reuse,
// cancellation, and tasks that wait on other work. Operations. Each draws all its parameters from c.rng before it starts.
#include "soak.hpp"

namespace soak {

// submit() with every priority and hint; results and exceptions through get(); some
// Futures dropped at once (their tasks still run: counted globally at the end).
void op_submit(Ctx& c) {
  const std::size_t n = c.rng.between(1, sized(64));
  const std::uint64_t seed = c.rng.next();
  const bool reverse = c.rng.percent(50);
  const bool wait_first = c.rng.percent(30);
  Hits ran(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<weft::Future<std::uint64_t>> futures(n);
  std::vector<unsigned char> kind(n);  // 0: value, 1: throws, 2: dropped
  c.step("submit");
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t h = item_hash(seed, i);
    kind[i] = h % 10 == 0 ? 1 : h % 10 == 1 ? 2 : 0;
    const std::uint64_t id = h | 1;
    const weft::TaskOptions o = task_options(c, h >> 4);
    if (kind[i] == 2) {
      const bool throws = (h >> 40) % 3 == 0;
      c.s.submit([throws]() -> std::uint64_t {
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (throws) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          ledger.exceptions_discarded.fetch_add(1, relaxed);  // nobody waits: dropped
          throw SoakError{};
        }
        return 0;
      }, o);
    } else {
      const bool throws = kind[i] == 1;
      Hits* hits = &ran;
      std::exception_ptr* error = &errors[i];
      futures[i] = c.s.submit([hits, error, i, id, throws]() -> std::uint64_t {
        hits->hit(i);
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (throws) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          throw_recorded(*error);
        }
        return id;
      }, o);
    }
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  c.step("get");
  if (wait_first) {
    for (std::size_t i = 0; i < n; ++i) {
      if (kind[i] != 2) futures[i].wait();
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = reverse ? n - 1 - k : k;
    if (kind[i] == 2) continue;
    const std::uint64_t id = item_hash(seed, i) | 1;
    try {
      std::uint64_t v = futures[i].get();
      if (kind[i] != 0) c.fail("task " + str(i) + " threw, but get() returned " + str(v));
      if (v != id) c.fail("task " + str(i) + ": get() returned " + str(v) + ", want " + str(id));
    } catch (const SoakError&) {
      if (kind[i] != 1) c.fail("task " + str(i) + " returned, but get() threw");
      if (std::current_exception() != errors[i]) {
        std::size_t other = which(errors);
        c.fail("task " + str(i) + ": get() rethrew " +
               (other < n ? "the exception of task " + str(other)
                          : std::string("an exception no task threw")));
      }
      ledger.exceptions_caught.fetch_add(1, relaxed);
    }
    if (futures[i].valid()) c.fail("a Future is still valid after get()");
    if (ran.at(i) != 1) c.fail("task " + str(i) + " ran " + str(ran.at(i)) + " times");
  }
}

// A group after wait() (failed or cancelled) takes new tasks, and each runs once.
void expect_reuse(Ctx& c, weft::TaskGroup& g, std::size_t reuse, const char* what) {
  Hits again(reuse);
  c.step("reuse");
  for (std::size_t i = 0; i < reuse; ++i) {
    g.run([&again, i] {
      again.hit(i);
      ledger.tasks_ran.fetch_add(1, relaxed);
    });
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  g.wait();
  again.expect_once(c, what);
}

// A TaskGroup whose tasks spawn subtrees into the same group; some throw. wait() must
// rethrow exactly one of the thrown exceptions, once; the group is reusable after.
void op_group(Ctx& c) {
  const std::size_t roots = c.rng.between(1, sized(48));
  const std::size_t depth = c.rng.below(3);
  const std::size_t fanout = c.rng.between(1, 3);
  const unsigned throw_one_in = c.rng.percent(30) ? static_cast<unsigned>(c.rng.between(3, 40)) : 0;
  const std::uint64_t seed = c.rng.next();
  const std::size_t reuse = c.rng.between(1, 16);
  // Nodes per tree, numbered heap-style: child j of node p is p * fanout + j + 1.
  std::size_t per_tree = 0;
  for (std::size_t d = 0, level = 1; d <= depth; ++d, level *= fanout) per_tree += level;
  const std::size_t n = roots * per_tree;

  struct State {
    weft::TaskGroup* group;
    Hits ran, accepted;
    std::vector<std::exception_ptr> errors;
    std::size_t per_tree, fanout, depth;
    std::uint64_t seed;
    unsigned throw_one_in;
    explicit State(std::size_t nodes)
        : group(nullptr), ran(nodes), accepted(nodes), errors(nodes) {}
  };
  State st(n);
  st.per_tree = per_tree;
  st.fanout = fanout;
  st.depth = depth;
  st.seed = seed;
  st.throw_one_in = throw_one_in;
  weft::TaskGroup g(c.s);
  st.group = &g;

  struct Node {
    static void spawn(const Ctx& ctx, State& s, std::size_t tree, std::size_t node, std::size_t d) {
      const std::size_t id = tree * s.per_tree + node;
      s.group->run([&ctx, &s, tree, node, d, id] {
        s.ran.hit(id);
        ledger.tasks_ran.fetch_add(1, relaxed);
        if (d < s.depth) {
          for (std::size_t j = 0; j < s.fanout; ++j) {
            spawn(ctx, s, tree, node * s.fanout + j + 1, d + 1);
          }
        }
        if (s.throw_one_in != 0 && item_hash(s.seed, id) % s.throw_one_in == 0) {
          ledger.exceptions_thrown.fetch_add(1, relaxed);
          throw_recorded(s.errors[id]);
        }
      }, task_options(ctx, item_hash(s.seed, id) >> 3));
      s.accepted.hit(id);
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
  };
  c.step("run");
  for (std::size_t t = 0; t < roots; ++t) Node::spawn(c, st, t, 0, 0);
  c.step("wait");
  std::optional<std::size_t> caught;  // which node's exception wait() rethrew
  try {
    g.wait();
  } catch (const SoakError&) {
    caught = which(st.errors);
  }
  std::size_t thrown = 0, skipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    thrown += st.errors[i] != nullptr;
    if (st.accepted.at(i) == 0) {
      if (st.ran.at(i) != 0) c.fail("node " + str(i) + " ran but was never accepted");
    } else if (st.ran.at(i) == 0) {
      skipped += 1;
    } else {
      if (st.ran.at(i) != 1) c.fail("node " + str(i) + " ran " + str(st.ran.at(i)) + " times");
    }
  }
  if (thrown == 0) {
    c.expect(!caught, "wait() threw, but no task threw");
    c.expect(skipped == 0, str(skipped) + " tasks skipped though nothing threw or cancelled");
  } else {
    c.expect(caught.has_value(), str(thrown) + " tasks threw, but wait() returned normally");
    c.expect(*caught < n, "wait() rethrew an exception no task of the group threw");
    ledger.exceptions_caught.fetch_add(1, relaxed);
    ledger.exceptions_discarded.fetch_add(thrown - 1, relaxed);
  }
  ledger.tasks_skipped.fetch_add(skipped, relaxed);
  c.expect(!g.is_cancelled(), "the group is still cancelled after wait()");
  // The exception reached one waiter: a second wait() has nothing to rethrow.
  c.step("second wait");
  try {
    g.wait();
  } catch (const SoakError&) {
    c.fail("a second wait() rethrew an exception again (node " + str(which(st.errors)) + ")");
  }
  // Reuse: every task runs now.
  expect_reuse(c, g, reuse, "reused group");
}

// TaskGroup::cancel(): from the external thread part way, from a task of the group, or
// while a gate task holds a worker (so that some tasks surely have not started).
void op_cancel(Ctx& c) {
  const std::size_t n = c.rng.between(2, sized(96));
  const unsigned mode = static_cast<unsigned>(c.rng.below(3));
  const std::size_t at = c.rng.below(n);
  const std::uint64_t seed = c.rng.next();
  const std::size_t reuse = c.rng.between(1, 16);
  Hits ran(n);
  std::atomic<bool> gate{false};
  weft::TaskGroup g(c.s);
  c.step("run");
  for (std::size_t i = 0; i < n; ++i) {
    if (mode == 0 && i == at) {
      g.cancel();
      ledger.cancellations.fetch_add(1, relaxed);
      c.expect(g.is_cancelled(), "is_cancelled() is false right after cancel()");
    }
    const bool cancels = mode == 1 && i == at;
    const bool gated = mode == 2 && i == 0;
    g.run([&ran, &g, &gate, i, cancels, gated] {
      ran.hit(i);
      ledger.tasks_ran.fetch_add(1, relaxed);
      if (cancels) {
        g.cancel();
        ledger.cancellations.fetch_add(1, relaxed);
      }
      // Released by the external thread before it waits on anything: bounded.
      while (gated && !gate.load(std::memory_order_acquire)) std::this_thread::yield();
    }, task_options(c, item_hash(seed, i)));
    ledger.tasks_accepted.fetch_add(1, relaxed);
  }
  if (mode == 2) {
    g.cancel();
    ledger.cancellations.fetch_add(1, relaxed);
    c.expect(g.is_cancelled(), "is_cancelled() is false right after cancel()");
    gate.store(true, std::memory_order_release);
  }
  c.step("wait");
  try {
    g.wait();
  } catch (const SoakError&) {
    c.fail("wait() of a cancelled group threw, but no task throws");
  }
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (ran.at(i) > 1) c.fail("task " + str(i) + " ran " + str(ran.at(i)) + " times");
    skipped += ran.at(i) == 0;
  }
  // Only the cancelling task itself is sure to have run in mode 1.
  if (mode == 1) c.expect(ran.at(at) == 1, "the task that cancels (" + str(at) + ") did not run");
  ledger.tasks_skipped.fetch_add(skipped, relaxed);
  c.expect(!g.is_cancelled(), "the group is still cancelled after wait()");
  expect_reuse(c, g, reuse, "group reused after cancel");
}

std::uint64_t future_tree(weft::Scheduler& s, unsigned depth, std::uint64_t seed) {
  ledger.tasks_ran.fetch_add(1, relaxed);
  if (depth == 0) return 1;
  auto a = s.submit([&s, depth, seed] { return future_tree(s, depth - 1, mix(seed)); },
                    {priority_of(seed)});
  auto b = s.submit([&s, depth, seed] { return future_tree(s, depth - 1, mix(seed + 1)); },
                    {priority_of(seed >> 8)});
  ledger.tasks_accepted.fetch_add(2, relaxed);
  // Wait in either order: the waiter may run the other one itself.
  if (seed % 2 == 0) {
    std::uint64_t x = a.get();
    return 1 + x + b.get();
  }
  std::uint64_t y = b.get();
  return 1 + y + a.get();
}

std::uint64_t group_fib(weft::Scheduler& s, unsigned n) {
  if (n < 2) return n;
  std::uint64_t a = 0, b = 0;
  weft::TaskGroup g(s);
  g.run([&] {
    ledger.tasks_ran.fetch_add(1, relaxed);
    a = group_fib(s, n - 1);
  });
  g.run([&] {
    ledger.tasks_ran.fetch_add(1, relaxed);
    b = group_fib(s, n - 2);
  });
  ledger.tasks_accepted.fetch_add(2, relaxed);
  g.wait();
  return a + b;
}

// Tasks that wait: on Futures they submitted, on groups they made, on a Future made by
// the external thread (a critical task waiting on a low one), on a group made by the
// external thread.
void op_wait_in_task(Ctx& c) {
  const unsigned variant = static_cast<unsigned>(c.rng.below(4));
  const std::uint64_t seed = c.rng.next();
  weft::Scheduler& s = c.s;
  c.step("wait in task");
  if (variant == 0) {
    const unsigned depth = static_cast<unsigned>(c.rng.between(1, sized(64) >= 64 ? 7 : 4));
    auto f = s.submit([&s, depth, seed] { return future_tree(s, depth, seed); },
                      {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    const std::uint64_t want = (std::uint64_t{2} << depth) - 1;
    std::uint64_t got = f.get();
    c.expect(got == want,
             "a tree of Futures of depth " + str(depth) + " counted " + str(got) + " nodes");
  } else if (variant == 1) {
    const unsigned n = static_cast<unsigned>(c.rng.between(2, sized(64) >= 64 ? 16 : 11));
    auto f = s.submit([&s, n] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      return group_fib(s, n);
    }, {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    std::uint64_t a = 0, b = 1;
    for (unsigned k = 0; k < n; ++k) b = std::exchange(a, b) + b;
    std::uint64_t got = f.get();
    c.expect(got == a, "fib(" + str(n) + ") through TaskGroups in a task gave " + str(got) +
                           ", want " + str(a));
  } else if (variant == 2) {
    const std::uint64_t spin = c.rng.below(2000);
    weft::Future<std::uint64_t> low = s.submit([spin] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      std::uint64_t x = 0;
      for (std::uint64_t i = 0; i < spin; ++i) x += mix(i);
      return x | 1;
    }, {weft::Priority::low});
    weft::Future<std::uint64_t> high = s.submit([f = std::move(low)]() mutable {
      ledger.tasks_ran.fetch_add(1, relaxed);
      return f.get() + 1;
    }, {weft::Priority::critical});
    ledger.tasks_accepted.fetch_add(2, relaxed);
    std::uint64_t x = 0;
    for (std::uint64_t i = 0; i < spin; ++i) x += mix(i);
    std::uint64_t got = high.get();
    c.expect(got == (x | 1) + 1, "a task waiting on a Future got " + str(got));
  } else {
    const std::size_t n = c.rng.between(1, sized(64));
    Hits hits(n);
    weft::TaskGroup g(s);
    for (std::size_t i = 0; i < n; ++i) {
      g.run([&hits, i] {
        ledger.tasks_ran.fetch_add(1, relaxed);
        hits.hit(i);
      }, task_options(c, item_hash(seed, i)));
      ledger.tasks_accepted.fetch_add(1, relaxed);
    }
    // One thread at a time waits on a group: here a task does, the external thread
    // waits on that task.
    auto waiter = s.submit([&g] {
      ledger.tasks_ran.fetch_add(1, relaxed);
      g.wait();
    }, {priority_of(seed)});
    ledger.tasks_accepted.fetch_add(1, relaxed);
    waiter.get();
    hits.expect_once(c, "a group waited on by a task");
  }
}

}  // namespace soak
