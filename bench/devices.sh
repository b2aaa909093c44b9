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
# Then the CPU time of the same runs: lnst's agent and controller
# (schedstat) against ip's user + sys time (bash's `time`). On a loaded
# machine the wall time mostly measures the wait for a CPU; the CPU time is
# the work each side does, most of it the kernel's own device creation.
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

# Runs ip -batch on file $2 in the namespace; "wall_us cpu_us" (cpu: user + sys).
ip_timed() {
  local t0 t1
  t0=$(ms)
  { TIMEFORMAT='%3U %3S'; time ip -n $ns -batch "$1" 2>"$tmp/err"; } 2>"$tmp/time" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(ms)
  awk -v w=$((t1 - t0)) '{ printf "%d %d\n", w, ($1 + $2) * 1e6 }' "$tmp/time"
}

ip_batch() { # n -> "create_us delete_us create_cpu_us delete_cpu_us"
  local n=$1 i c d
  for i in $(seq "$n"); do echo "link add b$i type veth peer name c$i"; done > "$tmp/add"
  for i in $(seq "$n"); do echo "link del b$i"; done > "$tmp/del"
  ip netns add $ns
  c=$(ip_timed "$tmp/add"); d=$(ip_timed "$tmp/del")
  ip netns del $ns
  echo "${c% *} ${d% *} ${c#* } ${d#* }"
}

lnst_run() { # n -> "create_us delete_us create_cpu_us delete_cpu_us" (cpu: agent + controller)
  local out
  out=$("$LNST" run bench/devices.lua -p n="$1" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" | awk '/^lnst n=/ {
    split($3, c, "="); split($4, d, "="); split($5, cc, "[=+]"); split($6, dc, "[=+]")
    printf "%d %d %d %d\n", c[2] * 1000, d[2] * 1000, (cc[2] + cc[3]) * 1000, (dc[2] + dc[3]) * 1000 }'
}

declare -A res
for n in 100 1000; do
  lc=(); ld=(); ic=(); id=(); lcc=(); ldc=(); icc=(); idc=()
  for r in $(seq "$RUNS"); do
    sleep 0.5 # let the kernel finish dismantling the previous namespaces
    read -r c d cc dc < <(lnst_run "$n"); lc+=("$c"); ld+=("$d"); lcc+=("$cc"); ldc+=("$dc")
    sleep 0.5
    read -r c d cc dc < <(ip_batch "$n"); ic+=("$c"); id+=("$d"); icc+=("$cc"); idc+=("$dc")
  done
  res[lc$n]=$(printf '%s\n' "${lc[@]}" | median); res[ld$n]=$(printf '%s\n' "${ld[@]}" | median)
  res[ic$n]=$(printf '%s\n' "${ic[@]}" | median); res[id$n]=$(printf '%s\n' "${id[@]}" | median)
  res[Lc$n]=$(printf '%s\n' "${lcc[@]}" | median); res[Ld$n]=$(printf '%s\n' "${ldc[@]}" | median)
  res[Ic$n]=$(printf '%s\n' "${icc[@]}" | median); res[Id$n]=$(printf '%s\n' "${idc[@]}" | median)
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
echo "cpu time of the same runs, median, microseconds per device (lnst: agent + controller; ip: user + sys)"
printf '%-6s %-7s %10s %10s %8s\n' n phase lnst ip-batch ratio
for n in 100 1000; do
  for ph in create delete; do
    k=${ph:0:1}; a=${res[L$k$n]}; b=${res[I$k$n]}
    printf '%-6s %-7s %10s %10s %8s\n' "$n" "$ph" "$(per "$a" "$n")" "$(per "$b" "$n")" "$(ratio "$a" "$b")"
  done
done
