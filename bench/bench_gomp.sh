#!/usr/bin/env bash
# OpenMP regions on libgomp and on weft, side by side in one run: bench/bench_gomp.c is
# built once against libgomp (gcc -fopenmp) and run alternately as linked and with
# LD_PRELOAD=libweft_gomp.so, ROUNDS times each; the table gives the median over the
# rounds of each run's median, and weft / libgomp.
#   bench/bench_gomp.sh [build dir with src/gomp/libweft_gomp.so] [threads] [rounds]
# Defaults: build-gomp, 2 threads, 5 rounds; BENCH_GOMP_REPS (9) repetitions of
# BENCH_GOMP_REGIONS (20000) regions per run. Both runtimes use their default wait policy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-gomp}
threads=${2:-2}
rounds=${3:-5}
reps=${BENCH_GOMP_REPS:-9}
regions=${BENCH_GOMP_REGIONS:-20000}
lib=$(cd "$build" && pwd)/src/gomp/libweft_gomp.so
[[ -f $lib ]] || { echo "bench_gomp.sh: no $lib (build the weft_gomp target)" >&2; exit 1; }
exe=$build/bench_gomp
gcc -O2 -fopenmp "$here/bench_gomp.c" -o "$exe"
declare -A results
for ((r = 0; r < rounds; ++r)); do
  while read -r name _ median _ _ full; do
    results[libgomp,$name]+="${median#median_ns=} "
    results[libgomp_full,$name]+="${full#full_teams=} "
  done < <(OMP_NUM_THREADS=$threads "$exe" "$threads" "$reps" "$regions")
  while read -r name _ median _ _ full; do
    results[weft,$name]+="${median#median_ns=} "
    results[weft_full,$name]+="${full#full_teams=} "
  done < <(OMP_NUM_THREADS=$threads LD_PRELOAD=$lib "$exe" "$threads" "$reps" "$regions")
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf '%-18s %8s %12s %10s %14s  %s\n' case threads libgomp_ns weft_ns weft/libgomp \
  "full teams per round (weft)"
for name in empty_parallel parallel_for_1us; do
  g=$(echo "${results[libgomp,$name]}" | median)
  w=$(echo "${results[weft,$name]}" | median)
  printf '%-18s %8s %12s %10s %14s  %s\n' "$name" "$threads" "$g" "$w" \
    "$(awk -v w="$w" -v g="$g" 'BEGIN {printf "%.2f", w / g}')" "${results[weft_full,$name]}"
done
for name in empty_parallel parallel_for_1us; do
  echo "$name per round, libgomp: ${results[libgomp,$name]}; weft: ${results[weft,$name]}"
done
echo "rounds=$rounds; per round: median of $reps repetitions of $regions regions; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
