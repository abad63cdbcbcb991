#!/usr/bin/env bash
# A/B of two weft builds on the benchmarks a refactor must not move: fork-join (empty
# and ~1 us iterations), fib(30) as a task per call, priority serving, and live requests
# beside background items of 200 and 3200 us (weft-bench-live, weft only, run without
# privilege as bench/run_live.sh runs it). The two
# builds' binaries alternate, ROUNDS times, in one session, so both see the same machine;
# compare the medians per benchmark.
#
#   bash bench/run_ab.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ROUNDS]
#
# Each build dir is a Release build with the targets weft-bench-parallel,
# weft-bench-sched, weft-bench-priority and weft-bench-live, e.g. for a commit C:
#   git worktree add /tmp/before C && cmake -S /tmp/before -B /tmp/before/build \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/before/build -j2 \
#     --target weft-bench-parallel weft-bench-sched weft-bench-priority weft-bench-live
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: bash bench/run_ab.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ROUNDS]" >&2
  exit 2
fi
before=$(realpath "$1")
after=$(realpath "$2")
rounds="${3:-5}"
cd "$(dirname "$0")/.."
source bench/unprivileged.sh
for dir in "$before" "$after"; do
  for bin in weft-bench-parallel weft-bench-sched weft-bench-priority weft-bench-live; do
    [[ -x "$dir/bench/$bin" ]] || { echo "run_ab: $dir/bench/$bin is missing" >&2; exit 2; }
  done
done
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
echo "run_ab: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds"
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir="$before"
    [[ $side == after ]] && dir="$after"
    # Google Benchmark's console line: name, time, unit, cpu, unit, iterations.
    "$dir/bench/weft-bench-parallel" --benchmark_filter='^ForkJoin_weft/(0|1)/' 2>/dev/null |
      awk -v s="$side" -v r="$round" '/^ForkJoin_weft/ {print "ab", s, r, $1, $2, $3}'
    "$dir/bench/weft-bench-sched" --benchmark_filter='^BM_fib_weft/30/' 2>/dev/null |
      awk -v s="$side" -v r="$round" '/^BM_fib_weft/ {print "ab", s, r, $1, $2, $3}'
    "$dir/bench/weft-bench-priority" --requests 300 2>/dev/null |
      awk -v s="$side" -v r="$round" '/^weft +[|]/ {on = 1} /^tbb/ {on = 0} on {print "ab", s, r, "priority:", $0}'
    for item_us in 200 3200; do
      "${unprivileged[@]}" "$dir/bench/weft-bench-live" --engines weft --item-us "$item_us" 2>/dev/null |
        awk -v s="$side" -v r="$round" -v i="$item_us" '/^RESULT weft/ {$1 = ""; print "ab", s, r, "live_" i "us:" $0}'
    done
  done
done | tee "$raw"

# Medians per row and side, and after / before.
python3 - "$raw" <<'PY'
import re, statistics, sys
rows = {}
def add(side, key, value):
    rows.setdefault(key, {"before": [], "after": []})[side].append(float(value))
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 5 or f[0] != "ab":
        continue
    side, what = f[1], f[3]
    if what == "priority:":
        # "| unloaded p50 p99 max | unloaded p50 p99 max | N alone" (or "loaded ... under")
        m = re.search(r"(\w+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s*\|\s*\w+\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s*\|\s*([\d.]+)", line)
        phase = m.group(1)
        add(side, f"priority {phase} p50 from submit (ms)", m.group(2))
        add(side, f"priority {phase} p99 from submit (ms)", m.group(3))
        add(side, f"priority {phase} p99 from arrival (ms)", m.group(4))
        add(side, f"priority background passes/s, {phase}", m.group(5))
    elif what.startswith("live_"):
        pairs = f[5:]  # after "live_Nus: weft"
        for name, value in zip(pairs[0::2], pairs[1::2]):
            add(side, f"{what[:-1]} {name}", value)
    else:
        add(side, f"{what} ({f[5]})", f[4])
print("\nmedians per side:")
print(f"{'row':58} {'before':>10} {'after':>10} {'after/before':>13}")
for key, sides in rows.items():
    if not sides["before"] or not sides["after"]:
        continue
    b, a = statistics.median(sides["before"]), statistics.median(sides["after"])
    print(f"{key:58} {b:10.3f} {a:10.3f} {a / b if b else float('nan'):13.3f}")
PY
