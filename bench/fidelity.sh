#!/bin/bash
# Benchmark: does measuring through lnst change what is measured?
# A 10 s iperf3 tcp_stream between two namespace hosts, through lnst
# (bench/fidelity.lua: the perf framework, iperf_server/iperf_client test
# modules on the agents) and with bare iperf3 on the same topology built with
# ip(8) (two host namespaces, a bridge in a fabric namespace, a veth each),
# with the same iperf3 flags; alternating, RUNS times each (default 3).
# Prints the medians and their ratio (target >= 0.97), and the CPU time the
# controller, the agents and the module processes spend during the lnst run
# (their own, iperf3 excluded) as a share of one core over the run's wall
# time (target < 1 %). Run as root from anywhere; builds first unless LNST
# names an lnst binary.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${LNST:-}" ]; then
  ./scripts/build.sh
  LNST=./build/lnst
fi
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
P=lnfid$$
H1=${P}_h1 H2=${P}_h2 FAB=${P}_fab

cleanup() { ip netns del "$H1" 2>/dev/null; ip netns del "$H2" 2>/dev/null; ip netns del "$FAB" 2>/dev/null; true; }
trap cleanup EXIT
ip netns add "$H1"; ip netns add "$H2"; ip netns add "$FAB"
ip -n "$FAB" link add br1 type bridge
ip -n "$FAB" link set br1 up
ip -n "$FAB" link add v1 type veth peer name eth0 netns "$H1"
ip -n "$FAB" link add v2 type veth peer name eth0 netns "$H2"
ip -n "$FAB" link set v1 master br1 up
ip -n "$FAB" link set v2 master br1 up
ip -n "$H1" addr add 198.51.100.1/24 dev eth0
ip -n "$H2" addr add 198.51.100.2/24 dev eth0
for h in "$H1" "$H2"; do ip -n "$h" link set lo up; ip -n "$h" link set eth0 up; done
ip netns exec "$H1" ping -c 1 -W 2 198.51.100.2 >/dev/null

bare_run() {
  ip netns exec "$H2" iperf3 -s -B 198.51.100.2 -J -p 12000 -1 >/dev/null &
  local srv=$!
  for _ in $(seq 100); do
    ip netns exec "$H2" ss -Hltn 'sport = :12000' | grep -q LISTEN && break
    sleep 0.02
  done
  ip netns exec "$H1" iperf3 -c 198.51.100.2 -b 0/1000 -J -t "$DURATION" -p 12000 --cport 12000 \
    | awk -F: '/"sum_received"/ {r = 1} r && /"bits_per_second"/ {gsub(/[ ,\t]/, "", $2); print $2; exit}'
  wait "$srv" || true
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

l=(); b=(); cpu=(); wall=()
for i in $(seq "$RUNS"); do
  sleep 1
  t0=$(date +%s.%N)
  line=$("$LNST" run bench/fidelity.lua -p duration="$DURATION" | grep '^FIDELITY')
  t1=$(date +%s.%N)
  # the kernel dismantles the lnst run's namespaces asynchronously, which
  # costs CPU: let it finish before the bare run
  sleep 3
  bare=$(bare_run)
  bps=$(echo "$line" | sed -E 's/.*iperf_bps=([0-9.]+).*/\1/')
  c=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^cpu_/) {split($i, kv, "="); s += kv[2]} print s}')
  w=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  l+=("$bps"); b+=("$bare"); cpu+=("$c"); wall+=("$w")
  awk -v i="$i" -v l="$bps" -v b="$bare" -v w="$w" -v c="$c" 'BEGIN {
    printf "run %d: lnst %.3f Gbit/s, bare %.3f Gbit/s; lnst run %.2f s wall, %.3f s CPU\n", i, l / 1e9, b / 1e9, w, c }'
  echo "  $line"
done
lm=$(printf '%s\n' "${l[@]}" | median)
bm=$(printf '%s\n' "${b[@]}" | median)
awk -v a="$lm" -v b="$bm" -v n="$RUNS" -v d="$DURATION" 'BEGIN {
  printf "iperf3 tcp_stream %d s, median of %d: lnst %.3f Gbit/s, bare iperf3 %.3f Gbit/s\n", d, n, a / 1e9, b / 1e9
  printf "ratio lnst / bare: %.3f (target >= 0.97)\n", a / b }'
cs=$(printf '%s\n' "${cpu[@]}" | awk '{s += $1} END {print s}')
ws=$(printf '%s\n' "${wall[@]}" | awk '{s += $1} END {print s}')
awk -v c="$cs" -v w="$ws" 'BEGIN {
  printf "lnst CPU (controller + agents + module processes, iperf3 excluded): %.3f s over %.1f s of runs = %.2f%% of one core (target < 1%%)\n", c, w, 100 * c / w }'
