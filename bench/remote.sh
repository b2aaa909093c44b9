#!/bin/bash
# Benchmark for remote agents (run as root from anywhere; builds first):
#  (a) RPC round trip p50 over 10,000 calls to an lnst-agent --listen over
#      TCP+TLS 1.3 (psk) against plain TCP, in the same run.
#  (b) the time to connect, authenticate and get hello from 20 agents at
#      once (plain, psk, cert), with the ratio to plain.
# Target: (a) TLS adds <= 20 %. Everything runs in a private network
# namespace on its loopback (nothing else is reached), pinned to one CPU:
# on a loaded 2-core machine, where the scheduler puts the two ends of a
# round trip otherwise decides the result more than the code does.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ "$BUILD" = build ] && ./scripts/build.sh
CPU=$(( $(nproc) - 1 ))
export LNST_TLS_PLUGIN=${LNST_TLS_PLUGIN:-$PWD/$BUILD/lnst-tls.so}
exec taskset -c "$CPU" unshare -n sh -c "ip link set lo up && $BUILD/bench/bench_remote $BUILD/lnst-agent ${CALLS:-10000}"
