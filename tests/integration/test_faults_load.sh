#!/bin/bash
# Load, bounded (docs/faults.md): 1,000 background jobs on one agent all pass
# and leave nothing; 10,000 RPCs per second for 5 s keep the controller's and
# the agent's RSS within 2 MiB of where they were after the reference second.
# (bench/load.sh is the 60-second version.)
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
# the agent raises its own open-file limit: run it under the usual 1024
ulimit -S -n 1024
run_lnst 0 bench/load.lua 1000 5 10000 2048
echo "$OUT"
expect_out '^jobs: 1000 background jobs started in .* 1000 passed$'
expect_out '^rpc: sustained [0-9]+ rpc/s for 5\.[0-9] s'
expect_out '^rpc: RSS growth after the reference second: controller'
leak_check
echo "1 passed, 0 failed"
