#!/bin/bash
# The containerized controller: the controller image (built offline by the
# harness) runs a recipe from RECIPE / RECIPE_PARAMS / FORMATTERS / DEBUG
# against agents in containers of the same Podman service (PODMAN_URI,
# IMAGE_NAME); RECIPE_PARAMS with code in it is refused before anything is
# created; upstream class names map to this project's recipes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
podman_leak_begin
RES=$(mktemp -d)
trap 'rm -rf "$RES"' EXIT
mkdir -p "$RUN_ROOT"

# controller EXPECTED_EXIT [podman run options] -- [environment]: runs the
# controller image with the service's socket and the run directories mounted
controller() {
  local want=$1; shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  local envs=()
  for e in "$@"; do envs+=(-e "$e"); done
  set +e
  OUT=$(pod run --rm "${opts[@]}" -v "$SOCK:/run/podman/podman.sock" -v "$RUN_ROOT:$RUN_ROOT" \
    -v "$RES:/root/.lnst/results" -e LNST_PODMAN_RUN_DIR="$RUN_ROOT" \
    -e PODMAN_URI=unix:///run/podman/podman.sock -e IMAGE_NAME="$AGENT_IMAGE" \
    "${envs[@]}" "$CONTROLLER_IMAGE" 2>&1)
  local got=$?
  set -e
  [ "$got" = "$want" ] || { echo "$OUT" >&2; fail "the controller container exited $got, expected $want"; }
}

controller 0 --network none -- RECIPE=hello_world "RECIPE_PARAMS=count=2;net='203.0.113'" \
  "FORMATTERS=human;json;junit" DEBUG=0 NETWORK_BACKEND=netavark
expect_out 'lnst-controller: recipe HelloWorld \(/usr/share/lnst/recipes/hello_world.lua\), agents: podman at unix:///run/podman/podman.sock'
expect_out 'uses "podman container lnst-[0-9a-f]{6}-host1 \(image localhost/lnst-test-agent-[^ ]+:latest, netavark networks'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
echo "$OUT" | grep -q 'lnst: podman: run ' && fail "DEBUG=0 turned debug logging on"
dir=$(ls -d "$RES"/HelloWorld-* | head -1)
[ -s "$dir/result.txt" ] && [ -s "$dir/result.json" ] && [ -s "$dir/result.xml" ] && [ -s "$dir/run.json" ] ||
  fail "results missing in $dir: $(ls "$dir")"
grep -q '"PASS"' "$dir/result.json" || fail "result.json does not say PASS"
grep -q '<testsuite' "$dir/result.xml" || fail "result.xml is not JUnit"
podman_leak_check

# upstream class names and DEBUG=1; the netlink backend from a controller in
# the machine's PID namespace
rm -rf "${RES:?}"/*
controller 0 --privileged --pid host --network none -- RECIPE=HelloWorldRecipe RECIPE_PARAMS=count=1 DEBUG=1 \
  NETWORK_BACKEND=netlink
expect_out 'recipe HelloWorld \(/usr/share/lnst/recipes/hello_world.lua\)'
expect_out 'netlink networks'
expect_out 'lnst: podman: run [0-9a-f]{6}, backend netlink, image localhost/lnst-test-agent-[^ ]+:latest'
expect_out 'Overall result of this Run: PASS'
podman_leak_check

# code in RECIPE_PARAMS is refused before anything is created
controller 2 --network none -- RECIPE=hello_world "RECIPE_PARAMS=count=__import__('os').system('touch /tmp/pwned')"
expect_out "RECIPE_PARAMS: at offset 6: '__import__\(' looks like code, not a literal"
echo "$OUT" | grep -q 'uses "podman container' && fail "hosts were provisioned despite bad RECIPE_PARAMS"
controller 2 --network none -- RECIPE=hello_world "RECIPE_PARAMS=count=os.execute('id')"
expect_out "looks like code, not a literal"
# a parameter of the wrong type, by the recipe's declaration
controller 2 --network none -- RECIPE=hello_world "RECIPE_PARAMS=count='many'"
expect_out "count"
# (a class no upstream recipe has: which ones are ported changes)
controller 2 --network none -- RECIPE=NoSuchXDPThingRecipe
expect_out 'RECIPE NoSuchXDPThingRecipe: no such recipe \(upstream class NoSuchXDPThingRecipe would be the recipe no_such_xdp_thing, which is not ported\); available: .*hello_world'
controller 2 --network none -- RECIPE=hello_world FORMATTERS=xml
expect_out "FORMATTERS: unknown format 'xml'"
controller 2 --network none -- RECIPE=hello_world DEBUG=maybe
expect_out "DEBUG must be 0 or 1"
podman_leak_check
echo "1 passed, 0 failed"
