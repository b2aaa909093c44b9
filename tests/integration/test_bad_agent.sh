#!/bin/bash
# A peer that sends garbage or oversized frames is dropped with the reason,
# the run ends with exit 2 quickly, and nothing is left behind.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
for fake in garbage huge; do
  start=$(date +%s)
  LNST_AGENT=$ROOT/tests/integration/fake_agent_$fake.sh run_lnst 2 run recipes/hello_world.lua
  expect_out 'protocol error'
  [ $(( $(date +%s) - start )) -le 5 ] || fail "$fake: took too long"
  leak_check
done
ps -eo args | grep -q '[f]ake_agent_' && fail "a fake agent survived"
LNST_AGENT=/nonexistent/lnst-agent run_lnst 2 run recipes/hello_world.lua
expect_out "cannot run agent '/nonexistent/lnst-agent'"
leak_check
echo "1 passed, 0 failed"
