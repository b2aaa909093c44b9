-- lnst.vminit: the /init of an lnst guest's initramfs (a busybox sh script;
-- lnst.vmkernel packs it with busybox and the modules it loads).
--
-- It brings the guest from the kernel to lnst-vmguest, doing as little as
-- it can (under TCG every process it starts costs tens of milliseconds):
-- mounts /proc, loads the drivers it needs (virtio PCI, the virtio-serial
-- port, 9p; bridge and veth for the fabric) from /modules in one busybox
-- modprobe (with the modules.dep lnst.vmkernel wrote for them, in
-- /lib/modules/RELEASE when it knew the release, else linked there),
-- mounts the host's root read-only over 9p and switch_roots into it with
-- lnst-vmguest as PID 1, which makes the rest ready with system calls (fresh
-- /proc, /sys, /dev, /run, /tmp, the run directory, on-demand module
-- loading, the probe cache: src/ctl/vmsetup.h). Any failure is printed on
-- the console as "lnst-vm: init: ..." and powers the guest off, which the
-- host reports with that line.
--
-- Parameters come as environment variables from the kernel command line:
-- lnst_mode (run | bare: mount /sys and /dev too, print a line and power
-- off: bench/vm.sh's reference boot),
-- lnst_guest (lnst-vmguest), lnst_agent (lnst-agent); lnst-vmguest reads
-- lnst_run, lnst_mods and lnst_kinds.
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
if [ -s /modules/load ]; then
  read -r mods < /modules/load
  read -r K < /proc/sys/kernel/osrelease
  M=/lib/modules/$K
  { [ -d $M ] || $bb ln -s /modules $M; } && $bb modprobe -a $mods || die "cannot load module(s) of: $mods"
fi
R=/newroot
$bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot $R ||
  die "cannot mount the host's root over 9p (is 9p over virtio in this kernel?)"
export LNST_AGENT="$lnst_agent"
exec $bb switch_root $R "$lnst_guest"
]==]
