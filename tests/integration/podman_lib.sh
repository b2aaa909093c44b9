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

# What the containers of others (other build trees' tests, anyone's runs:
# the services share the storage) hold on this machine: "prefix lnst-<run>-"
# and "netns NAME" lines (podman_state.lua). Their runs come and go while a
# test runs; what is theirs is not this test's leftover.
podman_others() {
  "$LNST" "$ROOT/tests/integration/podman_state.lua" "$SOCK" "$CNI_SOCK" "$PODMAN_TEST_ID" others
}

# others_own OTHERS NAME: NAME (a link, conflist or named netns) belongs to
# a run or container of others
others_own() {
  local kind value master
  while read -r kind value; do
    case $kind in
      prefix) case $2 in "$value"*) return 0 ;; esac ;;
      netns) [ "$2" = "$value" ] && return 0 ;;
    esac
  done <<< "$1"
  # a veth of others: on a bridge of theirs, or on one no run of lnst makes
  case $2 in
    veth*)
      master=$(ip -o link show dev "${2%@*}" 2>/dev/null | grep -o ' master [^ ]*' | cut -d' ' -f3)
      [ -n "$master" ] || return 1
      case $master in lnst-*) others_own "$1" "$master" ;; *) return 0 ;; esac
      return
      ;;
  esac
  return 1
}

# What podman_state shows now that it did not show before (others' objects
# that come and go meanwhile are not this test's business).
podman_added() {
  local kind before after item others
  others=$(podman_others)
  while IFS=: read -r kind after; do
    before=$(echo "$PODMAN_BEFORE" | awk -F: -v k="$kind" '$1 == k {print $2}')
    for item in $after; do
      case " $before " in *" $item "*) continue ;; esac
      [ "$kind" = conflists ] && others_own "$others" "$item" && continue
      echo "$kind: $item"
    done
  done <<< "$(podman_state)"
}

# lib.sh's leak_added, narrowed to what a podman run can leave: this
# session's processes and namespaces, Podman's named namespaces (netns-*),
# links named by lnst (lnst-*) or by Podman's plugins (veth*), less those
# of others' containers. Other names come and go with other people's
# concurrent tests.
podman_leak_added() {
  local added others kind item
  added=$(leak_added | grep -E '^(procs|netns) |^named netns-|^links (lnst-|veth)')
  [ -n "$added" ] || return 0
  others=$(podman_others)
  while read -r kind item; do
    case $kind in
      named|links) others_own "$others" "$item" && continue ;;
    esac
    echo "$kind $item"
  done <<< "$added"
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
