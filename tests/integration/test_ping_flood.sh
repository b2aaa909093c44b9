#!/bin/bash
# ping_flood (LNST's PingFloodRecipe) passes and reports its rate; parameters override.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 run recipes/ping_flood.lua -p count=30 -p interval=0.02
expect_out 'PASS .*ping rate 100% >= 50% \(30 of 30 replies\)'
expect_out 'Overall result of this Run: PASS'
leak_check
run_lnst 0 run recipes/ping_flood.lua -p count=10 -p interval=0.01 -p size=8000 -p mtu=9000 -p min_rate=100 -l 2
expect_out 'PASS .*ping rate 100% >= 100% \(10 of 10 replies\)'
expect_out 'host1\.eth0: mtu = 9000'
expect_out 'bytes from 198\.51\.100\.2: icmp_seq=10'
leak_check
echo "1 passed, 0 failed"
