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
done
