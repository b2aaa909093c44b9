#!/bin/bash
# The REPL as a person uses it, through tmux: lnst repl on live hosts (tab
# completion, printing, :sh, :help, Ctrl-C on a long remote job, r:test()),
# --pause-on-fail on a failed check and on a Lua error, lnst.pause(), and
# SIGTERM; nothing of a run may remain afterwards.
. "$(dirname "$0")/lib.sh"
set -e
command -v tmux >/dev/null || fail "tmux is needed (scripts/deps.sh installs it)"
T=lnsttest$$
N=0
SOCK=/tmp/lnst-tmux-$$-0
EXITF=/tmp/lnst-repl-exit-$$
HDIR=/tmp/lnst-repl-home-$$   # HOME of the sessions: the history file goes there
mkdir -p "$HDIR"
tm() { tmux -S "$SOCK" "$@"; }
cleanup() { tm kill-server 2>/dev/null || true; rm -rf /tmp/lnst-tmux-$$-* "$EXITF" "$HDIR"; }
trap cleanup EXIT

# start CMD...: runs lnst in a fresh tmux session; its exit code lands in $EXITF.
start() {
  rm -f "$EXITF"
  tm kill-server 2>/dev/null || true
  N=$((N + 1))
  SOCK=/tmp/lnst-tmux-$$-$N   # a fresh server each time (a dying one may hold the old socket)
  tm new-session -d -s $T -x 160 -y 50 "cd '$ROOT'; HOME='$HDIR' $*; echo \$? > $EXITF; sleep 60"
  PANE_SID=$(tm display -p -t $T '#{pane_pid}')
}
screen() { tm capture-pane -p -t $T -S -200; }
# wait_for REGEX [SECONDS]
wait_for() {
  local i
  for i in $(seq 1 $(( ${2:-10} * 10 ))); do
    screen | grep -qE -- "$1" && return 0
    sleep 0.1
  done
  screen >&2
  fail "screen never showed /$1/"
}
keys() { tm send-keys -t $T "$@"; }
# waits for the command to end; checks its exit code
ended() {
  local i
  for i in $(seq 1 100); do [ -s "$EXITF" ] && break; sleep 0.1; done
  [ -s "$EXITF" ] || { screen >&2; fail "lnst did not end"; }
  [ "$(cat "$EXITF")" = "$1" ] || { screen >&2; fail "exit code $(cat "$EXITF"), expected $1"; }
}
# nothing of the run left in the pane's session (but its shell and sleep)
pane_clean() {
  local left i
  for i in $(seq 1 40); do
    left=$(ps -eo sid=,comm= | awk -v s="$PANE_SID" '$1 == s {print $2}' | grep -vE '^(sh|bash|sleep)$' || true)
    [ -z "$left" ] && return 0
    sleep 0.05
  done
  fail "left running: $left"
}

leak_begin

# 1. lnst repl on hello_world
start "$LNST" repl recipes/hello_world.lua
wait_for '^lnst>' 15
expect_screen() { screen | grep -qE -- "$1" || { screen >&2; fail "screen lacks /$1/"; }; }
# the Lua stack a pause shows starts at the recipe's own frame
stack_starts() {
  screen | grep -A1 '^Lua stack:$' | tail -1 | grep -qE -- "^ +$1" || { screen >&2; fail "the stack does not start at $1"; }
}
expect_screen 'hosts\.host1 .*nsenter -t [0-9]+ -n -m -p'
keys '6 * 7' Enter
wait_for '^42$'   # on a line of its own: no prompt drawn under the output
keys 'for i = 1, 2 do' Enter 'print("line " .. i)' Enter
keys -l 'end'   # -l: a bare "end" is tmux's End key
keys Enter
wait_for '^line 2$'
expect_screen '^>> print\("line " \.\. i\)$'
# lines typed while a command runs are evaluated after it, in order
keys 'hosts.host1:run("sleep 1")' Enter 'x = 20' Enter 'x + 23' Enter
wait_for '^43$'
keys 'half typed' C-c   # Ctrl-C at the prompt drops the line
keys '1 + 1' Enter
wait_for '^2$'
keys 'r' Enter
wait_for '^<r: recipe HelloWorld; hosts host1, host2; params \{ count = 5, .*\}; [0-9]+ results so far, PASS>$'
keys 'hosts.host1.eth0' Enter
wait_for '<device host1\.eth0: veth down>'
keys 'para' Tab   # a global
wait_for '^lnst> params$'
keys C-u 'hosts.host2.eth0.opers' Tab   # a device field
wait_for '^lnst> hosts\.host2\.eth0\.operstate$'
keys C-u 'hosts.ho' Tab
wait_for '^lnst> hosts\.host$'
keys '1.eth0:up_' Tab
wait_for '^lnst> hosts\.host1\.eth0:up_and_wait'
keys C-u 'r:test()' Enter
wait_for '^"PASS"$' 20
keys 'r.run' Enter
wait_for '^  PASS [0-9]+_Host host1 job 2[[:space:]]+Job finished: ping -c 5 .*198\.51\.100\.2 \(exit code 0\)'
keys 'hosts.host1.eth0' Enter
wait_for '<device host1\.eth0: veth up carrier 198\.51\.100\.1/24'
keys 'hosts.host2.br0 = lnst.device.bridge{}' Enter 'hosts.host2.eth0.master = hosts.host2.br0' Enter
keys 'hosts.host2.eth0' Enter
wait_for '<device host2\.eth0: veth up carrier 198\.51\.100\.2/24 .*master [a-z_]*br0>'
keys 'hosts.host1:run({"ping", "-i", "0.2", "198.51.100.2"})' Enter
sleep 1.5
keys C-c
wait_for 'interrupted by SIGINT'
keys ':sh host1 pgrep -c ping || echo no-ping-left' Enter
wait_for '^no-ping-left'
keys ':sh host1 ip -br addr show eth0' Enter
wait_for 'eth0@.* 198\.51\.100\.1/24'
keys ':help device' Enter
wait_for 'device: a network device on a host'
keys ':help hosts.host2' Enter
wait_for 'host: a test host'
keys 'j = hosts.host2:run({"sh", "-c", "sleep 0.5; echo followed-output"}, {bg = true})' Enter
keys 'j:follow()' Enter
wait_for '^followed-output'
keys ':quit' Enter
# the ping interrupted by Ctrl-C did not finish: its job is the run's FAIL
wait_for 'FAIL .*Job finished: ping -i 0\.2 198\.51\.100\.2 \(killed by SIGKILL\)' 15
wait_for 'Overall result of this Run: FAIL' 15
ended 1
pane_clean
grep -qx '6 \* 7' "$HDIR/.lnst_history" || fail "the history file lacks the lines typed"

