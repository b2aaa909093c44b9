#!/bin/bash
# SIGINT and SIGTERM during a run tear everything down and exit 2;
# SIGKILL of the controller leaves nothing behind either (the kernel reclaims it).
. "$(dirname "$0")/lib.sh"
set -e
R=tests/integration/recipes
leak_begin
for sig in INT TERM; do
  "$LNST" run $R/long_job.lua > /tmp/lnst-sig.$$ 2>&1 &
  pid=$!
  sleep 1
  kill -s $sig $pid
  start=$(date +%s)
  set +e; wait $pid; code=$?; set -e
  [ "$code" = 2 ] || { cat /tmp/lnst-sig.$$; fail "SIG$sig: exit $code, expected 2"; }
  [ $(( $(date +%s) - start )) -le 5 ] || fail "SIG$sig: teardown took too long"
  grep -q "interrupted by SIG$sig" /tmp/lnst-sig.$$ || { cat /tmp/lnst-sig.$$; fail "no interruption message"; }
  leak_check
done
"$LNST" run $R/long_job.lua > /tmp/lnst-sig.$$ 2>&1 &
pid=$!
sleep 1
kill -s KILL $pid
set +e; wait $pid; set -e
leak_check
rm -f /tmp/lnst-sig.$$
echo "1 passed, 0 failed"
