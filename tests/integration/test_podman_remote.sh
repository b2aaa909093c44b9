#!/bin/bash
# A remote Podman service (tcp://): the agents are reached over TCP with a
# pre-shared key through ports the service publishes. The "remote machine" is
# a network namespace running a Podman service of its own on
# tcp://203.0.113.1:8899; the controller runs in a second namespace linked to
# it by a veth pair. cni and netlink need the service here and say so;
# `lnst cleanup` works through the TCP URI too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
R=lnpr${PODMAN_TEST_ID:0:6}r
C=lnpr${PODMAN_TEST_ID:0:6}c
RSTATE=$STATE/remote
URI=tcp://203.0.113.1:8899
LOG=$(mktemp)
RUN_PID=
teardown() {
  # a run left going by a failed check: interrupted (it cleans up), bounded
  if [ -n "$RUN_PID" ]; then
    kill -INT "$RUN_PID" 2>/dev/null || true
    (sleep 30; kill -KILL "$RUN_PID") >/dev/null 2>&1 &
    wait "$RUN_PID" 2>/dev/null || true
    kill $! 2>/dev/null || true
  fi
  [ -f "$RSTATE/service.pid" ] && kill "$(cat "$RSTATE/service.pid")" 2>/dev/null
  for _ in $(seq 1 50); do [ -f "$RSTATE/service.pid" ] && kill -0 "$(cat "$RSTATE/service.pid")" 2>/dev/null || break; sleep 0.1; done
  ip netns del $R 2>/dev/null
  ip netns del $C 2>/dev/null
  rm -rf "$RSTATE" "$LOG"
}
trap teardown EXIT
in_c() { nsenter --net=/run/netns/$C "$@"; }

ip netns add $R
ip netns add $C
ip link add ${R}v netns $R type veth peer name ${C}v netns $C
ip -n $R addr add 203.0.113.1/30 dev ${R}v
ip -n $C addr add 203.0.113.2/30 dev ${C}v
for ns in $R $C; do ip -n $ns link set lo up; done
ip -n $R link set ${R}v up
ip -n $C link set ${C}v up
mkdir -p "$RSTATE/networks"
# the control networks take their subnets from 203.0.113.64/26
cat >"$RSTATE/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
network_config_dir = "$RSTATE/networks"
default_subnet = "203.0.113.128/26"
default_subnet_pools = [{"base" = "203.0.113.64/26", "size" = 28}]
EOF
# only the network namespace of the "remote machine": the storage (and its
# mounts) is this machine's, shared with the test services
CONTAINERS_CONF=$RSTATE/containers.conf setsid nsenter --net=/run/netns/$R \
  podman system service --time 0 $URI >"$RSTATE/service.log" 2>&1 </dev/null &
echo $! >"$RSTATE/service.pid"
for _ in $(seq 1 100); do in_c podman --url $URI version >/dev/null 2>&1 && break; sleep 0.1; done
in_c podman --url $URI version >/dev/null || { cat "$RSTATE/service.log" >&2; fail "the remote service did not start"; }

# the containers of this tree's test image only: the service shares the
# storage with every other service of this machine (other trees' tests)
remote_state() {
  echo "containers: $(in_c podman --url $URI ps -a --filter ancestor="$AGENT_IMAGE" --format '{{.Names}}' |
    sort | tr '\n' ' ')"
  echo "networks: $(in_c podman --url $URI network ls --format '{{.Name}}' | sort | tr '\n' ' ')"
  echo "links: $(ip -n $R -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')"
}
podman_leak_begin
REMOTE_BEFORE=$(remote_state)
remote_check() {
  local after
  for _ in $(seq 1 20); do
    after=$(remote_state)
    [ "$after" = "$REMOTE_BEFORE" ] && return 0
    sleep 0.1
  done
  echo "before: $REMOTE_BEFORE" >&2
  echo "after:  $after" >&2
  fail "the run left something on the remote service"
}

run_c() {
  local want=$1; shift
  set +e
  OUT=$(in_c "$LNST" "$@" 2>&1)
  local got=$?
  set -e
  [ "$got" = "$want" ] || { echo "$OUT" >&2; fail "lnst $* exited $got, expected $want"; }
}

run_c 0 run --podman --podman-uri $URI --image "$AGENT_IMAGE" recipes/hello_world.lua -p count=2
expect_out 'host "host1" uses "podman container lnst-[0-9a-f]{6}-host1 \(image [^ ]+, netavark networks, agent at 203\.0\.113\.1:[0-9]+ over TLS-PSK\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
remote_check
podman_leak_check

# the containerized controller with PODMAN_URI=tcp://... (upstream's way):
# the controller image in the controller's namespace
set +e
OUT=$(pod run --rm --network "ns:/run/netns/$C" -e PODMAN_URI=$URI -e IMAGE_NAME="$AGENT_IMAGE" \
  -e RECIPE=HelloWorldRecipe -e "RECIPE_PARAMS=count=1" -e FORMATTERS=json "$CONTROLLER_IMAGE" 2>&1)
code=$?
set -e
[ $code = 0 ] || { echo "$OUT" >&2; fail "the controller container on $URI exited $code"; }
expect_out "lnst-controller: recipe HelloWorld \(/usr/share/lnst/recipes/hello_world.lua\), agents: podman at $URI"
expect_out 'host "host2" uses "podman container lnst-[0-9a-f]{6}-host2 \(image [^ ]+, netavark networks, agent at 203\.0\.113\.1:[0-9]+ over TLS-PSK\)'
expect_out 'Overall result of this Run: PASS'
remote_check
podman_leak_check

for b in cni netlink; do
  run_c 2 run --podman --podman-uri $URI --image "$AGENT_IMAGE" --network-backend $b recipes/hello_world.lua
  expect_out "network backend $b needs the Podman service on this machine \(a unix:// URI\); $URI is remote"
  remote_check
done

# a killed controller: the agents lose their TLS sessions and stop; lnst
# cleanup removes the rest through the TCP URI
# (nsenter execs lnst: $! is the controller itself)
before=$(ls "$RUN_ROOT" 2>/dev/null | tr '\n' ' ')
nsenter --net=/run/netns/$C "$LNST" run --podman --podman-uri $URI --image "$AGENT_IMAGE" \
  tests/integration/recipes/podman_long.lua >"$LOG" 2>&1 &
RUN_PID=$!
for _ in $(seq 1 300); do grep -q "test body running" "$LOG" && break; sleep 0.1; done
grep -q "test body running" "$LOG" || { cat "$LOG" >&2; fail "the run did not reach its test body"; }
id=$(ls "$RUN_ROOT" | while read -r d; do case " $before " in *" $d "*) ;; *) echo "$d" ;; esac; done)
[ -n "$id" ] || fail "no run directory for the run"
kill -KILL $RUN_PID
wait $RUN_PID 2>/dev/null || true
RUN_PID=
# this run's containers (others' runs may share the storage)
for _ in $(seq 1 100); do
  [ -z "$(in_c podman --url $URI ps -q --filter label=lnst.run=$id)" ] && break
  sleep 0.1
done
[ -z "$(in_c podman --url $URI ps -q --filter label=lnst.run=$id)" ] ||
  fail "the agents kept running without their controller"
run_c 0 cleanup --podman-uri $URI
expect_out "removed container lnst-$id-h1"
expect_out "removed network lnst-$id--ctl"
expect_out "removed network lnst-$id-n"
expect_out "removed run directory $RUN_ROOT/$id"
remote_check
podman_leak_check
echo "1 passed, 0 failed"
