#!/bin/bash
# Remote agents with certificates and pinned public keys: hello_world through
# the mapper with the pool named in a controller config; an unpinned, an
# expired controller certificate and an unpinned agent certificate are
# refused with the reason; a hung agent (SIGSTOP) is reported by the
# keepalive within the timeout, the other machine is cleaned up, and the
# hung agent cleans up itself once it runs again; a controller that vanishes
# (its link cut) is noticed by the agent's TCP keepalive, which then cleans up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/remote_env.sh"
set -e
leak_begin
BASE=$LEAK_BEFORE
trap "lab_teardown" EXIT

TIMEOUT=4
AGENT_TIMEOUT=$TIMEOUT
lab_up 2
K=$LAB/keys
for n in ctl other a1 a2; do "$AGENT" keygen --cert "$K/$n" --cn "${n/a/m}" >/dev/null; done
# an expired controller certificate (openssl ca can back-date one)
(
  cd "$K"
  touch index.txt
  echo 01 > serial
  printf '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = default\npolicy = p\n[p]\ncommonName = supplied\n' > ca.cnf
  openssl req -new -key ctl.key -subj /CN=ctl -out old.csr 2>/dev/null
  openssl ca -batch -config ca.cnf -selfsign -keyfile ctl.key -in old.csr -out old.crt \
    -startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1
)
[ -s "$K/old.crt" ] || fail "could not make an expired certificate"
for i in 1 2; do agent_start "$i" cert; pool_file "$i" cert; done
ctl_conf() { printf '[environment]\ntimeout = %s\nlog_dir = logs\n[pools]\nlab = pool\n[security]\ncert = keys/%s\nkey = keys/%s\n' \
  "$TIMEOUT" "$1" "$2" > "$LAB/$3"; }
ctl_conf ctl.crt ctl.key ctl.conf
ctl_conf other.crt other.key other.conf
ctl_conf old.crt ctl.key old.conf
MSTATE=$(machines_state)
leak_begin

run_ctl 0 run --config "$LAB/ctl.conf" --pool lab recipes/hello_world.lua -p count=1 -p "net='203.0.113'"
expect_out 'host "host1" uses "machine m1 \(198\.51\.100\.11:9999, pool lab, cert as .m1.\)"'
expect_out 'PASS .*Job finished: ping -c 1 .* 203\.0\.113\.2 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
log_has "$LAB/a1.log" "controller 'ctl' at 198\.51\.100\.1:[0-9]+ took charge \(security cert\)"
# log_dir: each host's agent log, per run
grep -qE "info: connected to machine m1 .*kernel .*" "$LAB"/logs/*/host1.log \
  && grep -qE "info: bye: [1-9][0-9]* changes undone, [0-9]+ jobs killed" "$LAB"/logs/*/host1.log \
  || fail "no agent log in log_dir: $(ls -R "$LAB/logs" 2>&1)"
machines_check
leak_check

# refusals, both ways
run_ctl 2 run --config "$LAB/other.conf" --pool lab recipes/hello_world.lua
expect_out "host1: agent connection lost \(TLS session with agent m1 at 198\.51\.100\.11:9999 failed: the peer does not trust our certificate"
log_has "$LAB/a1.log" "the certificate of controller at 198\.51\.100\.1:[0-9]+ \(CN=other\) is not trusted: its public key is not pinned in .*/keys/ctl\.crt"
run_ctl 2 run --config "$LAB/old.conf" --pool lab recipes/hello_world.lua
expect_out "host1: agent connection lost \(TLS session with agent m1 at .* failed: the peer says our certificate has expired"
log_has "$LAB/a1.log" "\(CN=ctl\) expired on 2020-01-02 00:00:00 UTC"
mkdir -p "$LAB/swapped"
sed 's#a1.crt#a2.crt#' "$LAB/pool/m1.xml" > "$LAB/swapped/m1.xml"
run_ctl 2 run --config "$LAB/ctl.conf" --pool "$LAB/swapped" tests/integration/recipes/one_host.lua
expect_out "h: agent connection lost \(TLS handshake with agent m1 at 198\.51\.100\.11:9999 failed: the certificate of agent m1 at 198\.51\.100\.11:9999 \(CN=m1\) is not trusted: its public key is not pinned in .*/keys/a2\.crt"
expect_out "nothing was changed on any of them"
machines_check
leak_check

# a hung agent: the keepalive reports it within the timeout
set +e
ip netns exec "$NSC" "$LNST" run --config "$LAB/ctl.conf" --pool lab tests/integration/recipes/remote_long.lua \
  > "$LAB/long.out" 2>&1 &
LONG=$!
set -e
for t in $(seq 1 100); do
  pgrep -P "${APID[2]}" -f -x "sleep 1000" >/dev/null && break
  sleep 0.05
done
T0=$(date +%s%N)
kill -STOP "${APID[2]}"
set +e
wait "$LONG"
RC=$?
set -e
T1=$(date +%s%N)
OUT=$(cat "$LAB/long.out")
[ "$RC" = 2 ] || { echo "$OUT" >&2; fail "the run with a hung agent exited $RC, expected 2"; }
expect_out "host h2: agent connection lost \(no answer from agent m2 at 198\.51\.100\.12:9999 for $TIMEOUT s \(keepalive\): the agent hung or the network is down\)"
MS=$(( (T1 - T0) / 1000000 ))
[ "$MS" -le $(( TIMEOUT * 1000 + 2000 )) ] || fail "the hung agent was reported after $MS ms (timeout $TIMEOUT s)"
echo "hung agent reported after $MS ms (timeout $TIMEOUT s)"
kill -CONT "${APID[2]}"
log_has "$LAB/a2.log" "controller 'ctl' at [0-9.:]+: connection closed: .*; cleaning up"
machines_check
leak_check

# a controller that vanishes: its link to m1 is cut mid-run; m1's agent
# notices by TCP keepalive and cleans up; the controller reports m1 lost
set +e
ip netns exec "$NSC" "$LNST" run --config "$LAB/ctl.conf" --pool lab tests/integration/recipes/remote_long.lua \
  > "$LAB/long2.out" 2>&1 &
LONG=$!
set -e
for t in $(seq 1 100); do
  pgrep -P "${APID[2]}" -f -x "sleep 1000" >/dev/null && break
  sleep 0.05
done
ip -n "$NSC" link set m1 down
T0=$(date +%s%N)
for t in $(seq 1 $(( TIMEOUT * 40 ))); do
  grep -qE "connection closed: read failed: [A-Za-z ]+; cleaning up" "$LAB/a1.log" && break
  sleep 0.05
done
T1=$(date +%s%N)
grep -qE "connection closed: read failed: [A-Za-z ]+; cleaning up" "$LAB/a1.log" || { cat "$LAB/a1.log" >&2; fail "agent m1 did not notice"; }
echo "agent noticed the vanished controller after $(( (T1 - T0) / 1000000 )) ms (timeout $TIMEOUT s)"
set +e
wait "$LONG"
RC=$?
set -e
OUT=$(cat "$LAB/long2.out")
[ "$RC" = 2 ] || { echo "$OUT" >&2; fail "the run with a cut link exited $RC, expected 2"; }
expect_out "host h1: agent connection lost \(no answer from agent m1"
ip -n "$NSC" link set m1 up
machines_check
leak_check

lab_teardown
trap - EXIT
LEAK_BEFORE=$BASE
leak_check
echo "1 passed, 0 failed"
