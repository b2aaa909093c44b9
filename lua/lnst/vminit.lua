-- lnst.vminit: the /init of an lnst guest's initramfs (a busybox sh script;
-- lnst.vmkernel packs it with busybox and the modules it loads).
--
-- It brings the guest from the kernel to lnst-vmguest: mounts /proc, /sys
-- and /dev, loads the drivers it needs (virtio PCI, the virtio-serial port,
-- 9p) from /modules, a dependency level at a time (the modules of a level
-- in parallel), in the order lnst.vmkernel computed, mounts the host's
-- root read-only over 9p, gives it fresh /proc, /sys, /dev (with a static
-- /dev/net/tun node, whose first open loads tun), /run and /tmp,
-- mounts the run directory read-write at its host path, sets up on-demand
-- module loading from the kernel's own module tree, and switch_roots into the
-- host's root with lnst-vmguest as PID 1. Any failure is printed on the
-- console as "lnst-vm: init: ..." and powers the guest off, which the host
-- reports with that line.
--
-- On-demand modules: the kernel runs /proc/sys/kernel/modprobe for every
-- request_module (ip link add type bond asks for rtnl-link-bond). The host's
-- root has no /lib/modules for this kernel and is read-only, so the helper
-- chroots busybox modprobe into a small tmpfs tree whose lib/modules/RELEASE
-- is a bind mount of the module tree that came with the kernel.
--
-- Parameters come as environment variables from the kernel command line:
-- lnst_mode (run | bare: print a line and power off, for bench/vm.sh),
-- lnst_run (the run directory), lnst_guest (lnst-vmguest), lnst_agent
-- (lnst-agent), lnst_mods (the module tree, "-" for none), lnst_kinds (the
-- agents' probe cache the host keeps for this kernel, if it exists: it goes
-- to /run/lnst/kinds-BOOT_ID, where the agents look; see lnst-vmguest).
return [==[#!/bin/busybox sh
bb=/bin/busybox
die() { echo "lnst-vm: init: $*"; $bb poweroff -f; $bb sleep 10; }
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
if [ "$lnst_mode" = bare ]; then
  echo "lnst-vm: bare init reached at $($bb cut -d' ' -f1 /proc/uptime) s"
  $bb poweroff -f
fi
lvl=0
while read -r l m; do
  [ "$l" = "$lvl" ] || { wait; lvl=$l; }
  { $bb insmod "/modules/$m" || echo "$m" >> /failed; } &
done < /modules/order
wait
[ -s /failed ] && die "cannot load module(s) $($bb cat /failed)"
R=/newroot
$bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot $R ||
  die "cannot mount the host's root over 9p (is 9p over virtio in this kernel?)"
# What lies under the host's /tmp or /run is hidden by the guest's own
# tmpfs: take the module tree and the probe cache now.
if [ "$lnst_mods" != - ]; then
  $bb mkdir /tree && $bb mount --bind "$R$lnst_mods" /tree || die "cannot bind the module tree $lnst_mods"
fi
$bb cp "$R$lnst_kinds" /kinds 2>/dev/null
$bb mount -t proc proc $R/proc && $bb mount -t sysfs sysfs $R/sys && $bb mount -t devtmpfs devtmpfs $R/dev ||
  die "cannot mount /proc, /sys and /dev in the host's root"
$bb mkdir -p $R/dev/pts $R/dev/shm $R/dev/net
$bb mknod -m 666 $R/dev/net/tun c 10 200
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
$bb mount -t tmpfs -o mode=755 tmpfs $R/run && $bb mount -t tmpfs -o mode=1777 tmpfs $R/tmp ||
  die "cannot mount tmpfs on /run and /tmp"
$bb mkdir -p "$R$lnst_run" &&
  $bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 lnstrun "$R$lnst_run" ||
  die "cannot mount the run directory $lnst_run"
M=$R/run/lnst-vm/mods
K=$($bb uname -r)
$bb mkdir -p $M/bin $M/proc "$M/lib/modules/$K" && $bb cp $bb $M/bin/busybox ||
  die "cannot make the module loader's tree"
$bb mount -t proc proc $M/proc
if [ "$lnst_mods" != - ]; then
  $bb mount --move /tree "$M/lib/modules/$K" || die "cannot move the module tree into place"
fi
if [ -f /kinds ]; then
  read -r boot < /proc/sys/kernel/random/boot_id
  $bb mkdir -p $R/run/lnst && $bb cp /kinds "$R/run/lnst/kinds-$boot"
fi
$bb cat > $R/run/lnst-vm/modprobe <<'EOF'
#!/run/lnst-vm/mods/bin/busybox sh
exec /run/lnst-vm/mods/bin/busybox chroot /run/lnst-vm/mods /bin/busybox modprobe "$@"
EOF
$bb chmod 755 $R/run/lnst-vm/modprobe
echo /run/lnst-vm/modprobe > /proc/sys/kernel/modprobe
export LNST_AGENT="$lnst_agent"
exec $bb switch_root $R "$lnst_guest"
]==]
