#!/bin/bash
# The XDP recipes' pktgen/xdp-bench measurement (docs/enrt.md, "XDP
# recipes"). On this host's kernel (no pktgen) XDPDrop ends WARNING with
# the reason. In one qemu guest running Debian's stock kernel (pktgen
# loads; xdp-bench 1.3.1 from the host's root) XDPDrop (IPv4 and IPv6, with
# warm-up) and XDPTx PASS, XDPRedirectCPU (round-robin) measures too (it
# ends WARNING: veth has no RSS key to zero), all with non-zero packet
# rates for generator and receiver, and XDPRedirectCPU with
# upstream's default program (l4-dport, which xdp-tools 1.3.1 lacks) ends
# WARNING naming the values 1.3.1 takes. Nothing leaks (vm_lib.sh).
# Labels: vm, enrt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm_lib.sh"
set -e
E=recipes/enrt
S="ping_count=3;ping_interval=0.2;perf_duration=2;perf_iterations=1"
leak_begin

run_lnst 0 run $E/xdp_drop.lua -p perf_duration=2 -p perf_iterations=1 -p ping_count=3 -p ping_interval=0.05
has() { echo "$OUT" | grep -qF -- "$1" || { echo "$OUT" >&2; fail "output lacks '$1'"; }; }
has 'not run: host1 has no pktgen (/proc/net/pktgen is absent and modprobe pktgen failed'
expect_out 'Overall result of this Run: WARNING'
vm_leak_check

RC="$S;ip_versions=['ipv4'];perf_tool_cpu=[0,1]"
A=("$E/xdp_drop.lua:$S;perf_warmup_duration=1" "$E/xdp_tx.lua:$S;ip_versions=['ipv4']"
   "$E/xdp_redirect_cpu.lua:$RC;xdp_redirect_program='round-robin'" "$E/xdp_redirect_cpu.lua:$RC")
"$LNST" scripts/vm-kernel.lua auto > /dev/null
set +e
OUT=$("$LNST" tests/integration/vm_suite.lua "$VMDIR" "${A[@]}" 2>&1)
rc=$?
set -e
echo "$OUT" | grep '^=== RESULT'
[ "$rc" = 0 ] || { echo "$OUT" >&2; fail "suite exit code $rc"; }
for r in "${A[@]:0:2}"; do
  echo "$OUT" | grep -qF "=== RESULT $r PASS" || { echo "$OUT" >&2; fail "$r did not pass"; }
done
# redirect-cpu: veth has no RSS key to zero (a WARNING of the configuration)
for r in "${A[@]:2:2}"; do
  echo "$OUT" | grep -qF "=== RESULT $r WARNING" || { echo "$OUT" >&2; fail "$r did not end WARNING"; }
done
[ "$(echo "$OUT" | grep -c '^FAIL')" = 0 ] || { echo "$OUT" >&2; fail "FAIL results"; }
# per measurement: generator and receiver packet rates, and their evaluation
n=$(echo "$OUT" | grep -cE '^    Generator generated \(generator_results\): [1-9][0-9.]* packets/s')
[ "$n" = 4 ] || { echo "$OUT" >&2; fail "expected 4 generator rates (drop v4+v6, tx, redirect-cpu), got $n"; }
n=$(echo "$OUT" | grep -cE '^    Receiver received \(receiver_results\): [1-9][0-9.]* packets/s')
[ "$n" = 4 ] || { echo "$OUT" >&2; fail "expected 4 receiver rates, got $n"; }
n=$(echo "$OUT" | grep -cE '^    IRQ CPU received \(forwarded_results\): [1-9][0-9.]* packets/s')
[ "$n" = 1 ] || { echo "$OUT" >&2; fail "expected 1 redirect-cpu IRQ CPU rate, got $n"; }
[ "$(echo "$OUT" | grep -c 'PASS: receiver_results reported non-zero throughput')" = 4 ] \
  || { echo "$OUT" >&2; fail "nonzero evaluations missing"; }
has "2 s + 2x1 s warm-up) -> xdp-bench drop -m native on host2.eth0"
has "xdp-bench redirect-cpu (xdp-tools 1.3.1): --program-mode takes no-touch, touch, round-robin, l4-proto, l4-filter, l4-hash, not l4-dport (program)"
vm_leak_check
echo "1 passed, 0 failed"
