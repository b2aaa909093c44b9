# Shared helpers for the integration tests (sourced; bash).
# LNST is the controller binary; every test runs real namespaces (root).
set -u
LNST=${LNST:?set LNST to the lnst binary}
ROOT=${ROOT:?set ROOT to the source tree}
cd "$ROOT"

fail() { echo "FAIL: $*" >&2; exit 1; }

# What a run could leak: namespaces with processes, named namespaces, links
# in the root namespace, and agent or job processes.
leak_state() {
  echo "netns: $(lsns -t net -n -o NS 2>/dev/null | sort | tr '\n' ' ')"
  echo "named: $(ip netns list 2>/dev/null | tr '\n' ' ')"
  echo "links: $(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')"
  echo "procs: $(ps -eo comm= | grep -E '^(lnst|lnst-agent)$' | sort | tr '\n' ' ')"
}

leak_begin() { LEAK_BEFORE=$(leak_state); }

# Asserts nothing of a run remains (namespaces die asynchronously: retry 2 s).
leak_check() {
  local after i
  for i in $(seq 1 40); do
    after=$(leak_state)
    [ "$after" = "$LEAK_BEFORE" ] && return 0
    sleep 0.05
  done
  echo "before: $LEAK_BEFORE" >&2
  echo "after:  $after" >&2
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
