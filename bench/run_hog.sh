#!/usr/bin/env bash
# The loop-under-interference benchmark (bench_hog.cpp): each library's time per call of
# a fixed loop (1000 x ~10 us on 2 threads) on a quiet machine and next to a CPU hog
# pinned to one core, then the same quiet loop under a cgroup CPU quota of 1.0 CPU
# (skipped, with the reason, where this process cannot create a cgroup).
#   bash bench/run_hog.sh [BUILD_DIR] [REPETITIONS]     default: build 5
# Prints medians over the repetitions and each library's slowdown (hog / quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
reps="${2:-5}"
exe="$build/bench/weft-bench-hog"
cmake --build "$build" --target weft-bench-hog -j"$(nproc)" > /dev/null
flags=(--benchmark_repetitions="$reps" --benchmark_format=json)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== quiet and hog: $exe ${flags[*]}"
"$exe" "${flags[@]}" > "$out/hog.json"

# A cgroup with a quota of one CPU: v2 (cpu.max) or v1 (cpu.cfs_quota_us).
quota_dir=""
if [[ -w /sys/fs/cgroup/cgroup.subtree_control ]] && mkdir "/sys/fs/cgroup/weft-hog-$$" 2>/dev/null; then
  quota_dir="/sys/fs/cgroup/weft-hog-$$"
  echo "100000 100000" > "$quota_dir/cpu.max"
elif [[ -d /sys/fs/cgroup/cpu ]] && mkdir "/sys/fs/cgroup/cpu/weft-hog-$$" 2>/dev/null; then
  quota_dir="/sys/fs/cgroup/cpu/weft-hog-$$"
  echo 100000 > "$quota_dir/cpu.cfs_period_us"
  echo 100000 > "$quota_dir/cpu.cfs_quota_us"
fi
if [[ -n "$quota_dir" ]]; then
  echo "== quota 1.0 CPU ($quota_dir): $exe --benchmark_filter=hog:0 ${flags[*]}"
  sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$quota_dir" \
    "$exe" --benchmark_filter='hog:0' "${flags[@]}" > "$out/quota.json"
  rmdir "$quota_dir"
else
  echo "== quota 1.0 CPU: skipped (cannot create a cgroup with a CPU quota here)"
fi

python3 - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
def medians(path):
    runs = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "iteration":
            lib, arg = b["run_name"].split("/")[:2]
            runs.setdefault((lib.removeprefix("Hog_"), arg), []).append(b["real_time"])
    return {key: statistics.median(times) for key, times in runs.items()}
hog = medians(os.path.join(out, "hog.json"))
libs = sorted({lib for lib, _ in hog}, key=lambda l: (l != "weft", l))
quota_path = os.path.join(out, "quota.json")
quota = medians(quota_path) if os.path.exists(quota_path) else {}
print(f"{'library':<12} {'quiet ms':>9} {'hog ms':>9} {'slowdown':>9} {'quota 1 CPU ms':>15}")
for lib in libs:
    q, h = hog[(lib, "hog:0")], hog[(lib, "hog:1")]
    qt = quota.get((lib, "hog:0"))
    print(f"{lib:<12} {q:9.3f} {h:9.3f} {h / q:8.2f}x {'' if qt is None else f'{qt:15.3f}'}")
PY
