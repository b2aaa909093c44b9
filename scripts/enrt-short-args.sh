# shellcheck shell=bash
# Sourced (bash): the short parameters every ENRT recipe runs with in
# tests/integration/test_enrt.sh and scripts/enrt-table.sh, in one place.
# enrt_short_args FILE: sets the array ENRT_ARGS for recipes/enrt/FILE.
# Needs $LNST (offload_combinations is narrowed to one only where the
# recipe has that parameter).
enrt_short_args() {
	local f=$1 name
	name=$(basename "$f" .lua)
	if [ "$name" = ping_flood ]; then
		ENRT_ARGS=(-p count=5 -p interval=0.05)
		return
	fi
	ENRT_ARGS=(-p perf_duration=2 -p perf_iterations=1 -p ping_count=3 -p ping_interval=0.05)
	case "$name" in
	ct_insertion_rate_nftables | xdp_*) ;;
	ct_fulltable_insertion_rate) ENRT_ARGS+=(-p long_lived_conns=1000 -p long_lived_conns_per_ip=500) ;;
	short_lived_connections) ENRT_ARGS+=(-p "perf_tests=[tcp_rr,tcp_crr]" -p "perf_msg_sizes=[1000]") ;;
	mptcp) ENRT_ARGS+=(-p "perf_tests=[mptcp_stream]") ;;
	l2tp_tunnel) ENRT_ARGS+=(-p "perf_tests=[tcp_stream]" -p l2tp_encapsulation=udp) ;;
	software_rdma) ENRT_ARGS+=(-p software_rdma_type=rxe) ;;
	nftables_rule_scale) ENRT_ARGS+=(-p "perf_tests=[tcp_stream]" -p family=ip -p scale=100
		-p "rule=['jump otherchain','accept']" -p "extras=['chain otherchain { counter; }']") ;;
	*) ENRT_ARGS+=(-p "perf_tests=[tcp_stream]") ;;
	esac
	if "$LNST" list recipes "$f" | grep -q '^    offload_combinations '; then
		ENRT_ARGS+=(-p "offload_combinations=[{'gro':'off','gso':'on','tso':'on','tx':'on','rx':'on'}]")
	fi
}
