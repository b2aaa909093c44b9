# Helpers of the VM tests (test_vm*.sh; sourced after lib.sh; bash).
# Every guest of a test gets its run directory under $VMDIR, removed at the
# end (kept with KEEP_VMDIR=1). The leak check of a VM test: no process of
# the test's session (qemu among them) and no namespace they hold is left
# (lib.sh's leak_added, its procs and netns lines); the guest registry
# (/run/lnst/vm) is as before; each guest's run directory holds its console
# log and nothing else. lib.sh's named namespaces and root links are not
# looked at: a guest never touches the host's network, everything of a run
# lives in the guest, and other people's concurrent runs change those.
VMDIR=$(mktemp -d "${TMPDIR:-/tmp}/lnst-vmtest.XXXXXX")
trap '[ -n "${KEEP_VMDIR:-}" ] || rm -rf "$VMDIR"' EXIT
REG_BEFORE=$(ls /run/lnst/vm 2>/dev/null | sort | tr '\n' ' ')

vm_procs_check() {
  local added i
  for i in $(seq 1 40); do
    added=$(leak_added | grep -E '^(procs|netns) ' || true)
    [ -z "$added" ] && return 0
    sleep 0.05
  done
  echo "before: $LEAK_BEFORE" >&2
  echo "left behind: $added" >&2
  fail "the run left something behind"
}

vm_leak_check() {
  local reg d left
  vm_procs_check
  reg=$(ls /run/lnst/vm 2>/dev/null | sort | tr '\n' ' ')
  [ "$reg" = "$REG_BEFORE" ] || fail "guest registry changed: before '$REG_BEFORE', after '$reg'"
  for d in "$VMDIR"/lnst-vm-*; do
    [ -d "$d" ] || continue
    left=$(cd "$d" && ls -A | grep -vx console.log || true)
    [ -z "$left" ] || fail "$d: left besides console.log: $left"
    [ -f "$d/console.log" ] || fail "$d: no console log"
  done
}

# Waits (up to $2 s) until file $1 contains $3; fails otherwise.
wait_for() {
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    grep -q -- "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "no '$3' in $1 within $2 s"
}
