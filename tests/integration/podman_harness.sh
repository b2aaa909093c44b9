#!/bin/bash
# The Podman services of the podman integration tests (a ctest fixture):
#   podman_harness.sh start   write the configuration, start two services on
#                             sockets of their own (netavark and cni backends),
#                             build the test agent and controller images offline
#   podman_harness.sh stop    remove the test images, stop the services, remove
#                             the configuration
# Nothing of the machine's own Podman configuration (/etc/containers) is
# changed: the services read containers.conf from CONTAINERS_CONF, keep their
# network configs in $STATE, and CNI conflists go to $STATE/cni.d. Names are
# in podman_env.sh (one set per build tree).
# Needs LNST (the lnst binary) and ROOT (the source tree).
set -eu
LNST=${LNST:?set LNST to the lnst binary}
ROOT=${ROOT:?set ROOT to the source tree}
. "$(dirname "$0")/podman_env.sh"

write_conf() { # FILE BACKEND NETWORK_CONFIG_DIR
  cat > "$1" <<EOF
# lnst integration tests: Podman 4.3 on Debian 12 as root. The default
# ulimits exceed this machine's hard limits, and crun rejects its cgroup
# layout: lower the ulimits, use runc.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
[network]
network_backend = "$2"
network_config_dir = "$3"
EOF
}

start_service() { # NAME CONF SOCK
  local name=$1 conf=$2 sock=$3 i
  rm -f "$sock"
  CONTAINERS_CONF=$conf setsid podman system service --time 0 "unix://$sock" \
    >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
  for i in $(seq 1 100); do
    if [ -S "$sock" ] && podman --url "unix://$sock" version >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  cat "$STATE/$name.log" >&2
  echo "podman_harness: the $name service did not answer on $sock within 10 s" >&2
  return 1
}

stop_service() { # NAME SOCK
  local pid
  [ -f "$STATE/$1.pid" ] || return 0
  pid=$(cat "$STATE/$1.pid")
  # only the service this harness started: its command line names our socket
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "unix://$2"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$STATE/$1.pid" "$2"
}

case "${1:-}" in
start)
  command -v podman >/dev/null || { echo "podman_harness: podman is not installed (scripts/deps.sh)" >&2; exit 1; }
  [ -f "$STATE/netavark.pid" ] && bash "$0" stop
  mkdir -p "$STATE/netavark.d" "$LNST_CNI_DIR" "$LNST_PODMAN_RUN_DIR"
  write_conf "$STATE/containers.conf" netavark "$STATE/netavark.d"
  # the cni service reads its conflists from $STATE/cni.d (LNST_CNI_DIR)
  write_conf "$STATE/containers-cni.conf" cni "$LNST_CNI_DIR"
  start_service netavark "$STATE/containers.conf" "$SOCK"
  start_service cni "$STATE/containers-cni.conf" "$CNI_SOCK"
  "$LNST" image build --agent --name "$AGENT_IMAGE" --podman-uri "unix://$SOCK" --source "$ROOT"
  "$LNST" image build --controller --name "$CONTROLLER_IMAGE" --podman-uri "unix://$SOCK" --source "$ROOT"
  ;;
stop)
  if [ -S "$SOCK" ]; then
    podman --url "unix://$SOCK" rmi -f "$AGENT_IMAGE" "$CONTROLLER_IMAGE" "$BROKEN_IMAGE" "$SILENT_IMAGE" \
      >/dev/null 2>&1 || true
  fi
  stop_service cni "$CNI_SOCK"
  stop_service netavark "$SOCK"
  rm -rf "$STATE"
  ;;
*)
  echo "usage: podman_harness.sh start|stop" >&2
  exit 2
  ;;
esac
