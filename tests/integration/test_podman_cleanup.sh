#!/bin/bash
# Interrupted and killed runs: SIGINT cleans up as usual; after SIGKILL the
# agents stop by themselves (--once) and `lnst cleanup` removes what is left
# (containers, networks, conflists, bridges, run directories), under each
# backend; a run that is alive is left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
podman_leak_begin
LOG=$(mktemp)
RUN_PID=
# a run left going by a failed check is interrupted (it cleans up after
# itself), so that it does not outlive the test
stop_run() {
  local watchdog
  [ -n "$RUN_PID" ] || return 0
  kill -INT "$RUN_PID" 2>/dev/null || true
  (sleep 30; kill -KILL "$RUN_PID") >/dev/null 2>&1 &
  watchdog=$!
  wait "$RUN_PID" 2>/dev/null || true
  kill "$watchdog" 2>/dev/null || true
}
trap 'stop_run; rm -f "$LOG"' EXIT
# the run root of another controller (another build tree's tests)
OTHER_ROOT=$STATE/other-runs

# start_run URI BACKEND: the long recipe in the background, PID in $RUN_PID,
# back once its test body runs
start_run() {
  local before
  before=$(ls "$RUN_ROOT" 2>/dev/null | tr '\n' ' ')
  # emptied here: the background shell truncates it only when it gets to
  # run, and until then it holds the previous run's "test body running"
  : >"$LOG"
  "$LNST" run --podman --podman-uri "$1" --image "$AGENT_IMAGE" --network-backend "$2" \
    tests/integration/recipes/podman_long.lua >"$LOG" 2>&1 &
  RUN_PID=$!
  for _ in $(seq 1 300); do
    if grep -q "test body running" "$LOG"; then
      RUN_ID=$(ls "$RUN_ROOT" | while read -r d; do case " $before " in *" $d "*) ;; *) echo "$d" ;; esac; done)
      [ -n "$RUN_ID" ] || fail "no run directory for the run"
      return 0
    fi
    kill -0 $RUN_PID 2>/dev/null || { cat "$LOG" >&2; fail "the run ended early"; }
    sleep 0.1
  done
  cat "$LOG" >&2
  fail "the run did not reach its test body within 30 s"
}

# SIGINT: the run tears everything down itself
start_run "$PODMAN_URI" netavark
kill -INT $RUN_PID
set +e; wait $RUN_PID; code=$?; set -e
RUN_PID=
[ $code = 2 ] || { cat "$LOG" >&2; fail "an interrupted run exited $code, expected 2"; }
grep -q 'interrupted by SIGINT' "$LOG" || { cat "$LOG" >&2; fail "no interruption in the summary"; }
podman_leak_check

for b in netavark netlink cni; do
  uri=$PODMAN_URI; [ $b = cni ] && uri=$PODMAN_CNI_URI
  start_run "$uri" $b
  id=$RUN_ID
  # a live run is left alone, also by the cleanup of another run root (the
  # run's lock is where its labels say, not under that root)
  run_lnst 0 cleanup --podman-uri "$uri"
  expect_out "left container lnst-$id-h1 \(run $id is alive\)"
  LNST_PODMAN_RUN_DIR=$OTHER_ROOT run_lnst 0 cleanup --podman-uri "$uri"
  expect_out "left container lnst-$id-h1 \(run $id is alive\)"
  ! echo "$OUT" | grep "removed .*lnst-$id" || fail "$b: another run root's cleanup removed a live run's objects"
  kill -KILL $RUN_PID
  wait $RUN_PID 2>/dev/null || true
  RUN_PID=
  [ -d "$RUN_ROOT/$id" ] || fail "$b: the killed run left no run directory (test broken?)"
  # its leftovers are its own run root's to remove (--all: anyone's)
  LNST_PODMAN_RUN_DIR=$OTHER_ROOT run_lnst 0 cleanup --podman-uri "$uri"
  expect_out "left container lnst-$id-h1 \(run $id keeps its directory $RUN_ROOT/$id, under another run root; --all"
  ! echo "$OUT" | grep "removed .*lnst-$id" || fail "$b: another run root's cleanup removed a dead run's objects"
  if [ $b = cni ]; then
    ip link show "lnst-$id-1" >/dev/null 2>&1 || fail "cni: no bridge lnst-$id-1 left by the killed run"
    [ -f "$LNST_CNI_DIR/lnst-$id-n.conflist" ] || fail "cni: no conflist left by the killed run"
  fi
  # the agents stop when their controller is gone
  for _ in $(seq 1 50); do
    [ -z "$(pod ps -q --filter label=lnst.run=$id)" ] && break
    sleep 0.1
  done
  [ -z "$(pod ps -q --filter label=lnst.run=$id)" ] || fail "$b: the agents kept running without their controller"
  run_lnst 0 cleanup --podman-uri "$uri" --dry-run
  expect_out "would remove container lnst-$id-h1"
  expect_out "would remove run directory $RUN_ROOT/$id"
  [ -d "$RUN_ROOT/$id" ] || fail "--dry-run removed something"
  run_lnst 0 cleanup --podman-uri "$uri"
  expect_out "removed container lnst-$id-h1"
  expect_out "removed container lnst-$id-h2"
  case $b in
    netavark) expect_out "removed network lnst-$id-n" ;;
    cni) expect_out "removed CNI config $LNST_CNI_DIR/lnst-$id-n.conflist"
         expect_out "removed bridge lnst-$id-1" ;;
  esac
  podman_leak_check
  run_lnst 0 cleanup --podman-uri "$uri"
  expect_out 'nothing to clean up'
done
echo "1 passed, 0 failed"
