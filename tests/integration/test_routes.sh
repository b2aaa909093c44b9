#!/bin/bash
# Routes, rules, neighbours and sysctl on real netns hosts: a router
# forwarding between two networks once ip_forward is set, tables, metrics,
# multipath, IPv6, a lightweight-tunnel encap route (skipped with the reason
# where the kernel lacks it), and the errors. Nothing is left afterwards.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 run --level 2 tests/integration/recipes/routes.lua
expect_out 'PASS .*h1 reads its route back'
expect_out 'PASS .*Job finished: ping -c 1 -W 1 203.0.113.2 \(exit code 1\)'
expect_out 'PASS .*h1 reaches h2 through the router'
expect_out 'PASS .*route deleted'
expect_out 'PASS .*route in table 100'
expect_out 'PASS .*rule read back'
expect_out 'PASS .*ip rule shows it'
expect_out 'PASS .*multipath route read back'
expect_out 'PASS .*ip route shows both nexthops'
expect_out 'PASS .*IPv6 route read back'
expect_out 'PASS .*neighbour read back'
expect_out 'PASS .*neighbour deleted'
expect_out 'PASS .*r: sysctl net.ipv4.ip_forward = 1'
expect_out 'PASS .*h1.eth0: route_add 203.0.113.0/24 via 198.51.100.254'
if echo "$OUT" | grep -q 'SKIP lightweight-tunnel route'; then
  echo "$OUT" | grep 'SKIP lightweight-tunnel route'
else
  expect_out 'PASS .*encap route read back'
  expect_out 'PASS .*ip route shows the encap'
fi
if echo "$OUT" | grep -q 'SKIP encap routes over vxlan'; then
  echo "$OUT" | grep 'SKIP encap routes over vxlan'
else
  expect_out 'PASS .*ping through external vxlan devices steered by encap routes'
  expect_out "PASS .*rt's vxlan device received [0-9]+ packets"
fi
expect_out 'PASS .*a route without a way out'
expect_out 'PASS .*sysctl outside /proc/sys'
expect_out 'PASS .*a device of another host'
expect_out 'Overall result of this Run: (PASS|WARNING)'
if echo "$OUT" | grep -E '^FAIL'; then fail "a check failed"; fi
leak_check
echo "1 passed, 0 failed"
