#!/bin/sh
# Runs an OpenMP program (linked against libgomp) with libweft_gomp preloaded and
# LD_DEBUG=bindings, and fails if any GOMP_/omp_ symbol the program uses was bound to
# libgomp, or if none was bound to libweft_gomp.
# Usage: check_bindings.sh <program> <libweft_gomp.so> [extra LD_PRELOAD entries first]
set -eu
program=$1
library=$2
preload=${3:+$3:}$library
log=$(mktemp)
trap 'rm -f "$log"' EXIT
LD_DEBUG=bindings LD_DEBUG_OUTPUT="$log" LD_PRELOAD="$preload" "$program" >/dev/null
bindings=$(cat "$log".* 2>/dev/null; rm -f "$log".*)
to_libgomp=$(printf '%s\n' "$bindings" | grep -E "normal symbol .(GOMP_|omp_)" | grep "to .*libgomp" || true)
to_weft=$(printf '%s\n' "$bindings" | grep -E "normal symbol .(GOMP_|omp_)" | grep -c "to .*libweft_gomp" || true)
if [ -n "$to_libgomp" ]; then
  echo "bound to libgomp:"
  printf '%s\n' "$to_libgomp"
  exit 1
fi
if [ "$to_weft" -eq 0 ]; then
  echo "no GOMP_/omp_ symbol was bound to libweft_gomp"
  exit 1
fi
echo "$to_weft GOMP_/omp_ bindings, all to libweft_gomp"
