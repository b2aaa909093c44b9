#!/bin/bash
# Benchmark of the podman provisioner (run as root from the source tree):
#  (a) time until one container host answers hello (create, start, agent
#      socket, hello; no NICs) against a bare `podman run -d --network none`
#      of the same image plus a `podman exec true` in it, alternating, RUNS
#      times each; ratio of the medians (target <= 1.2);
#  (b) 4 hosts in one run (requests in parallel) against 4 runs of one host
#      one after another; ratio of the medians.
# It starts a Podman service of its own (containers.conf of its own, netavark)
# on /run/lnst-bench-podman.sock, builds the agent image offline, and stops
# the service and removes the image at the end. LNST=path/to/lnst to use a
# build of your own; else ./scripts/build.sh builds ./build.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${LNST:-}" ]; then ./scripts/build.sh; LNST=./build/lnst; fi
RUNS=${RUNS:-11}
STATE=/run/lnst-bench-podman
SOCK=$STATE.sock
URI=unix://$SOCK
IMAGE=localhost/lnst-bench-agent:latest
export LNST_PODMAN_RUN_DIR=$STATE/runs

mkdir -p "$STATE/networks" "$LNST_PODMAN_RUN_DIR"
cat >"$STATE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"
network_config_dir = "$STATE/networks"
CONF
CONTAINERS_CONF=$STATE/containers.conf setsid podman system service --time 0 "$URI" >"$STATE/service.log" 2>&1 </dev/null &
SERVICE=$!
cleanup() {
  podman --url "$URI" rm -f lnst-bench-ref >/dev/null 2>&1 || true
  podman --url "$URI" rmi -f "$IMAGE" >/dev/null 2>&1 || true
  kill "$SERVICE" 2>/dev/null || true
  wait "$SERVICE" 2>/dev/null || true
  rm -rf "$STATE" "$SOCK"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -S "$SOCK" ] && podman --url "$URI" version >/dev/null 2>&1 && break; sleep 0.1; done
"$LNST" image build --agent --name "$IMAGE" --podman-uri "$URI" >/dev/null

ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

reference() {
  local t0 t1
  t0=$(ms)
  podman --url "$URI" run -d --name lnst-bench-ref --privileged --network none "$IMAGE" >/dev/null
  podman --url "$URI" exec lnst-bench-ref true
  t1=$(ms)
  podman --url "$URI" rm -f -t 0 lnst-bench-ref >/dev/null
  echo $((t1 - t0))
}

# warm up both paths once (image layers, service caches)
reference >/dev/null
"$LNST" bench/podman_hello.lua "$URI" "$IMAGE" parallel 1 >/dev/null
l=(); r=()
for _ in $(seq "$RUNS"); do
  l+=("$("$LNST" bench/podman_hello.lua "$URI" "$IMAGE" parallel 1)")
  r+=("$(reference)")
done
lm=$(printf '%s\n' "${l[@]}" | median)
rm_=$(printf '%s\n' "${r[@]}" | median)
echo "(a) one container host until hello, median of $RUNS: lnst ${lm} ms, podman run -d + exec true ${rm_} ms"
awk -v a="$lm" -v b="$rm_" 'BEGIN { printf "(a) ratio lnst / podman: %.2f (target <= 1.2)\n", a / b }'

p=(); s=()
for _ in $(seq "$RUNS"); do
  p+=("$("$LNST" bench/podman_hello.lua "$URI" "$IMAGE" parallel 4)")
  s+=("$("$LNST" bench/podman_hello.lua "$URI" "$IMAGE" sequential 4)")
done
pm=$(printf '%s\n' "${p[@]}" | median)
sm=$(printf '%s\n' "${s[@]}" | median)
echo "(b) 4 container hosts until hello, median of $RUNS: parallel ${pm} ms, sequential ${sm} ms"
awk -v a="$pm" -v b="$sm" 'BEGIN { printf "(b) ratio parallel / sequential: %.2f (speed-up %.2fx)\n", a / b, b / a }'
