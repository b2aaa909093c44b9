-- lnst.vminit: the /init of an lnst guest's initramfs (a busybox sh script;
-- lnst.vmkernel packs it with busybox, lnst-vminit and the modules it loads).
--
-- It mounts /proc and hands over to lnst-vminit (src/ctl/vminit.c, static,
-- in the initramfs), which brings the guest to lnst-vmguest with system
-- calls (under TCG every process the guest starts costs tens of
-- milliseconds): it loads the drivers it needs to reach the host's root
-- (virtio PCI, the virtio-serial port, 9p) and the fabric's (bridge, veth),
-- two at a time, mounts the host's root read-only over 9p, moves it onto /
-- and execs lnst-vmguest there as PID 1, which makes the rest
-- ready (fresh /proc, /sys, /dev, /run, /tmp, the run directory, on-demand
-- module loading, the probe cache: src/ctl/vmsetup.h). Any failure is
-- printed on the console as "lnst-vm: init: ..." and powers the guest off,
-- which the host reports with that line.
--
-- Parameters come as environment variables from the kernel command line:
-- lnst_mode (run | bare: mount /sys and /dev too, print a line and power
-- off: bench/vm.sh's reference boot); lnst-vminit reads lnst_guest
-- (lnst-vmguest), lnst_agent (lnst-agent) and lnst_readahead (the files it
-- reads ahead); lnst-vmguest reads lnst_run, lnst_mods, lnst_kinds and
-- lnst_path.
return [==[#!/bin/busybox sh
bb=/bin/busybox
die() { echo "lnst-vm: init: $*"; $bb poweroff -f; $bb sleep 10; }
$bb mount -t proc proc /proc
if [ "$lnst_mode" = bare ]; then
  $bb mount -t sysfs sysfs /sys
  $bb mount -t devtmpfs devtmpfs /dev
  echo "lnst-vm: bare init reached at $($bb cut -d' ' -f1 /proc/uptime) s"
  $bb poweroff -f
fi
[ -x /bin/lnst-vminit ] || die "/bin/lnst-vminit is missing from the initramfs"
exec /bin/lnst-vminit
]==]
