#!/usr/bin/env bash
# Quick start 1: installs what is missing, builds weft, and runs the demo: what weft sees
# on this machine (weft-probe), then an MLP block whose GEMM tiles run on weft
# (examples/mlp_inference). Extra arguments go to mlp_inference, e.g. --threads 4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target weft-probe mlp_inference
./build/src/tools/weft-probe
echo
./build/examples/mlp_inference "$@"
