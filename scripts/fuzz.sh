#!/usr/bin/env bash
# Builds weft's libFuzzer targets (tests/fuzz) with clang and runs each for N seconds.
#   bash scripts/fuzz.sh          30 s per target
#   bash scripts/fuzz.sh 20       what CI runs (about 3 minutes on 2 cores, build included)
#   bash scripts/fuzz.sh 3600     a longer local run
# FUZZ_TARGETS="xml loops" limits the run to those targets.
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/<name>) in
# build-fuzz/fuzz-run/<name>/corpus, so what it adds never touches the repository; a
# finding (crash-*, leak-*, timeout-*, oom-*) is written to build-fuzz/fuzz-run/<name>/
# and its log beside it. Replay one without libFuzzer from a normal test build:
#   build/tests/fuzz/replay_<name> build-fuzz/fuzz-run/<name>/crash-...
# Prints one line per target; exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
start=$SECONDS

# clang, and its compiler-rt for libFuzzer and the sanitizer runtimes (not a dependency
# of clang on Debian 12), besides what weft itself needs.
bash scripts/install-deps.sh clang libclang-rt-14-dev

all_targets=(cpu_list env partition placement synthetic xml loops)
read -r -a targets <<< "${FUZZ_TARGETS:-${all_targets[*]}}"
dir=build-fuzz
jobs=$(nproc)

# Only the library and the fuzz targets: no tests, tools, benchmarks or examples.
mkdir -p "$dir"
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_FUZZ=ON \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF \
  -DWEFT_BUILD_TOOLS=OFF -DWEFT_BUILD_PTHREADPOOL=OFF -DWEFT_INSTALL=OFF > "$dir/configure.log" 2>&1 ||
  { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j"$jobs" --target "${targets[@]/#/fuzz_}"
built=$((SECONDS - start))

export UBSAN_OPTIONS="print_stacktrace=1"
# hwloc's own leaks on some input it rejects (see the file).
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp"
# One target: a fresh copy of its corpus, then libFuzzer for `seconds`. A run slower
# than 60 s per input, or above 2 GiB, is a finding too.
run_target() {
  local name=$1 work="$dir/fuzz-run/$1"
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp tests/fuzz/corpus/"$name"/* "$work/corpus/"
  local dict=()
  [[ -f tests/fuzz/dict/$name.dict ]] && dict=(-dict="tests/fuzz/dict/$name.dict")
  local rc=0
  "$dir/tests/fuzz/fuzz_$name" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" \
    -print_final_stats=1 -timeout=60 -rss_limit_mb=2048 -artifact_prefix="$work/" \
    > "$work/log" 2>&1 || rc=$?
  echo "$rc" > "$work/rc"
}

# Two at a time on two cores (the loops target's workers mostly sleep between inputs).
running=0
for name in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_target "$name" &
  running=$((running + 1))
done
wait

status=0
echo
echo "weft fuzz: ${seconds} s per target, build ${built} s"
for name in "${targets[@]}"; do
  work="$dir/fuzz-run/$name"
  # Executions: libFuzzer's final count, or, after a finding, its last progress line.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  [[ -n "$execs" ]] || execs=$(grep -o '^#[0-9]*' "$work/log" | tail -n 1 | tr -d '#' || true)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$work/log" | tail -n 1)
  shopt -s nullglob
  found=("$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*)
  shopt -u nullglob
  rc=$(cat "$work/rc")
  line=$(printf '%-10s %10s executions, %4s new inputs, %d finding(s)' \
    "$name" "${execs:-0}" "${added:-0}" "${#found[@]}")
  if ((${#found[@]})) || [[ "$rc" != 0 ]]; then
    status=1
    summary=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|weft fuzz finding|.*runtime error)' "$work/log" || true)
    echo "$line: ${found[*]:-exit $rc} ${summary}"
  else
    echo "$line"
  fi
done
echo "weft fuzz: done in $((SECONDS - start)) s"
exit "$status"
