#!/bin/bash
# Fault injection (docs/faults.md): a local agent SIGKILLed or SIGSTOPped
# mid-run, requests to a stopped agent, a job that ignores SIGTERM, a
# namespace deleted under its agent. Each run must end with an error that
# names the host, within a bounded time, and leave nothing behind.
. "$(dirname "$0")/lib.sh"
set -e
R=tests/integration/recipes/faults.lua
PIDS=/tmp/lnst-faults-pids.$$
LOG=/tmp/lnst-faults-out.$$
trap 'rm -f $PIDS $PIDS.tmp $LOG' EXIT
leak_begin

now() { date +%s.%N; }
elapsed_le() { awk -v a="$1" -v b="$(now)" -v m="$2" 'BEGIN { exit !(b - a <= m) }'; }

# A run of MODE (default wait_in_job: h1 runs a foreground job) with h1's
# agent signalled (KILL or STOP); $2: how long the run may take after the
# signal.
signal_agent() {
  local sig=$1 bound=$2 mode=${3:-wait_in_job} pid agent t0 code
  rm -f $PIDS
  LNST_FAULT_PIDS=$PIDS "$LNST" run --timeout 2 $R -p mode=$mode > $LOG 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do [ -s $PIDS ] && break; sleep 0.05; done
  [ -s $PIDS ] || { kill $pid; cat $LOG; fail "SIG$sig: the recipe never published its agents"; }
  sleep 0.3
  agent=$(awk '$1 == "h1" { print $2 }' $PIDS)
  t0=$(now)
  kill -s "$sig" "$agent"
  set +e; wait $pid; code=$?; set -e
  OUT=$(cat $LOG)
  [ "$code" = 2 ] || { echo "$OUT" >&2; fail "SIG$sig of h1's agent: exit $code, expected 2"; }
  elapsed_le "$t0" "$bound" || { echo "$OUT" >&2; fail "SIG$sig of h1's agent ($mode): the run took over $bound s to end"; }
  # only h1 had a problem: h2 and h3 were cleaned up normally
  if echo "$OUT" | grep -E 'cleanup: host h[23]'; then fail "SIG$sig: cleanup of h2/h3 had problems"; fi
  leak_check
}

# 1. SIGKILL of a local agent: the wait on its job ends at once, naming it.
signal_agent KILL 5
expect_out 'Exception:.*host h1: agent connection lost while waiting for job 1'

# ... also while the recipe waits on another host: h2's 30 s job, or lnst's
# sleep. The whole run (error, cleanup of h2 and h3, summary) ends within
# 2 s of the kill, not after the wait.
signal_agent KILL 2 wait_other
expect_out 'Exception:.*host h1: agent connection lost \(peer closed the connection\)'
signal_agent KILL 2 sleep_other
expect_out 'Exception:.*host h1: agent connection lost \(peer closed the connection\)'

# 2. SIGSTOP: not a hang. With --timeout 2 the job's wait pings the agent
# after 2 s and gives up 2 s later; cleanup kills it without asking again.
signal_agent STOP 8
expect_out 'Exception:.*host h1: the agent stopped answering: no reply to ping within 2 s while waiting for job 1 \(sleep 30\)'
expect_out 'cleanup: host h1: agent killed by SIGKILL'

# ... a plain request to a stopped agent times out and names host and method,
t0=$(now)
run_lnst 2 run --timeout 2 $R -p mode=rpc_stopped
elapsed_le "$t0" 6 || fail "a request to a stopped agent did not time out in time"
expect_out 'Exception:.*host h1: no reply from the agent to dev\.ip_add within 2 s'
leak_check

# ... while a job longer than the request timeout passes (the agent answers pings).
run_lnst 0 run --timeout 1 $R -p mode=long_job
expect_out 'PASS .*a 3 s job outlives a 1 s request timeout'
leak_check

run_lnst 2 run --timeout 0 $R -p mode=long_job
expect_out "--timeout must be a positive number of seconds, not '0'"

# 3. A job that ignores SIGTERM is still running after job:kill("TERM");
# the end of the run removes it (SIGKILL).
run_lnst 0 run $R -p mode=term_ignored
expect_out 'PASS .*the job is still running after SIGTERM'
if pgrep -f 'sleep 299\.25' > /dev/null; then pgrep -af 'sleep 299\.25' >&2; fail "the job that ignores SIGTERM survived the run"; fi
leak_check

# 4. A namespace deleted under the agent's feet while a job runs in it: the
# wait ends with an error naming it, later requests for it fail at once,
# and cleanup goes on.
t0=$(now)
run_lnst 2 run $R -p mode=netns_gone
elapsed_le "$t0" 10 || fail "the lost namespace's job was waited for too long"
expect_out 'PASS .*ip netns del ns1 on h1'
expect_out 'Exception:.*host h1\.ns1: namespace lost while waiting for job 1 .*its worker is gone'
if echo "$OUT" | grep -E 'cleanup:'; then fail "cleanup had problems after the namespace was lost"; fi
leak_check
run_lnst 1 run $R -p mode=netns_after
expect_out 'FAIL .*Host h1\.ns1.*Job could not start: true: job\.start: namespace ns1: its worker has exited'
leak_check
echo "1 passed, 0 failed"
