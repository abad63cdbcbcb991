#!/usr/bin/env bash
# Quick start 1: installs what is missing, builds weft, runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target weft-probe
./build/src/tools/weft-probe "$@"
