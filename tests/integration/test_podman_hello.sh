#!/bin/bash
# hello_world with every host a Podman container, under each network backend
# (netavark and netlink on the netavark service, cni on the cni service); auto
# takes the service's; networks are isolated from each other; the controller
# of a Lua script takes the same options. A leak check after each run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
podman_leak_begin

run_pod 0 --network-backend netavark recipes/hello_world.lua -p count=2
expect_out 'host "host1" uses "podman container lnst-[0-9a-f]{6}-host1 \(image localhost/lnst-test-agent-[^ ]+:latest, netavark networks'
expect_out 'interface "eth0" matched to "eth0 \(network net1: podman network lnst-[0-9a-f]{6}-net1\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.2 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.1 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
podman_leak_check

run_pod 0 --network-backend netlink recipes/hello_world.lua -p count=2 -p "net='203.0.113'"
expect_out 'host "host2" uses "podman container lnst-[0-9a-f]{6}-host2 \(image .*, netlink networks'
expect_out 'interface "eth0" matched to "eth0 \(network net1: fabric bridge\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
podman_leak_check

run_lnst 0 run --podman --podman-uri "$PODMAN_CNI_URI" --image "$AGENT_IMAGE" --network-backend cni \
  recipes/hello_world.lua -p count=2
expect_out 'uses "podman container lnst-[0-9a-f]{6}-host1 \(image .*, cni networks'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.1 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
podman_leak_check

# auto (the default) reads the service's backend from /info
run_lnst 0 run --podman --podman-uri "$PODMAN_CNI_URI" --image "$AGENT_IMAGE" recipes/hello_world.lua -p count=1
expect_out 'cni networks'
run_pod 0 recipes/hello_world.lua -p count=1
expect_out 'netavark networks'
podman_leak_check

# one bridge per network: a host on another network is unreachable (cni and
# netavark; netlink has its own bridges in the fabric); a network has no
# addresses and no route out, and carries IPv6
for b in cni netavark netlink; do
  uri=$PODMAN_URI; [ $b = cni ] && uri=$PODMAN_CNI_URI
  run_lnst 0 run --podman --podman-uri "$uri" --image "$AGENT_IMAGE" --network-backend $b \
    tests/integration/recipes/podman_isolation.lua
  expect_out 'PASS .*Job finished: same network \(exit code 0\)'
  expect_out 'PASS .*Job finished: other network: unreachable \(exit code 1\)'
  podman_leak_check
  # no IPAM, internal, IPv6 enabled
  run_lnst 0 run --podman --podman-uri "$uri" --image "$AGENT_IMAGE" --network-backend $b \
    tests/integration/recipes/podman_ipv6.lua
  expect_out 'PASS .*Job finished: no IPAM: no address on eth0 \(exit code 0\)'
  expect_out 'PASS .*Job finished: internal: no default route \(exit code 0\)'
  expect_out 'PASS .*Job finished: IPv6 between containers \(exit code 0\)'
  podman_leak_check
done

# a Lua script: lnst.controller { provisioner = "podman", podman_uri =, image = }
run_lnst 0 tests/integration/podman_script.lua "$PODMAN_URI" "$AGENT_IMAGE"
expect_out 'overall:	PASS	hosts:	2'
podman_leak_check
echo "1 passed, 0 failed"
