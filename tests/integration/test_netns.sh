#!/bin/bash
# Namespaces on a host: create, jobs in them, device moves in, across and
# back with the proxy kept, ping across, deletion; iproute2-compatible files
# private to the local host; nothing left after the run, after a failing run
# and after SIGKILL of the controller.
. "$(dirname "$0")/lib.sh"
set -e
R=tests/integration/recipes
leak_begin
run_lnst 0 run $R/netns_moves.lua
expect_out 'PASS .*the proxy is re-keyed, not replaced'
expect_out 'PASS .*moved device is in ns1, enabled, down'
expect_out 'PASS .*driver of the moved device: veth'
expect_out 'PASS .*ping from ns1 across the network'
expect_out 'PASS .*jobs in ns1 see ns1.s devices'
expect_out 'PASS .*ping from ns2'
expect_out "PASS .*ping from h2's root namespace"
expect_out 'PASS .*netns deletion moved eth0 back'
expect_out 'PASS .*ip netns exec ns1 works inside h2'
expect_out "PASS .*the machine's /run/netns does not show h2's ns1"
expect_out "PASS .*moving lo fails: .*lo is a loopback device; it cannot change namespace"
expect_out "PASS .*moving a device to another host's namespace fails: .*is on host h1; it cannot move to h2.ns2"
expect_out 'PASS .*a namespace inside a namespace fails'
expect_out 'Overall result of this Run: PASS'
if echo "$OUT" | grep -E '^(FAIL|WARNING)'; then fail "a check failed or cleanup warned"; fi
leak_check

# SIGKILL of the controller while namespaces, a moved device and a job exist.
"$LNST" run $R/netns_hold.lua > /tmp/lnst-netns.$$ 2>&1 &
pid=$!
for i in $(seq 1 100); do grep -q READY /tmp/lnst-netns.$$ && break; sleep 0.1; done
grep -q READY /tmp/lnst-netns.$$ || { cat /tmp/lnst-netns.$$; kill -9 $pid; fail "the recipe did not get ready"; }
workers=$(pgrep -s "$SID" -x lnst-agent | wc -l)
[ "$workers" -ge 3 ] || fail "expected an agent and two workers, found $workers lnst-agent processes"
kill -9 $pid
set +e; wait $pid; set -e
rm -f /tmp/lnst-netns.$$
leak_check
echo "1 passed, 0 failed"
