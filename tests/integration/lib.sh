# Shared helpers for the integration tests (sourced; bash).
# LNST is the controller binary; every test runs real namespaces (root).
set -u
LNST=${LNST:?set LNST to the lnst binary}
ROOT=${ROOT:?set ROOT to the source tree}
cd "$ROOT"

fail() { echo "FAIL: $*" >&2; exit 1; }

# What a run could leak: processes of this test's session (agents, jobs,
# controllers) and the network namespaces they hold, named namespaces, and
# links in the root namespace. A namespace with no process left is freed by
# the kernel unless something names it, so these cover them all. Filtering
# by session keeps other people's concurrent runs out of the picture.
# Kernel threads (kthreadd and its children) are never ours; they matter
# when the test runs in session 0, as under some CI harnesses, where their
# names change with the work they do.
SID=$(ps -o sid= -p $$ | tr -d ' ')
leak_state() {
  local pids
  pids=$(ps -eo pid=,ppid=,sid= | awk -v s="$SID" '$3 == s && $1 != 2 && $2 != 2 {print $1}')
  echo "procs: $(for p in $pids; do [ "$p" != $$ ] && cat /proc/$p/comm 2>/dev/null; done | grep -vE '^(bash|ps|awk|cat|sort|tr|grep)$' | sort | tr '\n' ' ')"
  echo "netns: $(for p in $pids; do readlink /proc/$p/ns/net 2>/dev/null; done | sort -u | tr '\n' ' ')"
  echo "named: $(ip netns list 2>/dev/null | tr '\n' ' ')"
  echo "links: $(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')"
}

leak_begin() { LEAK_BEFORE=$(leak_state); }

# Asserts nothing of a run remains: nothing in the state that was not there
# before (things others remove meanwhile are not our business). Namespaces
# and agents die asynchronously, slower under sanitizers: retry for 5 s.
leak_added() {
  local kind before after
  while read -r kind after; do
    before=$(echo "$LEAK_BEFORE" | awk -v k="$kind" '$1 == k {$1 = ""; print}')
    for item in $after; do
      case " $before " in *" $item "*) ;; *) echo "$kind $item" ;; esac
    done
  done <<< "$(leak_state)"
}

leak_check() {
  local added i
  for i in $(seq 1 100); do
    added=$(leak_added)
    [ -z "$added" ] && return 0
    sleep 0.05
  done
  echo "before: $LEAK_BEFORE" >&2
  echo "left behind: $added" >&2
  fail "the run left something behind"
}

# run_lnst EXPECTED_EXIT ARGS...: runs lnst, output in $OUT, checks the exit code.
run_lnst() {
  local want=$1; shift
  set +e
  OUT=$("$LNST" "$@" 2>&1)
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "$OUT" >&2
    fail "lnst $* exited $got, expected $want"
  fi
}

expect_out() { echo "$OUT" | grep -qE -- "$1" || { echo "$OUT" >&2; fail "output lacks /$1/"; }; }
