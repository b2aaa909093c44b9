#!/bin/bash
# Remote agents with a pre-shared key: two machines (namespaces running
# lnst-agent --listen), reached over TCP on veths from a controller
# namespace. hello_world runs through the mapper (and with --multimatch on
# both matches); the machines are left as
# found; pool check/list see them; a wrong key and an unknown identity are
# refused cleanly (and the agents keep serving); a second controller gets
# "busy"; killing an agent mid-run ends the run at once with a clear error
# and the other machine is cleaned up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote_env.sh"
set -e
leak_begin
BASE=$LEAK_BEFORE
trap "lab_teardown" EXIT

lab_up 2
AGENT_KEYGEN() { "$AGENT" keygen "$@" >/dev/null; }
AGENT_KEYGEN --psk "$LAB/keys/agent.psk" --identity ctl
cp -p "$LAB/keys/agent.psk" "$LAB/keys/ctl.psk"
AGENT_KEYGEN --psk "$LAB/keys/wrong.psk" --identity ctl
AGENT_KEYGEN --psk "$LAB/keys/intruder.psk" --identity intruder
for i in 1 2; do agent_start "$i" psk; pool_file "$i" psk; done
log_has "$LAB/a1.log" "listening on 198.51.100.11:9999 \(security psk"
MSTATE=$(machines_state)
leak_begin

# hello_world through the mapper
run_ctl 0 run --pool "$LAB/pool" recipes/hello_world.lua -p count=2 -p "net='203.0.113'"
expect_out 'host "host1" uses "machine m1 \(198\.51\.100\.11:9999, pool pool, psk as .ctl.\)"'
expect_out 'interface "eth0" matched to "tnic 02:00:00:00:01:01 \(tnic, label lab_net -> network net1\)"'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.2 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 203\.0\.113\.1 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
machines_check
leak_check
log_has "$LAB/a1.log" "controller 'ctl' at 198\.51\.100\.1:[0-9]+ took charge \(security psk\)"

# --multimatch: once per match (host1 on m1, then on m2)
run_ctl 0 run --multimatch --pool "$LAB/pool" recipes/hello_world.lua -p count=1 -p "net='203.0.113'"
[ "$(echo "$OUT" | grep -c 'Overall result of this Run: PASS')" = 2 ] || { echo "$OUT" >&2; fail "multimatch did not run twice"; }
[ "$(echo "$OUT" | grep -E 'host "host1" uses "machine m[12] ' | sed -E 's/.*machine (m[12]).*/\1/' | tr '\n' ' ')" = "m1 m2 " ] \
  || { echo "$OUT" >&2; fail "multimatch runs are not host1 on m1, then on m2"; }
machines_check
leak_check

# pool check and list
run_ctl 0 pool check --pool "$LAB/pool"
expect_out "m1  OK  lnst-agent [0-9.]+, protocol 1, kernel .*security psk as 'ctl'"
expect_out "tnic 02:00:00:00:02:01: present as tnic \(down\)"
expect_out "all machines OK"
run_ctl 0 pool list --pool "$LAB/pool"
expect_out "pool pool \(.*\): 2 machines"
expect_out "m2  198\.51\.100\.12:9999  security psk  reachable"
expect_out "tnic  02:00:00:00:01:01  label lab_net  driver=veth"
machines_check
leak_check

# a wrong key, an unknown identity: refused, nothing changed, agents still serve
mkdir -p "$LAB/pool-wrong" "$LAB/pool-intruder"
sed 's#ctl.psk#wrong.psk#' "$LAB/pool/m1.xml" > "$LAB/pool-wrong/m1.xml"
sed 's#ctl.psk#wrong.psk#' "$LAB/pool/m2.xml" > "$LAB/pool-wrong/m2.xml"
sed 's#ctl.psk#intruder.psk#' "$LAB/pool/m1.xml" > "$LAB/pool-intruder/m1.xml"
sed 's#ctl.psk#intruder.psk#' "$LAB/pool/m2.xml" > "$LAB/pool-intruder/m2.xml"
run_ctl 2 run --pool "$LAB/pool-wrong" recipes/hello_world.lua -p "net='203.0.113'"
expect_out "cannot use the machines of pool pool-wrong \(nothing was changed on any of them\)"
expect_out "host1: agent connection lost \(TLS handshake with agent m1 at 198\.51\.100\.11:9999 failed: the peer rejected our pre-shared key"
log_has "$LAB/a1.log" "wrong pre-shared key"
run_ctl 2 run --pool "$LAB/pool-intruder" recipes/hello_world.lua -p "net='203.0.113'"
expect_out "host1: agent connection lost \(TLS handshake with agent m1 at 198\.51\.100\.11:9999 failed: the peer refused the handshake"
log_has "$LAB/a1.log" "unknown pre-shared key identity 'intruder'"
machines_check
leak_check
run_ctl 0 pool check --pool "$LAB/pool"
expect_out "all machines OK"

# a second controller while the first runs: busy; then m2's agent is killed
# mid-run: the first run ends at once with the reason, m1 is cleaned up
set +e
ip netns exec "$NSC" "$LNST" run --pool "$LAB/pool" tests/integration/recipes/remote_long.lua > "$LAB/long.out" 2>&1 &
LONG=$!
set -e
log_has "$LAB/a2.log" "Job started|job .* started|took charge"
for t in $(seq 1 100); do
  pgrep -P "${APID[2]}" -f -x "sleep 1000" >/dev/null && break
  sleep 0.05
done
run_ctl 2 run --pool "$LAB/pool" recipes/hello_world.lua -p "net='203.0.113'"
expect_out "host1: agent m1 at 198\.51\.100\.11:9999 refused: busy: controlled by 'ctl' at 198\.51\.100\.1:[0-9]+ since [0-9-]+ [0-9:]+"
expect_out "nothing was changed on any of them"
log_has "$LAB/a1.log" "refused 198\.51\.100\.1:[0-9]+: busy with controller 'ctl'"
T0=$(date +%s%N)
kill -9 "${APID[2]}"
wait "${APID[2]}" 2>/dev/null || true
APID[2]=
set +e
wait "$LONG"
RC=$?
set -e
T1=$(date +%s%N)
OUT=$(cat "$LAB/long.out")
[ "$RC" = 2 ] || { echo "$OUT" >&2; fail "the run with a killed agent exited $RC, expected 2"; }
expect_out "host h2: agent connection lost \(peer closed the connection\)"
expect_out "Overall result of this Run: FAIL"
MS=$(( (T1 - T0) / 1000000 ))
[ "$MS" -lt 10000 ] || fail "the lost agent was reported after $MS ms (limit 10 s)"
echo "lost agent reported after $MS ms"
# m1 is back as it was; m2's agent died without undoing (SIGKILL)
MSTATE=$(echo "$MSTATE" | grep '^m1:')
NSA_SAVE=("${NSA[@]}")
machines_state() { echo "m1: $(ip -n "${NSA[1]}" -br link | sort | tr -s ' ' | tr '\n' ';')"
  echo "m1: $(ip -n "${NSA[1]}" -br addr | sort | tr -s ' ' | tr '\n' ';')"; }
machines_check
log_has "$LAB/a1.log" "controller 'ctl' at .* is gone; waiting for the next one"

lab_teardown
trap - EXIT
LEAK_BEFORE=$BASE
leak_check
echo "1 passed, 0 failed"
