#!/bin/bash
# The ENRT recipes this host's kernel cannot run (it lacks bonding, 802.1Q,
# gre, ipip, sit, ip6tnl, ip6gre, geneve, team...) pass in qemu guests
# running Debian's stock kernel, with short parameters (3 pings, one 1 s TCP
# stream per IP version, one offload combination); so do the stand-ins in
# tests/integration/recipes/vm/ for what no ENRT recipe covers here (a
# gretap tunnel, dummy and VRF, MACsec and ESP with AEAD) and for a team's
# failover, which ENRT's Team recipes do not test. Two guests, one CPU
# each, run half of the list each in parallel (on two cores that beats one
# guest running everything); each guest boots once for all its recipes. On
# this host's kernel ENRT's Bond is SKIPPED with the reason. Nothing leaks
# (vm_lib.sh). Labels: vm, enrt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm_lib.sh"
set -e
E=recipes/enrt
R=tests/integration/recipes/vm
S="ping_count=3;perf_tests=['tcp_stream'];perf_duration=1;perf_iterations=1"
O="$S;offload_combinations=[{'gro':'on','gso':'on','tso':'on','tx':'on'}]"
leak_begin

# the host's kernel: skipped with the reason when it lacks bonding
run_lnst 0 run $E/bond.lua -p "perf_tests=[]"
if echo "$OUT" | grep -q 'Overall result of this Run: SKIPPED'; then
  expect_out 'SKIPPED: host host1: device kind bond not supported by its kernel'
else
  expect_out 'Overall result of this Run: PASS'
fi
vm_leak_check

A=("$E/bond.lua:$O" "$E/double_bond.lua:$O" "$E/vlans.lua:$O" "$E/vlans_over_bond.lua:$O"
   "$E/gre_tunnel_over_bond.lua:$O" "$E/linux_bridge_over_bond.lua:$O" "$R/tunnels.lua:kind=gretap"
   "$R/macsec.lua" "$R/dummy_vrf.lua" "$E/team.lua:$O" "$E/geneve_lwt_tunnel.lua:$S"
   "$E/ip6gre_netns_tunnel.lua:$S" "$E/gre_tunnel_over_macvlan.lua:$S")
B=("$E/gre_tunnel.lua:$S" "$E/ipip_tunnel.lua:$S" "$E/sit_tunnel.lua:$S" "$E/geneve_tunnel.lua:$S"
   "$E/gre_tunnel_over_vlan.lua:$S" "$E/gre_lwt_tunnel.lua:$S" "$E/ip6tnl_tunnel.lua:$S"
   "$E/ip6gre_tunnel.lua:$S" "$R/ipsec_esp_aead.lua" "$R/team.lua" "$E/double_team.lua:$O"
   "$E/team_vs_bond.lua:$O")
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
