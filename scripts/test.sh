#!/usr/bin/env bash
# Quick start 2: installs what is missing, builds weft with its tests, benchmarks and
# examples, and runs the whole test suite.
#   bash scripts/test.sh            release build, every test
#   bash scripts/test.sh thread     ThreadSanitizer build, every test
#   bash scripts/test.sh address    AddressSanitizer + UBSan build, every test
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
sanitize="${1:-}"
if [[ -z "$sanitize" ]]; then
  dir=build
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release
else
  dir="build-$sanitize"
  # Benchmarks and examples measure speed; a sanitizer build only needs the tests.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_SANITIZE="$sanitize" \
        -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
fi
cmake --build "$dir" -j"$(nproc)"
# The sanitizers' options (suppressions, halting on the first report) come with each
# test (its ENVIRONMENT, tests/CMakeLists.txt), so plain `ctest` runs the same way.
ctest --test-dir "$dir" --output-on-failure -j2 --timeout 600
