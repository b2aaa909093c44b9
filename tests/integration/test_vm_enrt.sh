#!/bin/bash
# Recipes the host kernel cannot run (bonding, 802.1Q, gre, ipip, sit,
# ip6tnl, geneve, macsec, ESP, team, dummy, vrf: stand-ins for the ENRT
# recipes until the ENRT library has them, tests/integration/recipes/vm/)
# pass in qemu guests running Debian's stock kernel. Two guests, one CPU
# each, run half of the list each in parallel (on two cores that beats one
# guest running everything); each guest boots once for all its recipes.
# On this host's kernel the same recipes are SKIPPED with the reason.
# Nothing leaks (vm_lib.sh). Label: vm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm_lib.sh"
set -e
R=tests/integration/recipes/vm
leak_begin

# the host's kernel: skipped with the reason when it lacks bonding
run_lnst 0 run $R/bond.lua
if echo "$OUT" | grep -q 'Overall result of this Run: SKIPPED'; then
  expect_out 'SKIPPED: host host1: device kind bond not supported by its kernel'
else
  expect_out 'Overall result of this Run: PASS'
fi
leak_check

A=("$R/bond.lua" "$R/double_bond.lua" "$R/vlans.lua" "$R/vlans.lua:over_bond=true"
   "$R/tunnels.lua:kind=gre;perf_duration=1" "$R/tunnels.lua:kind=ipip" "$R/tunnels.lua:kind=sit"
   "$R/tunnels.lua:kind=ip6tnl")
B=("$R/tunnels.lua:kind=geneve" "$R/macsec.lua" "$R/ipsec_esp_aead.lua" "$R/team.lua"
   "$R/team.lua:peer=team" "$R/team.lua:peer=bond" "$R/dummy_vrf.lua")
# the kernel first (an empty cache: download and unpack once, not twice)
"$LNST" scripts/vm-kernel.lua auto > /dev/null
"$LNST" tests/integration/vm_suite.lua "$VMDIR" +vm_smp=1 "${A[@]}" > "$VMDIR/a.out" 2>&1 &
a=$!
"$LNST" tests/integration/vm_suite.lua "$VMDIR" +vm_smp=1 "${B[@]}" > "$VMDIR/b.out" 2>&1 &
b=$!
set +e; wait $a; ca=$?; wait $b; cb=$?; set -e
OUT=$(cat "$VMDIR/a.out" "$VMDIR/b.out")
rm -f "$VMDIR/a.out" "$VMDIR/b.out"
echo "$OUT" | grep '^=== RESULT'
for r in "${A[@]}" "${B[@]}"; do
  echo "$OUT" | grep -qF "=== RESULT $r PASS" || { echo "$OUT" >&2; fail "$r did not pass"; }
done
[ "$ca" = 0 ] && [ "$cb" = 0 ] || { echo "$OUT" >&2; fail "suite exit codes $ca and $cb"; }
[ "$(ls -d "$VMDIR"/lnst-vm-* | wc -l)" = 2 ] || fail "expected one boot per suite: $(ls "$VMDIR")"
vm_leak_check
echo "1 passed, 0 failed"
