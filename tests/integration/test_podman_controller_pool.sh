#!/bin/bash
# The containerized controller with agents on machines: the controller image
# runs in the controller namespace of a lab of "machines" (network
# namespaces running lnst-agent --listen, as in test_remote_psk.sh), with the
# pool directory and its keys mounted at /root/.lnst; no PODMAN_URI. The
# machines are left as found.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
. "$(dirname "$0")/remote_env.sh"
set -e
BAKED=localhost/lnst-test-controller-pool-$PODMAN_TEST_ID:latest
SRC=$(mktemp -d)
trap 'lab_teardown; pod rmi -f "$BAKED" >/dev/null 2>&1; rm -rf "$SRC"' EXIT
lab_up 2
"$AGENT" keygen --psk "$LAB/keys/agent.psk" --identity ctl >/dev/null
cp -p "$LAB/keys/agent.psk" "$LAB/keys/ctl.psk"
for i in 1 2; do agent_start "$i" psk; pool_file "$i" psk; done
MSTATE=$(machines_state)
mkdir -p "$LAB/results"
podman_leak_begin

set +e
OUT=$(pod run --rm --network "ns:/run/netns/$NSC" -v "$LAB/pool:/root/.lnst/pool:ro" \
  -v "$LAB/keys:/root/.lnst/keys:ro" -v "$LAB/results:/root/.lnst/results" \
  -e RECIPE=HelloWorldRecipe -e "RECIPE_PARAMS=count=2;net='203.0.113'" -e FORMATTERS=json \
  "$CONTROLLER_IMAGE" 2>&1)
code=$?
set -e
[ $code = 0 ] || { echo "$OUT" >&2; fail "the controller container exited $code"; }
expect_out 'lnst-controller: recipe HelloWorld \(/usr/share/lnst/recipes/hello_world.lua\), agents: agents;'
expect_out 'host "host1" uses "machine m1 \(198\.51\.100\.11:9999, pool pool, psk as .ctl.\)"'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
ls "$LAB"/results/HelloWorld-*/result.json >/dev/null || fail "no result.json"
machines_check
podman_leak_check

# the pool files copied into the image instead (container_files/controller/pool
# of the source tree it is built from); only the keys are mounted
mkdir -p "$SRC/container_files/controller/pool"
cp -r "$ROOT/recipes" "$SRC/recipes"
cp "$ROOT/container_files/controller/entrypoint" "$SRC/container_files/controller/"
cp "$LAB"/pool/*.xml "$SRC/container_files/controller/pool/"
"$LNST" image build --controller --name "$BAKED" --podman-uri "$PODMAN_URI" --source "$SRC" >/dev/null
rm -rf "$LAB"/results/*
set +e
OUT=$(pod run --rm --network "ns:/run/netns/$NSC" -v "$LAB/keys:/root/.lnst/keys:ro" \
  -v "$LAB/results:/root/.lnst/results" -e RECIPE=hello_world -e "RECIPE_PARAMS=count=1;net='203.0.113'" \
  "$BAKED" 2>&1)
code=$?
set -e
[ $code = 0 ] || { echo "$OUT" >&2; fail "the controller container with built-in pool files exited $code"; }
expect_out 'host "host1" uses "machine m1 \(198\.51\.100\.11:9999, pool pool, psk as .ctl.\)"'
expect_out 'Overall result of this Run: PASS'
machines_check
podman_leak_check

# no pool files and no PODMAN_URI: a clear error
set +e
OUT=$(pod run --rm --network none -e RECIPE=hello_world "$CONTROLLER_IMAGE" 2>&1)
code=$?
set -e
[ $code = 2 ] || { echo "$OUT" >&2; fail "exited $code, expected 2"; }
expect_out 'where are the agents\? Set PODMAN_URI \(and IMAGE_NAME\) for agents in containers, or copy pool files'
podman_leak_check
echo "1 passed, 0 failed"
