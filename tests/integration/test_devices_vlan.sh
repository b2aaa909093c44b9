#!/bin/bash
# Bridge VLAN filtering (recipes/devices_bridge_vlan.lua): VLAN membership,
# vlans(), traffic within a VLAN and none across. On a kernel built without
# bridge VLAN filtering the run is SKIPPED with the reason, printed here
# and reported to ctest as skipped (exit 77).
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
set +e
OUT=$("$LNST" run tests/integration/recipes/devices_bridge_vlan.lua 2>&1)
rc=$?
set -e
leak_check
if [ $rc = 0 ] && echo "$OUT" | grep -q 'Overall result of this Run: SKIPPED'; then
  reason=$(echo "$OUT" | sed -n 's/.*SKIPPED: //p' | head -1)
  [ -n "$reason" ] || { echo "$OUT" >&2; fail "skipped without the reason"; }
  echo "skipped: bridge VLAN filtering not supported by this kernel ($reason)"
  exit 77
fi
[ $rc = 0 ] || { echo "$OUT" >&2; fail "devices_bridge_vlan.lua exited $rc"; }
echo "$OUT" | grep -q 'Overall result of this Run: PASS' || { echo "$OUT" >&2; fail "not a PASS"; }
echo "1 passed, 0 failed"
