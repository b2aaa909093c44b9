#!/bin/bash
# The kind probe (capabilities.kinds and kinds_absent of hello) against what
# the kernel accepts from iproute2: for every kind the agent knows, the
# same device is made with `ip` in a throwaway network namespace (each kind
# that needs a parent gets a veth of its own there, as in the probe), and
# the agent must report the kind exactly when `ip` could make it; for a kind
# it reports absent, its reason must carry the kernel's explanation that
# `ip` printed (so "Unknown device type" stays that, never a "busy" from a
# parent shared with another kind). The agent's cached probe is removed
# first, so the probe itself runs.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
rm -f /run/lnst/kinds2-"$(cat /proc/sys/kernel/random/boot_id)"
run_lnst 0 run tests/integration/recipes/devices_probe.lua
agent=$(echo "$OUT" | grep '^kind ')

# What iproute2 says for each kind, in an unnamed namespace of its own
# (unshare -n: nothing to leak, nothing other runs could see).
ip_says=$(unshare -n bash -s <<'SH'
ip link set lo up
parent() { ip link add "p$1" type veth peer name "q$1" && echo "p$1"; }
try() { # kind, command...
  local k=$1; shift
  local out
  if out=$("$@" 2>&1); then echo "$k yes"; else echo "$k no $(echo "$out" | tr '\n' ' ')"; fi
}
try veth ip link add t_veth type veth peer name t_veth_p
try bridge ip link add t_br type bridge
try bond ip link add t_bond type bond
try team ip link add t_team type team
try vlan ip link add link "$(parent vlan)" t_vlan type vlan id 1
try macvlan ip link add link "$(parent macvlan)" t_macvlan type macvlan
try macvtap ip link add link "$(parent macvtap)" t_macvtap type macvtap
try ipvlan ip link add link "$(parent ipvlan)" t_ipvlan type ipvlan
try vxlan ip link add t_vxlan type vxlan id 1 remote 203.0.113.1 dstport 4789
try geneve ip link add t_gnv type geneve id 1 remote 203.0.113.1
try gre ip link add t_gre type gre remote 203.0.113.1
try gretap ip link add t_gretap type gretap remote 203.0.113.1
try ip6gre ip link add t_ip6gre type ip6gre remote 2001:db8::1
try ipip ip link add t_ipip type ipip local 203.0.113.2 remote 203.0.113.1
try sit ip link add t_sit type sit local 203.0.113.2 remote 203.0.113.1
try ip6tnl ip link add t_ip6tnl type ip6tnl local 2001:db8::2 remote 2001:db8::1
try vti ip link add t_vti type vti remote 203.0.113.1
try vti6 ip link add t_vti6 type vti6 remote 2001:db8::1
try macsec ip link add link "$(parent macsec)" t_macsec type macsec
try l2tp sh -c 'ip l2tp add tunnel tunnel_id 1 peer_tunnel_id 1 encap udp local 127.0.0.1 remote 127.0.0.1 udp_sport 1701 udp_dport 1701 && ip l2tp add session name t_l2tp tunnel_id 1 session_id 1 peer_session_id 1'
try wireguard ip link add t_wg type wireguard
try dummy ip link add t_dummy type dummy
try vrf ip link add t_vrf type vrf table 10
try tun ip tuntap add t_tun mode tun
try tap ip tuntap add t_tap mode tap
SH
)

kinds=$(echo "$ip_says" | awk '{print $1}' | sort | tr '\n' ' ')
reported=$(echo "$agent" | awk '{print $2}' | sort | tr '\n' ' ')
[ "$kinds" = "$reported" ] || fail "the agent reports kinds {$reported}, this test knows {$kinds}: a kind was added or lost"
bad=0
while read -r k verdict why; do
  mine=$(echo "$agent" | awk -v k="$k" '$2 == k {print $3}')
  reason=$(echo "$agent" | awk -v k="$k" '$2 == k {$1 = $2 = $3 = ""; sub(/^ +/, ""); print}')
  if [ "$mine" != "$verdict" ]; then
    echo "MISMATCH $k: ip: $verdict ${why:-} / agent: $mine $reason" >&2
    bad=1
    continue
  fi
  if [ "$verdict" = no ]; then
    [ -n "$reason" ] || { echo "MISMATCH $k: absent without a reason" >&2; bad=1; }
    # The kernel's explanation as ip printed it ("Error: Unknown device type.").
    ext=$(echo "$why" | sed -n 's/.*Error: \(.*\)\.[[:space:]]*$/\1/p')
    if [ -n "$ext" ] && [[ "$reason" != *"$ext"* ]]; then
      echo "MISMATCH $k: ip says '$ext', the agent '$reason'" >&2
      bad=1
    fi
    echo "absent: $k ($reason)"
  else
    echo "present: $k"
  fi
done <<< "$ip_says"
[ $bad = 0 ] || { echo "$OUT" >&2; fail "the probe disagrees with iproute2"; }
leak_check
echo "probe: agrees with iproute2 on $(echo "$ip_says" | wc -l) kinds"
