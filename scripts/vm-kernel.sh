#!/bin/sh
# Fetches and prepares the kernel `lnst run --vm` boots (Debian's current
# linux-image-amd64: apt-get download into /var/cache/lnst/kernels, dpkg -x,
# busybox depmod, the PVH vmlinux pulled out of the bzImage, the initramfs),
# or checks and prepares a kernel of your own; prints where everything is.
#   scripts/vm-kernel.sh [auto | KERNEL [MODULES_DIR]]
# LNST: the lnst binary (default: build/lnst, then lnst on PATH).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
lnst=${LNST:-}
if [ -z "$lnst" ]; then
    if [ -x "$here/../build/lnst" ]; then lnst=$here/../build/lnst; else lnst=lnst; fi
fi
exec "$lnst" "$here/vm-kernel.lua" "$@"
