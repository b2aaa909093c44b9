#!/bin/sh
# Load benchmark (issue: hardening): 1,000 background jobs on one agent, then
# 10,000 RPCs per second for 60 s against an unpaced reference second, with
# the controller's and the agent's RSS sampled every second (bench/load.lua).
# JOBS, SECONDS_ and RATE override the sizes.
set -eu
cd "$(dirname "$0")/.."
[ "${BUILD:-build}" = build ] && ./scripts/build.sh
exec "./${BUILD:-build}/lnst" bench/load.lua "${JOBS:-1000}" "${SECONDS_:-60}" "${RATE:-10000}"
