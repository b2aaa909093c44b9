/* vmsetup.h - the guest's root file system, made ready by lnst-vmguest.
 *
 * The guest's /init (lua/lnst/vminit.lua) only loads the drivers it needs to
 * reach the host's root, mounts that root read-only over 9p and switch_roots
 * into it with lnst-vmguest as PID 1. Everything else the guest needs is
 * done here, with system calls instead of one busybox process per step
 * (under TCG a process costs tens of milliseconds): fresh /proc, /sys, /dev
 * (devpts, /dev/shm, a static /dev/net/tun node, whose first open loads
 * tun), tmpfs /run and /tmp, the run directory read-write over 9p at its
 * host path, on-demand module loading from the kernel's own module tree
 * (/proc/sys/kernel/modprobe is a script that runs busybox modprobe
 * chrooted into a tmpfs tree whose lib/modules/RELEASE is that tree), and
 * the agents' probe cache the host keeps for this kernel in
 * /run/lnst (VMSETUP_KINDS_PREFIX).
 *
 * Parameters are the kernel command line's, as init's environment:
 * lnst_run (the run directory), lnst_mods (the module tree, "-" for none),
 * lnst_kinds (the probe cache on the host's root; may not exist).
 */
#ifndef LNST_VMSETUP_H
#define LNST_VMSETUP_H

#include <stddef.h>

/* The agents' probe cache for a boot is this followed by the boot id: the
 * name src/agent/link.c gives it (kinds_cache_key), which must match. */
#define VMSETUP_KINDS_PREFIX "/run/lnst/kinds2-"

/* The helper the kernel runs for request_module. */
#define VMSETUP_MODPROBE "/run/lnst-vm/modprobe"

/* Sets the guest's root up (see above). Returns 0, or a negative errno with
 * what failed in err ("cannot mount ...: why"). */
int vmsetup_root(char *err, size_t errlen);

#endif
