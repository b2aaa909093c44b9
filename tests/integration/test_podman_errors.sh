#!/bin/bash
# Bad input: the service unreachable, the image missing, the network backend
# not available, a container whose agent exits, an agent that never answers.
# Each is an error naming what failed (and the container) within a bounded
# time, and nothing created for the run is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
podman_leak_begin

# within(SECONDS): the last run took at most that long
within() {
  awk -v a="$T0" -v b="$(now)" -v m="$1" 'BEGIN { exit !(b - a <= m) }' ||
    fail "the error took longer than $1 s"
}

T0=$(now)
run_lnst 2 run --podman --podman-uri unix:///run/lnst-test-nothing.sock recipes/hello_world.lua
expect_out 'podman: cannot reach the Podman service at unix:///run/lnst-test-nothing.sock: cannot connect to /run/lnst-test-nothing.sock: No such file or directory'
within 5
podman_leak_check

# a service that accepts connections but never answers (busybox nc in a
# network namespace of this test, running sleep on the connection): the
# timeout bounds it
HANG=lnpe${PODMAN_TEST_ID:0:6}h
ip netns add "$HANG"
ip -n "$HANG" link set lo up
nsenter --net="/run/netns/$HANG" busybox nc -l -p 8899 -e sleep 30 </dev/null >/dev/null 2>&1 &
HANG_PID=$!
for _ in $(seq 1 50); do ip netns exec "$HANG" ss -Hltn 'sport = :8899' | grep -q . && break; sleep 0.1; done
T0=$(now)
set +e
OUT=$(nsenter --net="/run/netns/$HANG" "$LNST" run --podman --podman-uri tcp://127.0.0.1:8899 --podman-timeout 3 \
  recipes/hello_world.lua 2>&1)
code=$?
set -e
kill $HANG_PID 2>/dev/null || true
wait $HANG_PID 2>/dev/null || true
ip netns del "$HANG"
[ $code = 2 ] || { echo "$OUT" >&2; fail "a silent service: exit $code, expected 2"; }
expect_out 'podman: cannot reach the Podman service at tcp://127\.0\.0\.1:8899: Operation timed out after 3[0-9]{3} milliseconds'
within 6
podman_leak_check

T0=$(now)
run_pod 2 --image localhost/lnst-test-missing recipes/hello_world.lua
expect_out 'podman: image localhost/lnst-test-missing is not in the Podman service at unix://.*lnst image build'
within 5
podman_leak_check

T0=$(now)
run_pod 2 --network-backend cni recipes/hello_world.lua
expect_out 'podman: network backend cni is not available: the Podman service at .* uses netavark'
within 5
podman_leak_check

# a malformed URI: told before anything is tried
run_lnst 2 run --podman --podman-uri http://localhost:1 recipes/hello_world.lua
expect_out "lnst: podman: Podman URI 'http://localhost:1': give unix:///PATH \(the service's socket\) or tcp://HOST:PORT"
echo "$OUT" | grep -q 'RUN SUMMARY' && fail "a malformed URI got as far as a run"

# the cni service reads its conflists from another directory than lnst writes
# them to: said, with the way out; the conflist written is removed
wrong=$(mktemp -d)
LNST_CNI_DIR=$wrong run_lnst 2 run --podman --podman-uri "$PODMAN_CNI_URI" --image "$AGENT_IMAGE" \
  --network-backend cni recipes/hello_world.lua
expect_out "podman: CNI network net1 \($wrong/lnst-[0-9a-f]{6}-net1.conflist\): the Podman service at $PODMAN_CNI_URI does not see it: .*network_config_dir.*LNST_CNI_DIR=DIR"
[ -z "$(ls -A "$wrong")" ] || fail "the conflist was left in $wrong: $(ls -A "$wrong")"
rmdir "$wrong"
podman_leak_check

run_lnst 2 run --podman --network-backend vxlan recipes/hello_world.lua
expect_out "unknown network backend 'vxlan' \(known: auto, cni, netavark, netlink\)"
run_lnst 2 run --podman-uri "$PODMAN_URI" recipes/hello_world.lua
expect_out '--podman-uri, --image, --network-backend and --podman-timeout go with --podman'

# images whose agent fails: built from the test image, offline
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
printf 'FROM %s\nCOPY fake-agent /usr/local/bin/lnst-agent\n' "$AGENT_IMAGE" >"$ctx/Containerfile"
printf '#!/bin/sh\necho "lnst-agent: broken on purpose" >&2\nexit 3\n' >"$ctx/fake-agent"
chmod +x "$ctx/fake-agent"
pod build -q -t "$BROKEN_IMAGE" "$ctx" >/dev/null
printf '#!/bin/sh\necho "lnst-agent: hanging on purpose" >&2\nexec sleep 1000\n' >"$ctx/fake-agent"
pod build -q -t "$SILENT_IMAGE" "$ctx" >/dev/null

for b in netavark netlink cni; do
  uri=$PODMAN_URI; [ $b = cni ] && uri=$PODMAN_CNI_URI
  T0=$(now)
  run_lnst 2 run --podman --podman-uri "$uri" --image "$BROKEN_IMAGE" --network-backend $b recipes/hello_world.lua
  # whichever host's container is seen stopped first
  expect_out 'host (host[12]) \(container lnst-[0-9a-f]{6}-host[12]\): container lnst-[0-9a-f]{6}-host[12] (stopped|exited) \(exit code 3\); its last output:'
  expect_out 'lnst-agent: broken on purpose'
  within 10
  podman_leak_check
done

T0=$(now)
run_pod 2 --image "$SILENT_IMAGE" --podman-timeout 3 recipes/hello_world.lua
expect_out 'host host1 \(container lnst-[0-9a-f]{6}-host1\): its agent did not listen on /run/lnst/agent.sock within 3 s \(nor did host2\)'
within 8
podman_leak_check

# a container that dies during the run (its agent killed): the run ends at
# once, and its record names the container, its exit code and last output
LOG=$(mktemp)
before=$(ls "$RUN_ROOT" 2>/dev/null | tr '\n' ' ')
"$LNST" run --podman --podman-uri "$PODMAN_URI" --image "$AGENT_IMAGE" tests/integration/recipes/podman_long.lua \
  >"$LOG" 2>&1 &
RUN_PID=$!
for _ in $(seq 1 300); do grep -q "test body running" "$LOG" && break; sleep 0.1; done
grep -q "test body running" "$LOG" || { kill -INT $RUN_PID; wait $RUN_PID; cat "$LOG" >&2; fail "no test body"; }
id=$(ls "$RUN_ROOT" | while read -r d; do case " $before " in *" $d "*) ;; *) echo "$d" ;; esac; done)
[ -n "$id" ] || { kill -INT $RUN_PID; wait $RUN_PID; fail "no run directory for the run"; }
cname=lnst-$id-h1
T0=$(now)
pod kill "$cname" >/dev/null
set +e; wait $RUN_PID; code=$?; set -e
OUT=$(cat "$LOG"); rm -f "$LOG"
[ $code = 2 ] || { echo "$OUT" >&2; fail "a run whose container died exited $code, expected 2"; }
within 10
expect_out "host h1: agent connection lost"
expect_out "cleanup: host h1 \(container $cname\) lost its agent: container $cname (stopped|exited) \(exit code 137\); its last output:"
podman_leak_check

pod rmi "$BROKEN_IMAGE" "$SILENT_IMAGE" >/dev/null
echo "1 passed, 0 failed"
