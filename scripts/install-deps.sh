#!/usr/bin/env bash
# Installs the Debian packages weft needs that are not there yet (run as root).
#   bash scripts/install-deps.sh [EXTRA_PACKAGE...]   e.g. scripts/fuzz.sh adds clang
set -euo pipefail
packages=(g++ cmake make pkg-config libhwloc-dev libudev-dev hwloc libgtest-dev libbenchmark-dev
          libtbb-dev libpthreadpool-dev libeigen3-dev libxnnpack-dev nlohmann-json3-dev python3 "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "weft: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
