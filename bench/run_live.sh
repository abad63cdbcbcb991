#!/usr/bin/env bash
# Live requests beside background work, as an ordinary user (issue 16): runs
# weft-bench-live (weft, oneTBB, libgomp, pthreadpool) and weft-bench-live-libomp
# (LLVM OpenMP) RUNS times each for two background item lengths, without privilege,
# and prints the median of every figure per library, then checks the targets. First it
# prints the machine's own wake-up tail (weft-bench-wake-late), as a floor for the p99s.
#
#   bash bench/run_live.sh [build-dir] [runs]        (default: build 5)
#
# Privilege: every benchmark process runs as user nobody with no capabilities (effective,
# permitted, inheritable, ambient and bounding sets cleared by setpriv) and RLIMIT_NICE 0
# (set by prlimit), so no thread may raise its priority; the binaries print what the
# kernel says (uid, CapEff, RLIMIT_NICE) and refuse to run with CAP_SYS_NICE or a
# non-zero RLIMIT_NICE. Run as root (to drop to nobody) or as any ordinary user (then
# setpriv only clears what that user has).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
runs="${2:-5}"
bin="$build/bench/weft-bench-live"
bin_omp="$build/bench/weft-bench-live-libomp"
for b in "$bin" "$bin_omp" "$build/bench/weft-bench-wake-late"; do
  [[ -x "$b" ]] || { echo "missing $b: cmake --build $build --target $(basename "$b")" >&2; exit 2; }
done
source bench/unprivileged.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"
# The machine's own wake-up tail first (no library involved): what the figures below
# cannot go under on this machine.
"${unprivileged[@]}" "$build/bench/weft-bench-wake-late" | tee "$out/wake" >&2
for item_us in 200 3200; do
  for ((r = 1; r <= runs; ++r)); do
    echo "== background items ${item_us} us, run $r/$runs" >&2
    # The machine's load average (1/5/15 min) as the run starts: other jobs share the CPUs.
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/raw_$item_us" >&2
    "${unprivileged[@]}" "$bin" --item-us "$item_us" | tee -a "$out/raw_$item_us" >&2
    "${unprivileged[@]}" "$bin_omp" --item-us "$item_us" | tee -a "$out/raw_$item_us" >&2
  done
done
python3 - "$out" "$runs" <<'EOF'
import statistics, sys, os
out, runs = sys.argv[1], int(sys.argv[2])
fields = ["unloaded_p99_us", "loaded_p99_us", "loaded_p50_us", "loaded_late_p99_us",
          "bg_alone_items_s", "bg_loaded_items_s"]
ok = True
privileges = set()
print("the machine alone, a thread waking every 1 ms (weft-bench-wake-late):")
for line in open(os.path.join(out, "wake")):
    print("  " + line.split(None, 1)[1].strip())
for item in ("200", "3200"):
    rows = {}
    loads = []
    for line in open(os.path.join(out, "raw_" + item)):
        if line.startswith("privilege:"):
            privileges.add(line.strip())
        if line.startswith("load:"):
            loads.append(line.split(":", 1)[1].strip())
        if not line.startswith("RESULT"):
            continue
        parts = line.split()
        name, kv = parts[1], parts[2:]
        d = dict(zip(kv[0::2], map(float, kv[1::2])))
        rows.setdefault(name, []).append(d)
    print(f"\nbackground items {item} us: median of {runs} runs (us; items/s)")
    print(f"{'library':12} {'unloaded p99':>12} {'loaded p50':>10} {'loaded p99':>10} "
          f"{'late p99':>9} {'bg alone/s':>10} {'bg loaded/s':>11}")
    med = {}
    for name, ds in rows.items():
        med[name] = {f: statistics.median(d[f] for d in ds) for f in fields}
        m = med[name]
        print(f"{name:12} {m['unloaded_p99_us']:12.1f} {m['loaded_p50_us']:10.1f} "
              f"{m['loaded_p99_us']:10.1f} {m['loaded_late_p99_us']:9.1f} "
              f"{m['bg_alone_items_s']:10.1f} {m['bg_loaded_items_s']:11.1f}")
    for p in sorted(privileges):
        print("  as run: " + p)
    print("  load average at each run's start: " + ", ".join(loads))
    if "weft" not in med:
        continue
    w = med["weft"]
    others = {k: v for k, v in med.items() if k != "weft"}
    ratio = w["loaded_p99_us"] / w["unloaded_p99_us"]
    best_other = min(v["loaded_p99_us"] for v in others.values()) if others else float("inf")
    best_bg = max(v["bg_loaded_items_s"] for v in med.values())
    checks = [
        (f"weft loaded p99 / unloaded p99 = {ratio:.2f} <= 1.5", ratio <= 1.5),
        (f"weft loaded p99 {w['loaded_p99_us']:.1f} < every other library's (best {best_other:.1f})",
         w["loaded_p99_us"] < best_other),
        (f"weft background {w['bg_loaded_items_s']:.1f}/s >= 0.9 x best {best_bg:.1f}/s",
         w["bg_loaded_items_s"] >= 0.9 * best_bg),
    ]
    for text, good in checks:
        print(("  met:    " if good else "  missed: ") + text)
        ok &= good
sys.exit(0 if ok else 1)
EOF
