#!/bin/bash
# Disk full for the run's outputs (docs/faults.md): --save and --format
# FILE targets on a full 64 KiB tmpfs, mounted in a private mount namespace
# (unshare -m) so nothing outside sees it. The run must say which file could
# not be written and why, exit 2, and still clean up everything.
. "$(dirname "$0")/lib.sh"
set -e
command -v unshare > /dev/null || fail "unshare (util-linux) is missing"
D=$(mktemp -d /tmp/lnst-diskfull.XXXXXX)
trap 'rmdir "$D" 2>/dev/null || true' EXIT
leak_begin

# in_full_fs EXPECTED_EXIT ARGS...: lnst ARGS with $D a full tmpfs.
in_full_fs() {
  local want=$1 got; shift
  set +e
  OUT=$(unshare -m --propagation private bash -c '
    set -e
    D=$1 LNST=$2; shift 2
    mount -t tmpfs -o size=64k lnst-diskfull "$D"
    dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null && { echo "the tmpfs did not fill up"; exit 99; }
    [ "$(df --output=avail "$D" | tail -1 | tr -d " ")" = 0 ] || { echo "the tmpfs has room left"; exit 99; }
    set +e
    "$LNST" "$@"
    code=$?
    ls -A "$D" | grep -v "^fill$" | sed "s/^/left in the full fs: /"
    exit $code' fault-disk "$D" "$LNST" "$@" 2>&1)
  got=$?
  set -e
  [ "$got" = "$want" ] || { echo "$OUT" >&2; fail "lnst $* on a full fs exited $got, expected $want"; }
}

in_full_fs 2 run --save "$D/run.json" recipes/hello_world.lua -p count=1
expect_out "lnst: --save $D/run.json: cannot write the run file: $D/run.json.tmp: No space left on device"
expect_out 'Overall result of this Run: PASS' # the summary still reaches stdout
if echo "$OUT" | grep -q 'left in the full fs'; then echo "$OUT" >&2; fail "a half-written run file was left"; fi
leak_check

in_full_fs 2 run -f "json:$D/out.json" -f human recipes/hello_world.lua -p count=1
expect_out "lnst: --format json:$D/out.json: No space left on device"
expect_out 'Overall result of this Run: PASS'
if echo "$OUT" | grep -q 'left in the full fs'; then echo "$OUT" >&2; fail "a half-written output was left"; fi
leak_check

# the same with a run that fails: still exit 2 (an output is lost), still clean
in_full_fs 2 run --save "$D/run.json" tests/integration/recipes/fails_check.lua
expect_out "cannot write the run file: .*No space left on device"
leak_check
echo "1 passed, 0 failed"
