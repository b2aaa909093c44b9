#!/bin/bash
# Fault injection (docs/faults.md): the Podman service disappears while a
# run on --podman sits in its test body. The run must end at once with an
# error naming the service, exit 2, and remove its containers and networks
# without the service (with the service's own podman command line), leaving
# nothing behind. The service is one this test starts on a socket of its
# own (with the fixture's netavark or cni configuration, so the fixture's
# services see what it makes), and the only process it kills.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman_lib.sh"
set -e
FSOCK=/run/lnst-test-podman-$PODMAN_TEST_ID-faults.sock
FURI=unix://$FSOCK
LOG=$(mktemp)
SVC_PID=
RUN_PID=
# a run or service left going by a failed check does not outlive the test
finish() {
  local watchdog
  if [ -n "$RUN_PID" ]; then
    kill -INT "$RUN_PID" 2>/dev/null || true
    (sleep 30; kill -KILL "$RUN_PID") >/dev/null 2>&1 &
    watchdog=$!
    wait "$RUN_PID" 2>/dev/null || true
    kill "$watchdog" 2>/dev/null || true
  fi
  stop_service
  rm -f "$LOG" "$FSOCK"
}
trap finish EXIT

# start_service CONF: a Podman service of this test on $FSOCK
start_service() {
  rm -f "$FSOCK"
  CONTAINERS_CONF=$1 setsid podman system service --time 0 "$FURI" >"$STATE/faults.log" 2>&1 </dev/null &
  SVC_PID=$!
  for _ in $(seq 1 100); do
    if [ -S "$FSOCK" ] && podman --url "$FURI" version >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  cat "$STATE/faults.log" >&2
  fail "the test's Podman service did not answer on $FSOCK within 10 s"
}

# stop_service [SIGNAL]: the service this test started (its command line
# names our socket), and only it; a killed one leaves its socket behind
stop_service() {
  [ -n "$SVC_PID" ] || return 0
  if tr '\0' ' ' <"/proc/$SVC_PID/cmdline" 2>/dev/null | grep -q -- "$FURI"; then
    kill -s "${1:-TERM}" "$SVC_PID"
    for _ in $(seq 1 50); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SVC_PID" 2>/dev/null && kill -KILL "$SVC_PID"
  fi
  wait "$SVC_PID" 2>/dev/null || true
  SVC_PID=
}

# service_dies SIGNAL CONF BACKEND: the long recipe on the test's service;
# once its body runs (h1 in a 60 s job, h2 with a background job), the
# service gets SIGNAL.
service_dies() {
  local sig=$1 conf=$2 backend=$3 t0 code id
  podman_leak_begin
  start_service "$conf"
  : >"$LOG"
  "$LNST" run --podman --podman-uri "$FURI" --image "$AGENT_IMAGE" --network-backend "$backend" \
    tests/integration/recipes/podman_long.lua >"$LOG" 2>&1 &
  RUN_PID=$!
  for _ in $(seq 1 300); do
    grep -q "test body running" "$LOG" && break
    kill -0 $RUN_PID 2>/dev/null || { cat "$LOG" >&2; fail "$backend: the run ended early"; }
    sleep 0.1
  done
  grep -q "test body running" "$LOG" || { cat "$LOG" >&2; fail "$backend: the run did not reach its test body in 30 s"; }
  t0=$(now)
  stop_service "$sig"
  set +e; wait $RUN_PID; code=$?; set -e
  RUN_PID=
  OUT=$(cat "$LOG")
  [ "$code" = 2 ] || { echo "$OUT" >&2; fail "$backend, SIG$sig of the service: exit $code, expected 2"; }
  # not after h1's 60 s job: at once, plus the cleanup with podman commands
  awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a <= 20) }' ||
    { echo "$OUT" >&2; fail "$backend, SIG$sig of the service: the run took over 20 s to end"; }
  expect_out "FAIL Exception:.*podman: the Podman service at $FURI went away during the run: its event stream ended"
  id=$(echo "$OUT" | grep -o 'podman container lnst-[0-9a-f]\{6\}-h1' | head -1 | sed 's/.*lnst-\(.*\)-h1/\1/')
  [ -n "$id" ] || { echo "$OUT" >&2; fail "no run id in the output"; }
  local removed="container lnst-$id-h1, container lnst-$id-h2"
  [ "$backend" = cni ] || removed="$removed, network lnst-$id-n"
  expect_out "cleanup: the Podman service at $FURI did not answer \(cannot connect to $FSOCK: .*\): removed $removed with /.*podman instead"
  # explicitly, besides the leak check: no container, network, conflist,
  # run directory or process (the containers' conmon) of the run
  [ -z "$(pod ps -a -q --filter label=lnst.run=$id)" ] || fail "$backend: containers of run $id are left"
  ! pod network ls --format '{{.Name}}' | grep "lnst-$id" || fail "$backend: networks of run $id are left"
  ! compgen -G "$LNST_CNI_DIR/lnst-$id-*" || fail "$backend: conflists of run $id are left"
  [ ! -e "$RUN_ROOT/$id" ] || fail "$backend: the run directory of run $id is left"
  for _ in $(seq 1 50); do pgrep -f "lnst-$id-" >/dev/null || break; sleep 0.1; done
  ! pgrep -af "lnst-$id-" || fail "$backend: processes of run $id are left"
  podman_leak_check
}

service_dies KILL "$STATE/containers.conf" netavark
service_dies TERM "$STATE/containers.conf" netavark
service_dies KILL "$STATE/containers-cni.conf" cni
echo "1 passed, 0 failed"
