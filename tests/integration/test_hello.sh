#!/bin/bash
# hello_world passes on netns hosts, states are readable without RPCs, nothing leaks.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 run recipes/hello_world.lua -p count=2
expect_out 'host "host1" uses "netns host host1'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.2 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.1 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
# regression: agents that answered bye were SIGKILLed while exiting
echo "$OUT" | grep -q 'cleanup:' && { echo "$OUT" >&2; fail "cleanup reported a problem"; }
leak_check
run_lnst 0 run --level 2 recipes/hello_world.lua -p count=1 -p "net='203.0.113'"
expect_out 'ip_add 203\.0\.113\.1/24'
expect_out 'Overall result of this Run: PASS'
leak_check
echo "1 passed, 0 failed"
