#!/bin/bash
# Snapshot and restore: an agent serving a throwaway namespace (a "machine"
# that outlives its controller) is made to change everything it can - name,
# MAC, MTU, state and addresses of mapped NICs, routes, a rule, a neighbour,
# sysctls, offloads and channels (through the agent and behind its back by a
# job), a namespace with a NIC moved into it and changed there. Then the
# controller is killed with SIGKILL: within one second the namespace must
# be exactly as it was, and the agent gone.
. "$(dirname "$0")/lib.sh"
set -e
AGENT=${AGENT:?set AGENT to the lnst-agent binary}
AGENT_CLIENT=${AGENT_CLIENT:?set AGENT_CLIENT to the agent_client binary}
NS=lnstrst$$
W=lnstrsw$$
OUTF=/tmp/lnst-restore.$$
leak_begin
cleanup() {
  [ -n "${cpid:-}" ] && kill -9 "$cpid" 2>/dev/null || true
  ip netns del $NS 2>/dev/null || true
  rm -f $OUTF $OUTF.req /run/netns/$W
}
trap cleanup EXIT
# A process killed or orphaned is reaped whenever its new parent gets to
# it: a zombie counts as gone.
gone() {
  local st
  st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$1/status 2>/dev/null)
  [ -z "$st" ] || [ "$st" = Z ]
}
ip netns add $NS
ip -n $NS link add eth0 type veth peer name eth1
ip -n $NS link set eth1 up
ip -n $NS addr add 203.0.113.9/24 dev eth1

# (The qdisc is left out: a device that was never up has "noop"; once up,
# the kernel keeps its default qdisc, which nothing can undo.)
state() {
  ip netns exec $NS sh -c '
    ip -o link show | sed -e "s/ qlen [0-9]*//" -e "s/ qdisc [a-z_]* / /"
    ip -o addr show
    ip route show table all
    ip rule show
    ip neigh show
    sysctl -n net.ipv4.ip_forward net.ipv4.conf.eth0.forwarding
    ethtool -k eth0; ethtool -k eth1
    ethtool -l eth0; ethtool -l eth1' 2>&1
  ls /run/netns | grep -x "$W" || true
}
BEFORE=$(state)
I0=$(ip -n $NS -o link show eth0 | cut -d: -f1)
I1=$(ip -n $NS -o link show eth1 | cut -d: -f1)
FWD=$(ip netns exec $NS sysctl -n net.ipv4.ip_forward)
cat > $OUTF.req <<REQ
{"method":"dev.map","params":{"name":"eth0"}}
{"method":"dev.map","params":{"name":"eth1"}}
{"method":"sysctl.set","params":{"key":"net.ipv4.ip_forward","value":$((1 - FWD))}}
{"method":"sysctl.set","params":{"key":"net/ipv4/conf/eth0/forwarding","value":"0"}}
{"method":"dev.set","params":{"ifindex":$I0,"mtu":1400,"hwaddr":"02:00:00:00:00:01","name":"lnstx0"}}
{"method":"dev.ip_add","params":{"ifindex":$I0,"addr":"198.51.100.1/24"}}
{"method":"dev.up","params":{"ifindex":$I0}}
{"method":"dev.ip_flush","params":{"ifindex":$I1}}
{"method":"dev.ip_add","params":{"ifindex":$I1,"addr":"198.51.100.2/24"}}
{"method":"route.add","params":{"dst":"203.0.113.0/24","via":"198.51.100.2"}}
{"method":"route.add","params":{"dst":"203.0.113.0/25","ifindex":$I0,"table":100,"metric":5}}
{"method":"rule.add","params":{"from":"198.51.100.0/24","table":100,"priority":1000}}
{"method":"neigh.add","params":{"ifindex":$I0,"dst":"198.51.100.77","lladdr":"02:00:00:00:00:77"}}
{"method":"ethtool.set","params":{"ifindex":$I0,"what":"features","values":{"gro":true,"tso":false}}}
{"method":"ethtool.set","params":{"ifindex":$I0,"what":"channels","values":{"rx":2}}}
{"method":"job.start","params":{"shell":"ethtool -K eth1 gso off sg off && ethtool -L eth1 tx 2"}}
sleep 0.5
{"method":"netns.add","params":{"name":"$W"}}
{"method":"dev.set_netns","params":{"ifindex":$I1,"netns":"$W"}}
{"method":"dev.set","netns":"$W","params":{"ifindex":$I1,"mtu":1300}}
{"method":"dev.ip_add","netns":"$W","params":{"ifindex":$I1,"addr":"198.51.100.3/24"}}
REQ
ip netns exec $NS "$AGENT_CLIENT" "$AGENT" --hold < $OUTF.req > $OUTF 2>&1 &
cpid=$!
for i in $(seq 1 100); do grep -q '^HOLD' $OUTF && break; sleep 0.1; done
grep -q '^HOLD' $OUTF || { cat $OUTF; fail "the client did not finish its requests"; }
if grep '"error"' $OUTF; then fail "a request failed"; fi
apid=$(sed -n 's/^agent pid //p' $OUTF)
# everything is changed now
ip -n $NS -o link show lnstx0 2>/dev/null | grep -q 'mtu 1400' || fail "lnstx0 with MTU 1400 is missing"
ip -n $NS -o link show eth1 >/dev/null 2>&1 && fail "eth1 did not move to namespace $W"
[ -e /run/netns/$W ] || fail "/run/netns/$W is missing while the run goes on"
ip netns exec $NS ethtool -k eth1 >/dev/null 2>&1 && fail "eth1 still visible"
ip netns exec $NS ethtool -k lnstx0 | grep -q 'generic-receive-offload: on' || fail "gro was not turned on"
CHANGED=$(state)
[ "$CHANGED" != "$BEFORE" ] || fail "nothing changed"

