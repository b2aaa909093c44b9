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

for b in netavark netlink; do
  T0=$(now)
  run_pod 2 --image "$BROKEN_IMAGE" --network-backend $b recipes/hello_world.lua
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

pod rmi "$BROKEN_IMAGE" "$SILENT_IMAGE" >/dev/null
echo "1 passed, 0 failed"
