#!/bin/bash
# Benchmark for the core engine (run as root from anywhere; builds first):
#  (a) `lnst run recipes/hello_world.lua -p count=1` against a plain shell
#      script building the same topology with ip(8), pinging once each way and
#      deleting it; alternating, RUNS times each; ratio of median wall times.
#  (b) RPC round trip p50 over 10,000 calls against a raw socketpair echo.
#  (c) the agent's idle RSS.
# Targets: (a) <= 1.0, (b) <= 2.0, (c) <= 4 MB.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
RUNS=${RUNS:-15}
LNST=./build/lnst

shell_hello() {
  ip netns add lnbench_h1; ip netns add lnbench_h2; ip netns add lnbench_fab
  ip -n lnbench_fab link add br1 type bridge
  ip -n lnbench_fab link set br1 up
  ip -n lnbench_fab link add v1 type veth peer name eth0 netns lnbench_h1
  ip -n lnbench_fab link add v2 type veth peer name eth0 netns lnbench_h2
  ip -n lnbench_fab link set v1 master br1 up
  ip -n lnbench_fab link set v2 master br1 up
  ip -n lnbench_h1 addr add 198.51.100.1/24 dev eth0
  ip -n lnbench_h2 addr add 198.51.100.2/24 dev eth0
  ip -n lnbench_h1 link set eth0 up
  ip -n lnbench_h2 link set eth0 up
  ip netns exec lnbench_h1 ping -c 1 -i 0.2 -W 2 198.51.100.2 >/dev/null
  ip netns exec lnbench_h2 ping -c 1 -i 0.2 -W 2 198.51.100.1 >/dev/null
  ip netns del lnbench_h1; ip netns del lnbench_h2; ip netns del lnbench_fab
}

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

l=(); s=()
for i in $(seq "$RUNS"); do
  # The kernel dismantles dead namespaces asynchronously, holding the rtnl
  # lock; a pause keeps one run's leftovers from timing the next one.
  sleep 0.3
  t0=$(ms); $LNST run recipes/hello_world.lua -p count=1 >/dev/null; t1=$(ms)
  sleep 0.3
  t2=$(ms); shell_hello; t3=$(ms)
  l+=($((t1 - t0))); s+=($((t3 - t2)))
done
lm=$(printf '%s\n' "${l[@]}" | median)
sm=$(printf '%s\n' "${s[@]}" | median)
echo "(a) hello_world count=1, median of $RUNS: lnst ${lm} ms, shell+ip ${sm} ms"
awk -v a="$lm" -v b="$sm" 'BEGIN { printf "(a) ratio lnst / shell: %.2f (target <= 1.0)\n", a / b }'
echo "(b)+(c):"
./build/bench/bench_rpc ./build/lnst-agent 10000 2>/dev/null