kill -9 $cpid
set +e; wait $cpid 2>/dev/null; set -e
cpid=
start=$(date +%s%N)
ok=
for i in $(seq 1 40); do
  if [ "$(state)" = "$BEFORE" ] && gone "$apid"; then ok=1; break; fi
  sleep 0.025
done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ -z "$ok" ]; then
  diff <(echo "$BEFORE") <(state) >&2 || true
  gone "$apid" || echo "agent $apid still running" >&2
  fail "the namespace was not restored within 1 s of SIGKILL (checked for $ms ms)"
fi
[ "$ms" -le 1000 ] || fail "restored, but only after $ms ms"
echo "restored $ms ms after SIGKILL of the controller"

# SIGKILL of the agent itself: its namespace workers die with it
# (PR_SET_PDEATHSIG), and their jobs with them.
cat > $OUTF.req <<REQ
{"method":"netns.add","params":{"name":"$W"}}
{"method":"job.start","netns":"$W","params":{"argv":["sleep","600"]}}
REQ
ip netns exec $NS "$AGENT_CLIENT" "$AGENT" --hold < $OUTF.req > $OUTF 2>&1 &
cpid=$!
for i in $(seq 1 100); do grep -q '^HOLD' $OUTF && break; sleep 0.1; done
grep -q '^HOLD' $OUTF || { cat $OUTF; fail "the client did not finish its requests"; }
apid=$(sed -n 's/^agent pid //p' $OUTF)
wpid=$(grep -o '"name":"'$W'","pid":[0-9]*' $OUTF | grep -o '[0-9]*$')
jpid=$(grep -o '"result":{"id":1,"pid":[0-9]*' $OUTF | grep -o '[0-9]*$')
[ -n "$wpid" ] && [ -n "$jpid" ] || { cat $OUTF; fail "no worker or job pid in the replies"; }
gone "$wpid" && fail "worker $wpid is not running"
gone "$jpid" && fail "job $jpid is not running"
kill -9 "$apid"
for i in $(seq 1 40); do gone "$wpid" && gone "$jpid" && break; sleep 0.025; done
gone "$wpid" || fail "worker $wpid outlived its agent"
gone "$jpid" || fail "job $jpid outlived the worker"
echo "worker and job died with the agent"
kill -9 $cpid
set +e; wait $cpid 2>/dev/null; set -e
cpid=
# On a real machine the file stays (as after `ip netns add`); its mount
# lived in the mount namespace of `ip netns exec`, gone with its processes.
rm -f /run/netns/$W
ip netns del $NS
rm -f $OUTF $OUTF.req
trap - EXIT
leak_check
echo "1 passed, 0 failed"
