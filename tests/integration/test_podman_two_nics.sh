#!/bin/bash
# Two NICs of one host on one network: the netlink backend wires them (two
# veths onto the network's bridge); cni and netavark attach a container to a
# network once and say so before creating anything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
podman_leak_begin
run_pod 0 --network-backend netlink tests/integration/recipes/podman_two_nics.lua
expect_out 'interface "eth0" matched to "eth0 \(network net1: fabric bridge\)'
expect_out 'interface "eth1" matched to "eth1 \(network net1: fabric bridge\)'
expect_out "PASS .*host1's NICs are two devices"
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.1 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.1 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* -I eth1 203\.0\.113\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
podman_leak_check
run_pod 2 --network-backend netavark tests/integration/recipes/podman_two_nics.lua
expect_out 'host host1: NICs eth0 and eth1 are both on network net1; the netavark backend attaches a container to a network once: use --network-backend netlink'
podman_leak_check
echo "1 passed, 0 failed"
