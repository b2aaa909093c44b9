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
# an agent that starts and exits at once: the error says so, not just EIO
# (before its NIC was made, or after, while the controller waits for hello)
LNST_AGENT=/bin/false run_lnst 2 run recipes/hello_world.lua
expect_out 'host host[12]: (its agent \(pid [0-9]+\) exited before NIC eth0 could be created|agent connection lost)'
expect_out 'cleanup: host host1: agent exited 1'
leak_check
LNST_AGENT=/nonexistent/lnst-agent run_lnst 2 run recipes/hello_world.lua
expect_out "cannot run agent '/nonexistent/lnst-agent'"
leak_check
echo "1 passed, 0 failed"
