# Shared by the test_remote*.sh integration tests (sourced after lib.sh):
# a lab of "machines" made of network namespaces, each running lnst-agent as
# a daemon, reached over TCP on veths, described by generated pool files.
#
#   $NSC          the controller's namespace: bridge "mgmt" 198.51.100.1/24
#   ${NSA[i]}     machine i's namespace: mgmt0 198.51.100.(10+i)/24 (veth to the
#                 controller's bridge) and tnic (MAC 02:00:00:00:0i:01, veth to
#                 the bridge "tnet" of the fabric namespace $NSF) - the NIC a
#                 recipe gets; test traffic uses 203.0.113.0/24
#   $LAB          a scratch directory: keys, configs, pool/, logs
#
# Nothing touches the root namespace (no link, no address): every namespace,
# agent and file is removed by lab_teardown (an EXIT trap).
AGENT=${AGENT:-$(dirname "$LNST")/lnst-agent}
P=lnr$$
NSC=${P}c
NSF=${P}f
NSA=()
APID=()
LAB=$(mktemp -d /tmp/lnst-remote.XXXXXX)

lab_teardown() {
  set +e
  local i
  local pid
  for pid in "${APID[@]}"; do
    if [ -n "$pid" ]; then kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${APID[@]}"; do
    if [ -n "$pid" ]; then timeout 3 tail --pid="$pid" -f /dev/null || true; kill -9 "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null
  APID=()
  for i in "${!NSA[@]}"; do ip netns del "${NSA[$i]}" 2>/dev/null || true; done
  ip netns del "$NSF" 2>/dev/null || true
  ip netns del "$NSC" 2>/dev/null || true
  rm -rf "$LAB"
  set -e
}

# lab_up N: the controller namespace, the fabric and N machine namespaces.
lab_up() {
  local n=$1 i ns
  ip netns add "$NSC"
  ip netns add "$NSF"
  ip -n "$NSC" link set lo up
  ip -n "$NSC" link add mgmt type bridge
  ip -n "$NSC" addr add 198.51.100.1/24 dev mgmt
  ip -n "$NSC" link set mgmt up
  ip -n "$NSF" link add tnet type bridge
  ip -n "$NSF" link set tnet up
  for i in $(seq 1 "$n"); do
    ns=${P}a$i
    NSA[$i]=$ns
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$NSC" link add m$i type veth peer name mgmt0 netns "$ns"
    ip -n "$NSC" link set m$i master mgmt up
    ip -n "$ns" addr add 198.51.100.$((10 + i))/24 dev mgmt0
    ip -n "$ns" link set mgmt0 up
    ip -n "$NSF" link add t$i type veth peer name tnic netns "$ns"
    ip -n "$ns" link set tnic address "02:00:00:00:0$i:01"
    ip -n "$NSF" link set t$i master tnet up
  done
  mkdir -p "$LAB/pool" "$LAB/keys"
}

# agent_conf I MODE: the agent config of machine I (psk, cert or none).
agent_conf() {
  local i=$1 mode=$2 f=$LAB/a$1.conf
  {
    echo "[agent]"
    echo "listen = 198.51.100.$((10 + i))"
    echo "name = m$i"
    echo "timeout = ${AGENT_TIMEOUT:-10}"
    echo "[security]"
    echo "mode = $mode"
    case $mode in
      psk) echo "psk_file = keys/agent.psk" ;;
      cert) echo "cert = keys/a$i.crt"; echo "key = keys/a$i.key"; echo "trust = keys/ctl.crt" ;;
    esac
  } > "$f"
  echo "$f"
}

# agent_start I MODE [ARGS...]: lnst-agent as a daemon in machine I's namespace.
agent_start() {
  local i=$1 mode=$2; shift 2
  local conf
  conf=$(agent_conf "$i" "$mode")
  ip netns exec "${NSA[$i]}" "$AGENT" --config "$conf" --log-file "$LAB/a$i.log" "$@" &
  APID[$i]=$!
  local t
  for t in $(seq 1 100); do
    ip netns exec "${NSA[$i]}" ss -Hltn "sport = :9999" | grep -q . && return 0
    kill -0 "${APID[$i]}" 2>/dev/null || { cat "$LAB/a$i.log" >&2; fail "agent m$i exited at start"; }
    sleep 0.05
  done
  fail "agent m$i does not listen"
}

agent_stop() {
  kill "${APID[$1]}" 2>/dev/null
  wait "${APID[$1]}" 2>/dev/null
  APID[$1]=
}

# pool_file I MODE: machine I's pool file (security per MODE).
pool_file() {
  local i=$1 mode=$2
  {
    echo '<?xml version="1.0"?>'
    echo '<agentmachine>'
    echo '  <params>'
    echo "    <param name=\"hostname\" value=\"198.51.100.$((10 + i))\"/>"
    echo '    <param name="arch" value="x86_64"/>'
    echo '  </params>'
    echo '  <interfaces>'
    echo '    <eth id="tnic" label="lab_net">'
    echo "      <params><param name=\"hwaddr\" value=\"02:00:00:00:0$i:01\"/><param name=\"driver\" value=\"veth\"/></params>"
    echo '    </eth>'
    echo '  </interfaces>'
    case $mode in
      psk) echo '  <security><auth_type>psk</auth_type><psk_file>../keys/ctl.psk</psk_file></security>' ;;
      cert) echo "  <security><auth_type>cert</auth_type><pubkey_path>../keys/a$i.crt</pubkey_path></security>" ;;
      none) echo '  <security><auth_type>none</auth_type></security>' ;;
    esac
    echo '</agentmachine>'
  } > "$LAB/pool/m$i.xml"
}

# run_ctl EXPECTED_EXIT ARGS...: lnst in the controller namespace; output in $OUT.
run_ctl() {
  local want=$1; shift
  set +e
  OUT=$(ip netns exec "$NSC" "$LNST" "$@" 2>&1)
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "$OUT" >&2
    fail "lnst $* exited $got, expected $want"
  fi
}

# The links and addresses of every machine (a run must leave them as found).
machines_state() {
  local i
  for i in "${!NSA[@]}"; do
    echo "m$i: $(ip -n "${NSA[$i]}" -br link | sort | tr -s ' ' | tr '\n' ';')"
    echo "m$i: $(ip -n "${NSA[$i]}" -br addr | sort | tr -s ' ' | tr '\n' ';')"
  done
}

# Asserts the machines are as they were in $MSTATE (undo is asynchronous
# to the controller's exit only by a bye round trip: allow 2 s).
machines_check() {
  local now t
  for t in $(seq 1 40); do
    now=$(machines_state)
    [ "$now" = "$MSTATE" ] && return 0
    sleep 0.05
  done
  echo "before: $MSTATE" >&2
  echo "after:  $now" >&2
  fail "a machine was not restored"
}

# Agent log lines contain TEXT (they are written as they happen).
log_has() {
  local f=$1 text=$2 t
  for t in $(seq 1 40); do
    grep -qE -- "$text" "$f" && return 0
    sleep 0.05
  done
  cat "$f" >&2
  fail "$f lacks /$text/"
}
