#!/bin/sh
# Runs the XNNPACK MLP benchmark on Debian's pthreadpool and on weft's shim, back to
# back, with the same arguments (they cannot share a process: see bench_xnnpack.cpp).
#   bench/run_xnnpack.sh BUILD_DIR [google-benchmark flags...]
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [benchmark flags...]" >&2
  exit 2
fi
build=$1
shift
for backend in pthreadpool weft; do
  exe="$build/bench/weft-bench-xnnpack-$backend"
  if [ ! -x "$exe" ]; then
    echo "$0: $exe not built (cmake --build $build --target weft-bench-xnnpack-$backend)" >&2
    exit 1
  fi
  echo "== $backend: $exe $*"
  "$exe" "$@"
done
