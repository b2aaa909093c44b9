#!/bin/bash
# Every ENRT recipe (recipes/enrt/*.lua) runs for real on netns hosts with
# short parameters (perf_duration=2 perf_iterations=1 ping_count=3, one
# offload combination where the recipe has offloads). A recipe must end
# PASS (or WARNING, e.g. a driver without coalescing), or SKIPPED with its
# reason printed (a kernel feature this machine lacks); any FAIL or error
# fails the suite. Nothing may leak. Label: enrt.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
pass=0 skip=0 bad=0
for f in recipes/enrt/*.lua; do
  name=$(basename "$f" .lua)
  args=()
  case "$name" in
    ping_flood) args=(-p count=5 -p interval=0.05) ;;
    *)
      args=(-p perf_duration=2 -p perf_iterations=1 -p ping_count=3 -p ping_interval=0.05)
      case "$name" in
        simple_network) args+=(-p "perf_tests=[tcp_stream,udp_stream,sctp_stream]") ;;
        ct_insertion_rate_nftables) ;;
        ct_fulltable_insertion_rate) args+=(-p long_lived_conns=1000 -p long_lived_conns_per_ip=500) ;;
        short_lived_connections) args+=(-p "perf_tests=[tcp_rr,tcp_crr]" -p "perf_msg_sizes=[1000]") ;;
        mptcp) args+=(-p "perf_tests=[mptcp_stream]") ;;
        l2tp_tunnel) args+=(-p "perf_tests=[tcp_stream]" -p l2tp_encapsulation=udp) ;;
        software_rdma) args+=(-p software_rdma_type=rxe) ;;
        nftables_rule_scale) args+=(-p "perf_tests=[tcp_stream]" -p family=ip -p scale=100
          -p "rule=['jump otherchain','accept']" -p "extras=['chain otherchain { counter; }']") ;;
        xdp_*) ;;
        *) args+=(-p "perf_tests=[tcp_stream]") ;;
      esac
      if "$LNST" list recipes "$f" | grep -q '^    offload_combinations '; then
        args+=(-p "offload_combinations=[{'gro':'off','gso':'on','tso':'on','tx':'on','rx':'on'}]")
      fi ;;
  esac
  set +e
  out=$(timeout 300 "$LNST" run "$f" "${args[@]}" 2>&1)
  rc=$?
  set -e
  overall=$(echo "$out" | sed -n 's/^Overall result of this Run: //p')
  case "$rc/$overall" in
    0/PASS|0/WARNING) pass=$((pass + 1)); echo "$name: $overall" ;;
    0/SKIPPED) skip=$((skip + 1)); echo "$name: SKIPPED ($(echo "$out" | sed -n 's/^SKIPPED [0-9]*_[A-Za-z]*:\tSKIPPED: //p'))" ;;
    *) bad=$((bad + 1)); echo "$name: exit $rc, overall '${overall:-none}'"; echo "$out" | grep -E '^(FAIL|lnst:)|Exception' >&2 ;;
  esac
done
leak_check
echo "recipes: $pass passed, $skip skipped, $bad failed"
[ "$bad" = 0 ] || fail "$bad ENRT recipe(s) failed"
echo "1 passed, 0 failed"
