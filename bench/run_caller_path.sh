#!/usr/bin/env bash
# Counts the calling thread's instructions in bench/caller_path.cpp with callgrind, for
# this checkout and for an older revision, each built the same way (library only,
# Release; the program with g++ -O2), twice each. Instruction counts repeat on a busy
# machine where times do not.
#   bash bench/run_caller_path.sh [BASE_REV]     (default: 1fafbc4)
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev="${1:-1fafbc4}"
command -v valgrind >/dev/null || { apt-get update -qq; apt-get install -y -qq valgrind; }
work=$(mktemp -d /tmp/weft-caller-path.XXXXXX)
trap 'git worktree remove --force "$work/base-src" 2>/dev/null || true; rm -rf "$work"' EXIT
git worktree add -f --detach -q "$work/base-src" "$base_rev"
for version in base head; do
  src=$([[ $version == base ]] && echo "$work/base-src" || pwd)
  cmake -S "$src" -B "$work/$version" -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_TESTS=OFF \
        -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF -DWEFT_BUILD_TOOLS=OFF \
        -DWEFT_BUILD_PTHREADPOOL=OFF >/dev/null
  cmake --build "$work/$version" -j"$(nproc)" >/dev/null
  g++ -O2 -std=c++20 -I"$src/include" -I"$work/$version/include" bench/caller_path.cpp \
      "$work/$version/libweft.a" -lhwloc -lpthread -o "$work/probe-$version"
  for run in 1 2; do
    valgrind --tool=callgrind --separate-threads=yes \
             --callgrind-out-file="$work/cg-$version-$run.out" "$work/probe-$version" >/dev/null 2>&1
    echo "$version ($([[ $version == base ]] && echo "$base_rev" || git rev-parse --short HEAD)) run $run:" \
         "calling thread $(grep -h '^summary' "$work/cg-$version-$run.out-01" | cut -d' ' -f2) instructions"
  done
done
# Where the instructions go, per function (run 1 of each).
for version in base head; do
  echo "== $version: the calling thread's top functions (self instructions)"
  callgrind_annotate --inclusive=no "$work/cg-$version-1.out-01" 2>/dev/null |
    sed -n '/file:function/,$p' | sed -n '3,16p' | sed 's/ \[\/.*//' | cut -c1-150
done