# Ctrl-D leaves lnst repl too, with a teardown; -i keeps a script's globals
start "$LNST" repl recipes/hello_world.lua
wait_for '^lnst>' 15
keys C-d
wait_for 'Overall result of this Run: PASS' 15
ended 0
pane_clean
start "$LNST" -i tests/integration/script_run.lua a1
wait_for '^lnst>' 15
expect_screen 'overall:[[:space:]]+PASS[[:space:]]+args:[[:space:]]+a1'
keys 'run:overall()' Enter
wait_for '^"PASS"$'
keys C-d
ended 0
pane_clean

# 2. --pause-on-fail on a failed check: :continue finishes the run
start "$LNST" run --pause-on-fail tests/integration/recipes/fails_check.lua
wait_for 'lnst paused: a result failed' 20
wait_for '^paused>'
expect_screen 'FAIL .*Job finished: ping'
stack_starts 'tests/integration/recipes/fails_check\.lua:10: in function'
keys 'result.description' Enter
wait_for 'Job finished: ping'
keys ':continue' Enter
wait_for 'Overall result of this Run: FAIL' 15
ended 1
pane_clean

# 3. --pause-on-fail on a Lua error shows the stack; :abort tears down
start "$LNST" run --pause-on-fail tests/integration/recipes/lua_error.lua
wait_for 'lnst paused: Lua error: .*lua_error\.lua:9: attempt to index' 20
expect_screen 'lua_error\.lua:9: in function'
keys 'hosts.h1.eth0.ips[1]' Enter
wait_for '"198\.51\.100\.1/24"'
keys ':abort' Enter
wait_for 'Overall result of this Run: FAIL' 15
ended 2
pane_clean

# lnst repl --pause-on-fail: r:test() pauses at the FAIL, :continue returns to lnst>
start "$LNST" repl --pause-on-fail tests/integration/recipes/fails_check.lua
wait_for '^lnst>' 15
keys 'r:test()' Enter
wait_for 'lnst paused: a result failed' 20
wait_for '^paused>'
keys ':continue' Enter
wait_for '^"FAIL"$' 15
keys ':quit' Enter
wait_for 'Overall result of this Run: FAIL' 15
ended 1
pane_clean

# 4. lnst.pause() is a breakpoint at a terminal...
start "$LNST" run tests/integration/recipes/breakpoint.lua
wait_for 'lnst paused: lnst.pause\(look at the address\)' 20
wait_for '^paused>'
stack_starts 'tests/integration/recipes/breakpoint\.lua:8: in function'
keys C-d
wait_for 'Overall result of this Run: PASS' 15
ended 0
pane_clean
# ...and a no-op without one
run_lnst 0 run tests/integration/recipes/breakpoint.lua < /dev/null
expect_out 'PASS .*one address'

# 5. SIGTERM ends lnst repl with a full teardown
start "$LNST" repl recipes/hello_world.lua
wait_for '^lnst>' 15
pid=$(ps -eo pid=,sid=,comm= | awk -v s="$PANE_SID" '$2 == s && $3 == "lnst" {print $1}')
[ -n "$pid" ] || fail "no lnst process in the pane"
kill -TERM "$pid"
wait_for 'Overall result of this Run: FAIL' 15
expect_screen 'interrupted by SIGTERM'
ended 2
pane_clean

leak_check
echo "1 passed, 0 failed"
