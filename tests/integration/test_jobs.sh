#!/bin/bash
# Jobs: shell strings, expect, timeouts, background kill, streaming, levels,
# output over the limit (regressions: streamed events closed the connection,
# level = DEBUG raised, large output never reported its end).
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
# the timed-out job is the one FAIL of this run (a timeout fails its job)
run_lnst 1 run --level 3 tests/integration/recipes/jobs.lua
[ "$(echo "$OUT" | grep -c '^FAIL')" = 1 ] || { echo "$OUT" >&2; fail "expected exactly one FAIL"; }
expect_out 'FAIL .*Job finished: sleep 5 \(timed out\)'
for c in "shell job, expect = 3" "expect = false passes" "timeout kills the job" "a background job runs on" \
         "job:kill stops it" "streamed output arrives" "a job at debug level" "large output is truncated"; do
  expect_out "PASS .*$c"
done
expect_out 'Overall result of this Run: FAIL'
leak_check
echo "1 passed, 0 failed"
