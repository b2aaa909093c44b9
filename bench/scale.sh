#!/bin/sh
# Scale benchmark (issue: hardening): 10, 50, 100 and 500 netns hosts with one
# NIC each, provisioned and torn down; prints time, per-host cost and memory
# (controller RSS; agents' RSS summed, and PSS, which shares common pages fairly).
# Target: 100 hosts up and down in <= 1.5 s on 2 cores, per-host cost flat.
set -eu
cd "$(dirname "$0")/.."
[ "${BUILD:-build}" = build ] && ./scripts/build.sh
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec "./${BUILD:-build}/lnst" bench/scale.lua ${SIZES:-10 50 100 500}
