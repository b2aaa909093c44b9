#!/bin/bash
# ping_flood (LNST's PingFloodRecipe) passes and reports its rate; parameters override.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 run recipes/ping_flood.lua -p count=30 -p interval=0.02
expect_out 'PASS .*ping rate 100% >= 50% \(30 of 30 replies\)'
expect_out 'Overall result of this Run: PASS'
leak_check
run_lnst 0 run recipes/ping_flood.lua -p count=10 -p interval=0.01 -p size=1400 -p min_rate=100
expect_out 'PASS .*ping rate 100% >= 100% \(10 of 10 replies\)'
leak_check
echo "1 passed, 0 failed"
