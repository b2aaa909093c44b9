#!/bin/bash
# Bad input for test modules (recipes/modules_errors.lua): a module that
# raises, one that times out, a result JSON cannot carry, a tool missing on
# the agent, unreachable peers (ping rate, a connect that never completes,
# no IPv6 route). Each is a FAIL (or a skip) saying which
# module on which host and why; the run goes on and cleans up.
. "$(dirname "$0")/lib.sh"
set -e
# the agents' PATH has everything the modules use except iperf3
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
for t in ping tcpdump taskset; do ln -s "$(command -v $t)" "$BIN/$t"; done
leak_begin
set +e
OUT=$(PATH=$BIN "$LNST" run tests/integration/recipes/modules_errors.lua 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || { echo "$OUT" >&2; fail "exit code $rc, expected 1"; }
expect_out 'FAIL .*Job finished: boom\(mode=raise\) \(module boom on host host1 failed: tests/integration/recipes/modules/boom.lua:6: kaboom: on purpose\)'
expect_out "PASS .*the raising module's traceback names explode\(\)"
expect_out 'FAIL .*Job finished: boom\(mode=sleep\) \(module boom on host host2 timed out after 1(\.[0-9]+)? s\)'
expect_out 'FAIL .*Job finished: boom\(mode=bad-result\) \(module boom on host host1 failed: .*the result cannot be sent: number inf cannot be sent\)'
expect_out 'WARNING .*SKIP IperfClient\(server=198.51.100.2\): test module iperf_client needs iperf3, which is not installed on host host1'
expect_out 'PASS .*Ping result --- From: <host1 \(198.51.100.1\)> To: <host2 \(198.51.100.99\)>'
expect_out 'FAIL .*measured rate 0 is less than min_rate\(50\)'
expect_out 'FAIL .*Job finished: NeperClient\(.*server=198.51.100.99.*\) \(module rr_client on host host1 failed: connect to 198.51.100.99 port 12867: 1 of 1 connections not established within 1(\.[0-9])? s\)'
expect_out "FAIL .*Job finished: Ping\(count=1, dst=2001:db8::99\) \(module ping on host host1 failed: no 'N packets transmitted, M received' line in ping's output \(exit code 2: ping: connect: Network is unreachable\)\)"
expect_out 'PASS .*ping after the failures'
# the traceback is in the failed job's data (level 2)
PATH=$BIN run_lnst 1 run -l 2 tests/integration/recipes/modules_errors.lua
expect_out "traceback:.*"
expect_out "in function 'explode'"
leak_check
echo "1 passed, 0 failed"
