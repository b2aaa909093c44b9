/* vmqemu.h - the qemu process of a VM run, and the registry of live guests.
 *
 * vmqemu_start runs qemu-system-x86_64 with the given kernel and initramfs,
 * no network device at all, one virtio-serial port (VMQEMU_PORT) whose host
 * end is a socketpair the caller gets back, the host's root shared
 * read-only over 9p (tag "hostroot") and the run directory shared
 * read-write (tag "lnstrun"). The guest's console goes to console.log in
 * the run directory; qemu's own messages go to an unnamed file there
 * (O_TMPFILE) that becomes qemu.log when qemu stops, if qemu said anything:
 * a killed controller leaves no empty file behind.
 *
 * Lifetimes: qemu gets SIGKILL when the controller dies (PR_SET_PDEATHSIG),
 * so nothing survives a crash of the controller. Every guest is also listed
 * in VMQEMU_REGISTRY/<name>.pid (qemu pid, controller pid and start time)
 * while it runs, and is named <name> in ps (qemu -name); vmqemu_leftovers
 * ends the guests whose controller is gone (lnst cleanup).
 */
#ifndef LNST_VMQEMU_H
#define LNST_VMQEMU_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define VMQEMU_PORT "org.lnst.ctl"
#define VMQEMU_REGISTRY "/run/lnst/vm"

struct vmqemu_opts {
	const char *qemu;   /* binary (default qemu-system-x86_64 on PATH) */
	const char *name;   /* lnst-vm-..., at most 40 characters of [A-Za-z0-9_.-] */
	const char *kernel; /* vmlinux (PVH) or bzImage */
	const char *initrd;
	const char *append; /* kernel command line */
	const char *rundir; /* shared read-write; console.log and qemu.log go here */
	int memory_mb;
	int smp;
	int kvm;            /* 1: -accel kvm -cpu host, 0: TCG */
	const char *const *extra; /* more qemu arguments, NULL-terminated, or NULL */
};

struct vmqemu {
	pid_t pid;
	int pidfd;   /* readable when qemu exits */
	int chan;    /* host end of the virtio-serial port */
	int logfd;   /* qemu's stdout and stderr (read with pread) */
	int exited;
	int status;  /* wait status once exited */
	char console[PATH_MAX];
	char qemulog[PATH_MAX];
	char regfile[PATH_MAX];
};

/* 0, or -errno with err saying what went wrong. */
int vmqemu_start(struct vmqemu *q, const struct vmqemu_opts *o, char *err, size_t errlen);
/* Reaps qemu if it exited (no wait): 1 exited, 0 running. */
int vmqemu_poll(struct vmqemu *q);
/* Waits up to timeout_ms for qemu to exit, SIGKILLs it after that; returns
 * once it is reaped. Removes the registry entry. */
void vmqemu_stop(struct vmqemu *q, int timeout_ms);
/* "exited 0", "killed by SIGKILL". */
const char *vmqemu_status(int status, char *buf, size_t n);
/* Whether /dev/kvm can be used (opens, API version 12); why not in why. */
int vmqemu_kvm_available(char *why, size_t n);
/* Ends the guests whose controller is gone and removes their registry
 * entries (with dry_run, only reports them). report gets each guest's name,
 * its qemu pid (0: not running any more, a stale entry) and its
 * controller's pid. Returns how many were found, or -errno if the registry
 * cannot be read. */
int vmqemu_leftovers(int dry_run, void (*report)(const char *name, int qemu_pid, int ctl_pid, void *ud),
		     void *ud);

#endif
