/* vminit.c - lnst-vminit: the guest's way from its /init to lnst-vmguest
 * (docs/vm.md, "How the guest boots").
 *
 * The initramfs's /init (lua/lnst/vminit.lua, busybox sh) execs this program,
 * statically linked and packed in the initramfs by lua/lnst/vmkernel.lua, as
 * PID 1. Under TCG every process the guest starts costs tens of
 * milliseconds, and loading a module costs more (its signature is checked),
 * so it does with system calls, and two at a time, what took a busybox
 * modprobe, mount and switch_root. The modules come in lists in /modules,
 * one file per line in load order (lua/lnst/vmkernel.lua, BOOT_LISTS):
 *   - a child process loads the 9p file system (/modules/9p) on the guest's
 *     other CPU, tells this process, then loads the fabric's drivers
 *     (bridge, veth: /modules/fabric), while
 *   - this process loads virtio PCI and the virtio-serial port
 *     (/modules/virtio), then, once the child's 9p is there, 9p over virtio
 *     (/modules/root), mounts the host's root read-only over 9p, moves it
 *     onto / and execs lnst-vmguest there ($lnst_guest) with LNST_VMLOADER
 *     set to the child's pid: lnst-vmguest waits for it before it builds the
 *     fabric;
 *   - once the root is there, a second child reads ahead, on the host's
 *     root, the files listed in $lnst_readahead (lnst-vmguest's libraries,
 *     lnst-agent and its own: lua/lnst/vmkernel.lua), so that they come
 *     over 9p in large reads while lnst-vmguest starts instead of page by
 *     page as each program maps them.
 * Once both have loaded their drivers, the first child empties the
 * initramfs (as switch_root would) and exits.
 * Each step's kernel uptime goes to lnst-vmguest in LNST_BOOT_STEPS, which
 * reports it to the host (lnst run -d prints it). Any failure is printed as
 * "lnst-vm: init: ..." (the host reports that line) and powers the guest off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirwipe.h"

#define NEWROOT "/newroot"

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "lnst-vm: init: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	reboot(RB_POWER_OFF);
	_exit(1);
}

/* The kernel's uptime as text ("2.43"), or "?". */
static void uptime(char *out, size_t n)
{
	char buf[64] = "";
	int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	ssize_t r = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[r > 0 ? r : 0] = 0;
	buf[strcspn(buf, " \n")] = 0;
	snprintf(out, n, "%s", buf[0] ? buf : "?");
}

/* Loads the modules listed in file (one file name of /modules per line,
 * dependencies first). Returns 0, or -errno with what failed in err. */
static int load_list(const char *list, char *err, size_t errlen)
{
	FILE *f = fopen(list, "re");
	if (!f && errno == ENOENT)
		return 0; /* no module tree: built-in drivers only */
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot read %s: %s", list, strerror(e));
		return -e;
	}
	char line[256];
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/modules/%s", line);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)) {
			rc = -errno;
			snprintf(err, errlen, "cannot load module %s: %s", line, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return rc;
}

/* The child: 9p (a byte on ready_fd when loaded; it closes without one if
 * that failed), the fabric's drivers, then (once the parent no longer needs
 * the initramfs: done_fd's other end closes with its exec) the initramfs
 * goes. */
static void load_child(int ready_fd, int done_fd)
{
	char err[512];
	if (load_list("/modules/9p", err, sizeof(err))) {
		fprintf(stderr, "lnst-vm: init: %s\n", err);
		_exit(1);
	}
	if (write(ready_fd, "", 1) != 1)
		_exit(1);
	close(ready_fd);
	int rc = load_list("/modules/fabric", err, sizeof(err));
	if (rc)
		fprintf(stderr, "lnst-vm: init: %s\n", err);
	char c;
	for (;;) {
		ssize_t r = read(done_fd, &c, 1);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	struct stat st;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		dirwipe(fd, st.st_dev, NULL);
	else if (fd >= 0)
		close(fd);
	_exit(rc ? 1 : 0);
}

/* The second child: reads the files listed in list (on the host's root,
 * rootfd) into the page cache. Errors only mean less is read ahead. */
static void readahead_files(int rootfd, const char *list)
{
	static char buf[256 * 1024];
	if (fchdir(rootfd) < 0 || chroot(".") < 0)
		_exit(1);
	FILE *f = fopen(list, "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		int fd = line[0] == '/' ? open(line, O_RDONLY | O_CLOEXEC) : -1;
		while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0) {
		}
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

int main(void)
{
	const char *guest = getenv("lnst_guest"), *agent = getenv("lnst_agent"), *ra = getenv("lnst_readahead");
	char t_init[32], t_mods[32], t_root[32], steps[160], loader[32], err[512];
	uptime(t_init, sizeof(t_init));
	if (!guest || guest[0] != '/')
		die("no lnst-vmguest (lnst_guest) on the kernel command line");
	int ready[2], done[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(ready[0]);
		close(done[1]);
		load_child(ready[1], done[0]);
	}
	close(ready[1]);
	close(done[0]);
	if (load_list("/modules/virtio", err, sizeof(err)))
		die("%s", err);
	char c;
	ssize_t r;
	while ((r = read(ready[0], &c, 1)) < 0 && errno == EINTR) {
	}
	if (r != 1)
		die("the 9p file system's modules did not load (see above)");
	close(ready[0]);
	if (load_list("/modules/root", err, sizeof(err)))
		die("%s", err);
	uptime(t_mods, sizeof(t_mods));
	if (mount("hostroot", NEWROOT, "9p", MS_RDONLY, "trans=virtio,version=9p2000.L,msize=512000,cache=loose") < 0)
		die("cannot mount the host's root over 9p (is 9p over virtio in this kernel?): %s", strerror(errno));
	uptime(t_root, sizeof(t_root));
	int rootfd = ra && ra[0] == '/' ? open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (rootfd >= 0) {
		if (fork() == 0)
			readahead_files(rootfd, ra);
		close(rootfd);
	}
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
		die("cannot move the host's root onto /: %s", strerror(errno));
	snprintf(steps, sizeof(steps), "init %s drivers %s root %s", t_init, t_mods, t_root);
	snprintf(loader, sizeof(loader), "%d", (int)pid);
	if (setenv("LNST_BOOT_STEPS", steps, 1) || setenv("LNST_VMLOADER", loader, 1) ||
	    (agent && setenv("LNST_AGENT", agent, 1)))
		die("setenv: %s", strerror(errno));
	char *const argv[] = { (char *)guest, NULL };
	execv(guest, argv);
	die("cannot run %s: %s", guest, strerror(errno));
}
