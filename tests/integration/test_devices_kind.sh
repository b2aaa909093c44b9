#!/bin/bash
# One device kind end to end (recipes/devices_kind.lua): passes where the
# kernel accepts the kind, and where it does not, ends as SKIPPED with the
# reason, which this test prints and reports to ctest as skipped (exit 77),
# never as a pass.
. "$(dirname "$0")/lib.sh"
set -e
kind=${1:?usage: test_devices_kind.sh KIND}
leak_begin
set +e
OUT=$("$LNST" run tests/integration/recipes/devices_kind.lua -p kind="$kind" 2>&1)
rc=$?
set -e
leak_check
if [ $rc = 0 ] && echo "$OUT" | grep -q 'Overall result of this Run: SKIPPED'; then
  echo "$OUT" | grep -qE "(device kind|tool) [a-z0-9]+ not (supported by its kernel|found on its PATH)" \
    || { echo "$OUT" >&2; fail "skipped without the reason"; }
  reason=$(echo "$OUT" | sed -n 's/.*SKIPPED: //p' | head -1)
  if echo "$reason" | grep -q "device kind $kind not supported"; then
    echo "skipped: $kind not supported by this kernel ($reason)"
  else
    echo "skipped: $kind: $reason"
  fi
  exit 77
fi
[ $rc = 0 ] || { echo "$OUT" >&2; fail "devices_kind.lua -p kind=$kind exited $rc"; }
echo "$OUT" | grep -q 'Overall result of this Run: PASS' || { echo "$OUT" >&2; fail "$kind: not a PASS"; }
echo "$kind: passed"
