#!/bin/bash
# ethtool-netlink on veth: driver, offloads on/off (checked with ethtool -k),
# channels (ethtool -l), link settings, statistics, and errors naming the
# device, the operation and the driver for what veth lacks.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 run --level 2 tests/integration/recipes/ethtool.lua
expect_out 'PASS .*hello lists ethtool operations: .*features'
expect_out 'PASS .*driver: veth'
expect_out "PASS .*lo's driver: loopback"
expect_out 'PASS .*gro on, tso off'
expect_out 'PASS .*ethtool -k agrees'
expect_out 'PASS .*h1.eth0: ethtool features gro=true tso=false'
expect_out 'PASS .*rx channels set to 2'
expect_out 'PASS .*ethtool -l agrees'
expect_out 'PASS .*link settings'
expect_out 'PASS .*driver statistics'
expect_out 'PASS .*reading coalescing fails: .*ethtool coalesce on eth0: not supported by its driver \(veth\)'
expect_out 'PASS .*a fixed feature'
expect_out 'PASS .*setting the speed'
expect_out 'Overall result of this Run: PASS'
if echo "$OUT" | grep -E '^FAIL'; then fail "a check failed"; fi
leak_check
echo "1 passed, 0 failed"
