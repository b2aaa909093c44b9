#!/bin/bash
# Every ENRT recipe (recipes/enrt/*.lua) runs for real on netns hosts with
# short parameters (perf_duration=2 perf_iterations=1 ping_count=3, one
# offload combination where the recipe has offloads). A recipe must end
# PASS (or WARNING, e.g. a driver without coalescing), or SKIPPED with its
# reason printed (a kernel feature this machine lacks); any FAIL or error
# fails the suite. Nothing may leak. Label: enrt.
. "$(dirname "$0")/lib.sh"
. scripts/enrt-short-args.sh
set -e
leak_begin
pass=0 skip=0 bad=0
for f in recipes/enrt/*.lua; do
  name=$(basename "$f" .lua)
  enrt_short_args "$f"
  args=("${ENRT_ARGS[@]}")
  # here SimpleNetwork also covers the udp and sctp flows
  [ "$name" = simple_network ] &&
    args=("${args[@]/#perf_tests=\[tcp_stream\]/perf_tests=[tcp_stream,udp_stream,sctp_stream]}")
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
