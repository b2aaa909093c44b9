#!/bin/sh
# Installs the Debian packages lnst needs to build, test and run.
# Idempotent: when everything is present it only runs dpkg-query (fast).
set -eu
PKGS="build-essential cmake pkg-config
libluajit-5.1-dev luajit libcjson-dev
libnl-3-dev libnl-route-3-dev libnl-genl-3-dev
libxml2-dev libxml2-utils libcurl4-openssl-dev libssl-dev libreadline-dev libcmocka-dev
iproute2 iputils-ping iperf3 tcpdump ethtool nftables procps util-linux tmux mptcpize
podman runc containernetworking-plugins netavark iptables
qemu-system-x86 busybox-static xz-utils libteam-utils xdp-tools perftest ibverbs-providers valgrind"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# iperf3 asks whether to start a daemon; answer no.
echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections
apt-get update -qq >/dev/null 2>&1 || apt-get update
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
