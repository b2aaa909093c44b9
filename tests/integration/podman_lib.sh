# Helpers of the podman integration tests (sourced after lib.sh; bash). The
# services come from podman_harness.sh (a ctest fixture started before them).
. "$ROOT/tests/integration/podman_env.sh"
PODMAN_URI=unix://$SOCK
PODMAN_CNI_URI=unix://$CNI_SOCK
RUN_ROOT=$LNST_PODMAN_RUN_DIR

[ -S "$SOCK" ] && [ -S "$CNI_SOCK" ] || fail "the Podman services are not running (podman_harness.sh start)"

# podman as a client of the test service
pod() { podman --url "$PODMAN_URI" "$@"; }

# What a podman run could leak beyond lib.sh's list: containers (any, of
# either service: they share the storage), lnst networks of both services,
# conflists, run directories. Root links (bridges, veths) are in lib.sh's.
podman_state() {
  "$LNST" "$ROOT/tests/integration/podman_state.lua" "$SOCK" "$CNI_SOCK" "$PODMAN_TEST_ID"
  echo "conflists: $(ls "$LNST_CNI_DIR" /etc/cni/net.d 2>/dev/null | grep '^lnst-' | sort | tr '\n' ' ')"
  echo "run dirs: $(ls "$RUN_ROOT" 2>/dev/null | tr '\n' ' ')"
}

podman_leak_begin() { leak_begin; PODMAN_BEFORE=$(podman_state); }

# What podman_state shows now that it did not show before (others' objects
# that come and go meanwhile are not this test's business).
podman_added() {
  local kind before after item
  while IFS=: read -r kind after; do
    before=$(echo "$PODMAN_BEFORE" | awk -F: -v k="$kind" '$1 == k {print $2}')
    for item in $after; do
      case " $before " in *" $item "*) ;; *) echo "$kind: $item" ;; esac
    done
  done <<< "$(podman_state)"
}

# lib.sh's leak_added, narrowed to what a podman run can leave: this
# session's processes and namespaces, Podman's named namespaces (netns-*),
# links named by lnst (lnst-*) or by Podman's plugins (veth*). Other names
# come and go with other people's concurrent tests.
podman_leak_added() {
  leak_added | grep -E '^(procs|netns) |^named netns-|^links (lnst-|veth)' || true
}

podman_leak_check() {
  local added i
  for i in $(seq 1 40); do
    added=$(podman_leak_added)
    [ -z "$added" ] && break
    sleep 0.05
  done
  if [ -n "$added" ]; then
    echo "before: $LEAK_BEFORE" >&2
    echo "left behind: $added" >&2
    fail "the run left something behind"
  fi
  for i in $(seq 1 20); do
    added=$(podman_added)
    [ -z "$added" ] && return 0
    sleep 0.1
  done
  echo "before: $PODMAN_BEFORE" >&2
  echo "left behind: $added" >&2
  fail "the run left Podman objects behind"
}

# run_pod EXPECTED_EXIT [lnst run options] RECIPE: lnst run --podman on the
# netavark service with the test image.
run_pod() {
  local want=$1; shift
  run_lnst "$want" run --podman --podman-uri "$PODMAN_URI" --image "$AGENT_IMAGE" "$@"
}

# seconds since the epoch, fractional
now() { date +%s.%N; }
