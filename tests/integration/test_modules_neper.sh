#!/bin/bash
# rr_workload through neper itself (recipes/modules_neper.lua): tcp_rr,
# tcp_crr and udp_rr between two namespace hosts, parsed from neper's
# output and samples, and a client with no server. Debian has no neper
# package: the test looks for tcp_rr in $NEPER_DIR, on PATH or in
# /root/neper (build google/neper with make), and is reported to ctest as
# skipped (exit 77), with the reason, when there is none.
. "$(dirname "$0")/lib.sh"
set -e
dir=""
for d in ${NEPER_DIR:-} /root/neper; do
  if [ -x "$d/tcp_rr" ] && [ -x "$d/tcp_crr" ] && [ -x "$d/udp_rr" ]; then dir=$d; break; fi
done
if [ -z "$dir" ] && command -v tcp_rr >/dev/null; then dir=$(dirname "$(command -v tcp_rr)"); fi
if [ -z "$dir" ]; then
  echo "skipped: neper is not installed (no tcp_rr, tcp_crr, udp_rr in NEPER_DIR, on PATH or in /root/neper)"
  exit 77
fi
leak_begin
before=$(ls ./*_rr.*.log 2>/dev/null | wc -l)
PATH="$dir:$PATH" run_lnst 0 run tests/integration/recipes/modules_neper.lua
# neper writes a log file into its working directory unless told not to
after=$(ls ./*_rr.*.log 2>/dev/null | wc -l)
[ "$after" = "$before" ] || fail "neper left log files in $(pwd)"
for w in tcp_rr tcp_crr udp_rr; do
  expect_out "PASS .*neper $w: [1-9][0-9]* transactions, [1-9][0-9]* per second, p50 [0-9.]+ us, [1-9][0-9]* samples"
done
expect_out '^    neper client without a server fails: .*/tcp_rr failed \(exit code 1\): connect: Connection refused \([0-9]+ times\)'
if echo "$OUT" | grep -q '^FAIL'; then echo "$OUT" >&2; fail "a FAIL in the neper run"; fi
leak_check
echo "1 passed, 0 failed"
