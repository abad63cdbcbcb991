#!/usr/bin/env bash
# PyTorch, unmodified, under plain libgomp and under weft-run: the same transformer block
# (bench/torch_block.py) run the same way under both, then one report: do the outputs
# agree, did the regions run on weft's workers, does torch.set_num_threads set the team
# size, one forward's time, and two models in one process (a batch-1 service at critical
# priority beside batch-64 inference at low priority).
#
#   bench/run_torch.sh BUILD_DIR [OUT_DIR]
#
# BUILD_DIR: a weft build tree (its src/tools/weft-run) or an install prefix (bin/weft-run).
# OUT_DIR (default BUILD_DIR/torch-bench): each run's JSON, the outputs, weft's metrics.
# TORCH_BENCH_SECONDS (per scenario, default 10), TORCH_BENCH_REPEATS (default 3) and
# TORCH_BENCH_THREADS (default 2) size the runs; TORCH_BENCH_BLAS (openblas, blis) picks the
# BLAS (below); TORCH_BENCH_WEFT_THREADS (default TORCH_BENCH_THREADS) is weft-run's --threads.
#
# Installs what is missing (as root, through apt): Debian's python3-torch, and the OpenMP
# build of OpenBLAS (libopenblas0-openmp), or of BLIS (libblis4-openmp) with
# TORCH_BENCH_BLAS=blis. Debian's libtorch_cpu.so links libblas.so.3 and liblapack.so.3,
# which update-alternatives points at one BLAS; when that is not the chosen one, both
# runs preload it instead (the system is not changed).
# Without libweft_gomp.so the libgomp side still runs and the weft side is skipped, saying so.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
build=$1
out=${2:-$build/torch-bench}
here=$(cd "$(dirname "$0")" && pwd)
threads=${TORCH_BENCH_THREADS:-2}
# Debian's torch is installed for Debian's interpreter, not for a pyenv or venv python3
# that may come first on PATH.
python=/usr/bin/python3

# --- dependencies -------------------------------------------------------------------------
# TORCH_BENCH_BLAS picks the BLAS torch uses: openblas (default; Debian's OpenMP build,
# which takes one process-wide buffer per threaded call, so two threads calling BLAS at
# once wait for each other whatever the OpenMP runtime), or blis (BLIS's OpenMP build,
# reentrant: it separates what the BLAS serializes from what the runtime does).
blas=${TORCH_BENCH_BLAS:-openblas}
# Each: the packages, then the directories of libblas.so.3 and liblapack.so.3. BLIS ships
# no LAPACK; the reference LAPACK (liblapack3) runs on top of it. (OpenBLAS's LAPACK
# would load OpenBLAS itself, and libweft_gomp keeps background workers off whenever
# OpenBLAS's OpenMP build is in the process: src/gomp/blas_probe.cpp.)
case "$blas" in
  openblas) blas_packages=(libopenblas0-openmp); blas_subdir=openblas-openmp; lapack_subdir=openblas-openmp ;;
  blis) blas_packages=(libblis4-openmp liblapack3); blas_subdir=blis-openmp; lapack_subdir=lapack ;;
  *) echo "$0: TORCH_BENCH_BLAS='$blas' is not one of openblas, blis" >&2; exit 2 ;;
