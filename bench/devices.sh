#!/bin/bash
# Benchmark: soft device creation and deletion on one agent (run as root
# from anywhere; builds first unless LNST is given).
#   lnst:     n veth pairs created with link.create, every request sent
#             before the first reply is awaited, then deleted with link.del
#             the same way (bench/devices.lua); the agent batches the
#             deletions it sees queued (one group deletion).
#   ip -batch: the same n pairs created and deleted by `ip -batch` in a
#             throwaway namespace made for it, one line per device.
# For n = 100 and n = 1000: per-device time of each phase, the ratio
# lnst / ip -batch, and the growth from 100 to 1000 (per-device time at
# 1000 over per-device time at 100; 1.0 is linear).
# Target: ratio <= 1.0 and linear growth.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${LNST:-}" ]; then
  ./scripts/build.sh
  LNST=./build/lnst
fi
RUNS=${RUNS:-3}
ms() { echo $(( $(date +%s%N) / 1000 )); } # microseconds
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tmp=$(mktemp -d)
ns=lnbench_dev$$
trap 'ip netns del $ns 2>/dev/null || true; rm -rf "$tmp"' EXIT

ip_batch() { # n -> "create_us delete_us"
  local n=$1 i
  for i in $(seq "$n"); do echo "link add b$i type veth peer name c$i"; done > "$tmp/add"
  for i in $(seq "$n"); do echo "link del b$i"; done > "$tmp/del"
  ip netns add $ns
  local t0 t1 t2
  t0=$(ms); ip -n $ns -batch "$tmp/add"; t1=$(ms); ip -n $ns -batch "$tmp/del"; t2=$(ms)
  ip netns del $ns
  echo "$((t1 - t0)) $((t2 - t1))"
}

lnst_run() { # n -> "create_us delete_us"
  local out
  out=$("$LNST" run bench/devices.lua -p n="$1" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" | awk '/^lnst n=/ { split($3, c, "="); split($4, d, "="); printf "%d %d\n", c[2] * 1000, d[2] * 1000 }'
}

declare -A res
for n in 100 1000; do
  lc=(); ld=(); ic=(); id=()
  for r in $(seq "$RUNS"); do
    sleep 0.5 # let the kernel finish dismantling the previous namespaces
    read -r c d < <(lnst_run "$n"); lc+=("$c"); ld+=("$d")
    sleep 0.5
    read -r c d < <(ip_batch "$n"); ic+=("$c"); id+=("$d")
  done
  res[lc$n]=$(printf '%s\n' "${lc[@]}" | median); res[ld$n]=$(printf '%s\n' "${ld[@]}" | median)
  res[ic$n]=$(printf '%s\n' "${ic[@]}" | median); res[id$n]=$(printf '%s\n' "${id[@]}" | median)
done
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", t / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "devices: veth pairs on one agent, median of $RUNS runs, microseconds per device"
printf '%-6s %-7s %10s %10s %8s\n' n phase lnst ip-batch ratio
for n in 100 1000; do
  for ph in create delete total; do
    case $ph in
      create) a=${res[lc$n]}; b=${res[ic$n]} ;;
      delete) a=${res[ld$n]}; b=${res[id$n]} ;;
      total) a=$(( ${res[lc$n]} + ${res[ld$n]} )); b=$(( ${res[ic$n]} + ${res[id$n]} )) ;;
    esac
    printf '%-6s %-7s %10s %10s %8s\n' "$n" "$ph" "$(per "$a" "$n")" "$(per "$b" "$n")" "$(ratio "$a" "$b")"
  done
done
for ph in create delete; do
  k=${ph:0:1}
  echo "growth 100 -> 1000 ($ph, per device): lnst $(ratio "$(per "${res[l${k}1000]}" 1000)" "$(per "${res[l${k}100]}" 100)")," \
    "ip -batch $(ratio "$(per "${res[i${k}1000]}" 1000)" "$(per "${res[i${k}100]}" 100)") (1.00 = linear)"
done
echo "target: ratio <= 1.0, linear growth"
