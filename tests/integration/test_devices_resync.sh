#!/bin/bash
# Lost notifications: the agent is stopped (SIGSTOP, its PID as the run
# printed it) while 6,000 veth pairs are made, one external device deleted
# and another's MTU changed in its namespace, so its 8 MiB notification
# buffer overflows. Once continued, the agent must notice the loss, re-read
# all devices and report the differences: the controller's table then has
# every new device, lacks the deleted one and shows the new MTU.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$LNST" run tests/integration/recipes/devices_resync.lua -p dir="$dir" -p pairs=6000 > "$dir/out" 2>&1 &
run=$!
pid=
for _ in $(seq 100); do
  pid=$(awk '/^agent pid/ {print $3}' "$dir/out")
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { cat "$dir/out" >&2; fail "the run did not print its agent's pid"; }
in_ns() { nsenter -t "$pid" -n "$@"; }
in_ns ip link add z1 type veth peer name z1p
in_ns ip link add z2 type veth peer name z2p
touch "$dir/phase1"
for _ in $(seq 100); do grep -q '^phase1 seen' "$dir/out" && break; sleep 0.1; done
for i in $(seq 6000); do echo "link add x$i type veth peer name y$i"; done > "$dir/batch"
kill -STOP "$pid"
in_ns ip link del z1
in_ns ip link set z2 mtu 1400
in_ns ip -batch "$dir/batch"
kill -CONT "$pid"
touch "$dir/phase2"
set +e
wait "$run"
rc=$?
set -e
OUT=$(cat "$dir/out")
[ "$rc" = 0 ] || { echo "$OUT" >&2; fail "lnst exited $rc"; }
expect_out 'notifications were lost; re-reading all devices'
expect_out 'PASS.*12000 of 12000 devices made while stopped are known'
expect_out 'PASS.*z1, deleted while the agent was stopped, is gone'
expect_out "PASS.*z2's mtu changed while stopped is 1400"
leak_check
