#!/bin/sh
# OpenBLAS's sgemm through libweft_gomp gives the bytes libgomp gives.
# Usage: openblas_compare.sh <program> <LD_PRELOAD value for weft>
set -eu
on_libgomp=$("$1")
on_weft=$(LD_PRELOAD="$2" "$1")
echo "libgomp: $on_libgomp"
echo "weft:    $on_weft"
[ "$on_libgomp" = "$on_weft" ] && echo "identical"
