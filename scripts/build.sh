#!/bin/sh
# Installs missing packages (scripts/deps.sh) and builds lnst into build/.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -f build/CMakeCache.txt ] || cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
