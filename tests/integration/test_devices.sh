#!/bin/bash
# Soft devices (docs/devices.md) on real namespace hosts: bridge, veth pairs
# across namespaces, macvlan/macvtap, vxlan over IPv4 and IPv6, tun/tap, the
# undo of all of it, and bad input with its exact error text. Nothing is
# left behind after any run.
. "$(dirname "$0")/lib.sh"
set -e
R=tests/integration/recipes
leak_begin

for t in bridge macvlan vxlan tuntap undo; do
  run_lnst 0 run $R/devices_$t.lua
  expect_out 'Overall result of this Run: PASS'
  if echo "$OUT" | grep -q 'undo of'; then echo "$OUT" >&2; fail "devices_$t: an undo step failed"; fi
  leak_check
done
expect_out 'links after run.end: eth0 lo'

# Bad input: exit 1 (the failed creations are recorded as FAIL), each error
# word for word.
run_lnst 1 run $R/devices_errors.lua
L="tests/integration/recipes/devices_errors.lua"
exact() { echo "$OUT" | grep -qxF -- "$1" || { echo "$OUT" >&2; fail "missing line: $1"; }; }
exact "case missing: $L:17: host h1: cannot create device 'mv' (macvlan): macvlan t_macvlan0: missing mandatory parameter 'realdev' (EINVAL)"
exact "case range: $L:18: host h1: cannot create device 'vx' (vxlan): vxlan t_vxlan0: parameter 'vxlan_id' must be an integer between 0 and 16777215, got 16777216 (EINVAL)"
exact "case enum: $L:19: host h1: cannot create device 'mv' (macvlan): macvlan t_macvlan0: parameter 'mode' must be one of private, vepa, bridge, passthru, source, got \"bridged\" (EINVAL)"
exact "case unknown: $L:20: host h1: cannot create device 'br' (bridge): bridge t_br0: unknown parameter 'stp' (known: hwaddr, master, mtu, ageing_time, forward_delay, hello_time, max_age, stp_state, priority, vlan_filtering, vlan_protocol, vlan_default_pvid, vlan_stats_enabled, group_fwd_mask, group_address, mcast_snooping, mcast_querier, mcast_router, mcast_igmp_version, mcast_mld_version, nf_call_iptables, nf_call_ip6tables, nf_call_arptables) (EINVAL)"
exact "case clash: $L:21: host h1: cannot create device 'br' (bridge): bridge eth0: a device named 'eth0' already exists on this host (EEXIST)"
exact "case clash_peer: $L:22: host h1: cannot create device 'v' (veth): veth t_veth0: a device named 'eth0' (peer_name) already exists on this host (EEXIST)"
exact "case master_other_host: $L:23: host h1, device eth0: cannot set master h2.t_br0: it is a device of h2, and a master must be on the same host and in the same namespace"
exact "case realdev_other_host: $L:24: host h1: cannot create device 'mv' (macvlan): parameter 'realdev' is h2.eth0, a device of h2 (a device can only refer to devices of its own host and namespace)"
exact "case not_created: $L:25: host h1: cannot create device 'mv' (macvlan): parameter 'realdev' is lnst.device.bridge, which is not created yet (assign it to a host first)"
exact "case field: $L:26: lnst.device.bridge: 'mtu' of a device that is not created yet: assign it to a host first (host.NAME = spec)"
exact "case delete_nic: $L:27: host h1, device eth0: delete failed: eth0 was not created by this run: only devices the run created can be deleted (EPERM)"
exact "case not_slave: $L:28: h2.t_br0:slave_del: h2.eth0 is not a slave of it"
exact "case port_flag: $L:29: host h2, device eth0: bridge_port_set learning=false failed: eth0 is not a bridge port (set its master to a bridge first) (EINVAL)"
exact "case bad_mac: $L:30: host h2, device t_br0: fdb_add 02:00:00:00:00 failed: parameter 'hwaddr' must be a MAC address like 02:00:00:00:00:01, got '02:00:00:00:00' (EINVAL)"
expect_out "case no_kind: $L:31: host h1: link.create failed: unknown device kind 'bonding' \(known: veth bridge bond team vlan macvlan macvtap ipvlan vxlan geneve gre gretap ip6gre ipip sit ip6tnl vti vti6 macsec l2tp wireguard dummy vrf tun tap\) \(EINVAL\)"
# a kind this kernel lacks (which one depends on the kernel)
kind=$(echo "$OUT" | sed -n 's/^unsupported kind tried: //p')
if [ "$kind" = "none (this kernel accepts every kind)" ]; then
  echo "skipped: the unsupported-kind error (this kernel accepts every kind)"
else
  expect_out "^case unsupported: $L:38: host h1: cannot create device 'x' \(.*\): device kind '.*' is not supported by this host's kernel \(.+; it accepts: .*\) \(EOPNOTSUPP\)$"
fi
exact "case rollback: $L:44: host h1: cannot create device 't' (tap): tap rbtap: setting master eth0 failed: Operation not supported (EOPNOTSUPP)"
exact "rbtap gone: true"
expect_out "case move_other_host: $L:51: device .*h1\.pb.* is on host h1; it cannot move to h2\.ns1"
leak_check
echo "1 passed, 0 failed"