esac
missing=()
"$python" -c "import torch" 2>/dev/null || missing+=(python3-torch)
for p in "${blas_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "$0: needs ${missing[*]} (run as root to install them, or apt-get install them)" >&2
    exit 1
  fi
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
blas_preload=""
for pair in "libblas.so.3:$blas_subdir" "liblapack.so.3:$lapack_subdir"; do
  lib=${pair%%:*}
  dir=/usr/lib/$multiarch/${pair#*:}
  current=$(readlink -f "/usr/lib/$multiarch/$lib" || true)
  if [ "$(dirname "$current")" != "$dir" ]; then
    blas_preload="${blas_preload:+$blas_preload:}$dir/$lib"
  fi
done
if [ -n "$blas_preload" ]; then
  echo "== libblas.so.3/liblapack.so.3 are not $blas_subdir/$lapack_subdir here" \
       "(update-alternatives); both runs preload $blas_preload"
  export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$blas_preload"
else
  echo "== BLAS: libblas.so.3 from $blas_subdir, liblapack.so.3 from $lapack_subdir"
fi
# BLIS threads only when told how many (it does not ask omp_get_max_threads); both runs
# get the same count.
if [ "$blas" = blis ]; then export BLIS_NUM_THREADS=${BLIS_NUM_THREADS:-$threads}; fi

# --- weft-run -----------------------------------------------------------------------------
weft_run=""
for candidate in "$build/src/tools/weft-run" "$build/bin/weft-run"; do
  if [ -x "$candidate" ]; then weft_run=$candidate; break; fi
done
if [ -z "$weft_run" ]; then
  echo "$0: no weft-run in $build (cmake --build $build --target weft-run weft_pthreadpool weft_gomp)" >&2
  exit 1
fi
runtimes=(libgomp)
skip_note=""
if why=$("$weft_run" --dry-run true 2>&1 >/dev/null); then
  runtimes+=(weft)
else
  skip_note="weft side SKIPPED: $why"
fi

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.pt
echo "== $(uptime)"
weft_env=$(env | grep '^WEFT_' | sort | tr '\n' ' ' || true)
echo "== WEFT_* set for the weft runs: ${weft_env:-none}"
echo "== torch threads $threads, ${TORCH_BENCH_SECONDS:-10} s per scenario," \
     "${TORCH_BENCH_REPEATS:-3} repeats; results in $out"
export TORCH_BENCH_THREADS=$threads

# run RUNTIME MODE [ARGS...]: the script under RUNTIME, its JSON to OUT/RUNTIME-MODE.json
# (appended to when APPEND=1).
run() {
  local runtime=$1 mode=$2
  shift 2
  local launcher=()
  if [ "$runtime" = weft ]; then
    launcher=("$weft_run" --threads "${TORCH_BENCH_WEFT_THREADS:-$threads}")
    # The check run also dumps weft's metrics at exit (WEFT_METRICS).
    if [ "$mode" = check ]; then launcher+=(--metrics "$out/weft-metrics.json"); fi
    launcher+=(--)
  fi
  echo "== $runtime $mode: ${launcher[*]} $python $here/torch_block.py $mode $*"
  # A run that hangs (a deadlock in a runtime) or fails is recorded as such and the
  # others still run: the report then says which one and why.
  local status=0
  if [ "${APPEND:-0}" != 1 ]; then : > "$out/$runtime-$mode.json"; fi
  timeout --kill-after=10 "$limit" "${launcher[@]}" "$python" "$here/torch_block.py" "$mode" "$@" \
    >> "$out/$runtime-$mode.json" || status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "{\"mode\": \"$mode\", \"error\": \"did not finish in $limit s (killed; hung?)\"}" \
      >> "$out/$runtime-$mode.json"
    echo "== $runtime $mode: did not finish in $limit s, killed" >&2
  elif [ "$status" != 0 ]; then
    echo "{\"mode\": \"$mode\", \"error\": \"exit status $status\"}" >> "$out/$runtime-$mode.json"
    echo "== $runtime $mode: failed with exit status $status" >&2
  fi
}
# Longest a run may take: serve's three scenarios per repeat, plus start-up and warm-up.
limit=$(awk -v s="${TORCH_BENCH_SECONDS:-10}" -v r="${TORCH_BENCH_REPEATS:-3}" \
          'BEGIN { printf "%d", 4 * s * r + 120 }')

for runtime in "${runtimes[@]}"; do
  run "$runtime" info
  run "$runtime" check "$out/$runtime-check.pt"
done
# One forward: a process per runtime in turn, one repeat each, TORCH_BENCH_REPEATS times.
# This VM's speed moves between two levels for minutes at a time (the same forward took
# 9.5 or 14.5 ms, under either runtime), so the two runtimes are compared pair by pair,
# each pair run back to back (the report takes the median of the pairs' ratios).
for ((i = 0; i < ${TORCH_BENCH_REPEATS:-3}; i++)); do
  for runtime in "${runtimes[@]}"; do
    APPEND=1 TORCH_BENCH_REPEATS=1 run "$runtime" forward
  done
done
for runtime in "${runtimes[@]}"; do
  run "$runtime" serve
done

echo "== $(uptime)"
if [ -n "$skip_note" ]; then echo "$skip_note"; fi
"$python" "$here/torch_block.py" report "$out"
if [ -n "$skip_note" ]; then echo; echo "$skip_note"; fi
