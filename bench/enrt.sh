#!/bin/bash
# Benchmark: the ENRT framework's own overhead (issue 7). SimpleNetwork with
# perf_tests=tcp_stream perf_duration=5 perf_iterations=1 ip_versions=ipv4,
# one offload combination, on netns hosts (bench/enrt.lua): wall time minus
# the time inside iperf3 and ping. Side by side, the same work as a plain
# shell script (two namespaces and a veth, addresses, ethtool -K, ping -c 100
# -i 0.2, iperf3 -s -1 / -c -t 5 -l 123, cleanup), measured the same way.
# Target: lnst's overhead < 0.5 s (Python LNST: ~7 s of ~18.9 s).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
[ -x "$BUILD/lnst" ] || ./scripts/build.sh
LNST=$BUILD/lnst
now() { date +%s.%N; }

shell_ref() {
  local t0 t1 p0 p1 i0 i1
  t0=$(now)
  ip netns add lnbench_e1; ip netns add lnbench_e2
  ip -n lnbench_e1 link add eth0 type veth peer name eth0 netns lnbench_e2
  ip -n lnbench_e1 addr add 198.51.100.1/24 dev eth0
  ip -n lnbench_e2 addr add 198.51.100.2/24 dev eth0
  ip -n lnbench_e1 link set eth0 up; ip -n lnbench_e2 link set eth0 up
  ip netns exec lnbench_e1 ethtool -K eth0 gro on gso on tso on tx on rx on > /dev/null 2>&1
  ip netns exec lnbench_e2 ethtool -K eth0 gro on gso on tso on tx on rx on > /dev/null 2>&1
  p0=$(now); ip netns exec lnbench_e1 ping -c 100 -i 0.2 -I 198.51.100.1 -s 56 198.51.100.2 > /dev/null; p1=$(now)
  ip netns exec lnbench_e2 iperf3 -s -B 198.51.100.2 -J -p 12000 -1 > /dev/null & local srv=$!
  sleep 0.3
  i0=$(now); ip netns exec lnbench_e1 iperf3 -c 198.51.100.2 -b 0/1000 -J -t 5 -l 123 -p 12000 --cport 12000 > /dev/null
  wait $srv; i1=$(now)
  ip netns del lnbench_e1; ip netns del lnbench_e2
  t1=$(now)
  echo "shell: wall $(echo "$t1 - $t0" | bc) s, in iperf3/ping $(echo "$p1 - $p0 + $i1 - $i0" | bc) s, overhead $(echo "$t1 - $t0 - ($p1 - $p0) - ($i1 - $i0)" | bc) s"
}

out_l=$("$LNST" bench/enrt.lua)
out_s=$(shell_ref)
echo "$out_l"
echo "$out_s"
ol=$(echo "$out_l" | sed -n 's/.*overhead \([0-9.]*\) s.*/\1/p')
os=$(echo "$out_s" | sed -n 's/.*overhead \([0-9.]*\) s.*/\1/p')
echo "overhead: lnst ${ol} s vs shell ${os} s: ratio $(echo "scale=2; $ol / $os" | bc) (target: lnst < 0.5 s)"
