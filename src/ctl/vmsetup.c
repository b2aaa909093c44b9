/* vmsetup.c - the guest's root file system, made ready by lnst-vmguest
 * (vmsetup.h). Runs once, as PID 1 of the guest, before anything else. */
#include "vmsetup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define TREE_HOLDER "/dev/.lnst-mods"
#define MODS_ROOT "/run/lnst-vm/mods"
#define KINDS_MAX 65536

static int mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data,
	       const char *what, char *err, size_t errlen)
{
	if (mount(src, dst, type, flags, data) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "cannot mount %s on %s: %s", what, dst, strerror(e));
	return -e;
}

/* mkdir -p; the last component gets mode. */
static int mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
		snprintf(err, errlen, "path too long: %s", path);
		return -ENAMETOOLONG;
	}
	for (char *s = p + 1;; s++) {
		int last = *s == 0;
		if (*s != '/' && !last)
			continue;
		*s = 0;
		if (mkdir(p, last ? mode : 0755) < 0 && errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "cannot create directory %s: %s", p, strerror(e));
			return -e;
		}
		if (last)
			return 0;
		*s = '/';
	}
}

/* Writes text to path, created with exactly mode (past the umask); mode 0:
 * an existing file (a sysctl), left as it is. */
static int write_file(const char *path, const char *text, size_t len, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | (mode ? O_CREAT | O_TRUNC : 0), mode);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	ssize_t n = mode && fchmod(fd, mode) < 0 ? -1 : write(fd, text, len);
	int e = n < 0 ? errno : EIO;
	if (close(fd) < 0 && n == (ssize_t)len) {
		n = -1;
		e = errno;
	}
	if (n != (ssize_t)len) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* The probe cache, read before /run and /tmp hide where it may lie; an
 * absent or unreadable one is no error (the agents then probe). */
static char *read_kinds(const char *path, size_t *len)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return NULL;
	char *buf = malloc(KINDS_MAX);
	ssize_t n = buf ? read(fd, buf, KINDS_MAX) : -1;
	close(fd);
	if (n <= 0 || n == KINDS_MAX) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

static int put_kinds(const char *text, size_t len, char *err, size_t errlen)
{
	char boot[64] = "", path[128];
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, sizeof(boot) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0; /* no boot id, no cache: the agents probe */
	boot[n] = 0;
	boot[strcspn(boot, "\n")] = 0;
	snprintf(path, sizeof(path), VMSETUP_KINDS_PREFIX "%s", boot);
	int rc = mkdir_p("/run/lnst", 0755, err, errlen);
	return rc ? rc : write_file(path, text, len, 0644, err, errlen);
}

/* /proc/sys/kernel/modprobe: busybox modprobe chrooted into MODS_ROOT,
 * whose lib/modules/RELEASE is the kernel's module tree. */
static int setup_modprobe(const char *tree, char *err, size_t errlen)
{
	static const char script[] = "#!" MODS_ROOT "/bin/busybox sh\n"
				     "exec " MODS_ROOT "/bin/busybox chroot " MODS_ROOT
				     " /bin/busybox modprobe \"$@\"\n";
	struct utsname u;
	char dir[PATH_MAX];
	int rc;
	uname(&u);
	snprintf(dir, sizeof(dir), MODS_ROOT "/lib/modules/%s", u.release);
	if ((rc = mkdir_p(MODS_ROOT "/bin", 0755, err, errlen)) || (rc = mkdir_p(MODS_ROOT "/proc", 0755, err, errlen)) ||
	    (rc = mkdir_p(dir, 0755, err, errlen)) ||
	    (rc = write_file(MODS_ROOT "/bin/busybox", "", 0, 0755, err, errlen)) ||
	    (rc = mnt("/bin/busybox", MODS_ROOT "/bin/busybox", NULL, MS_BIND, NULL, "busybox", err, errlen)) ||
	    (rc = mnt("proc", MODS_ROOT "/proc", "proc", 0, NULL, "proc", err, errlen)))
		return rc;
	if (tree) {
		if ((rc = mnt(TREE_HOLDER, dir, NULL, MS_MOVE, NULL, "the module tree", err, errlen)))
			return rc;
		rmdir(TREE_HOLDER);
	}
	if ((rc = write_file(VMSETUP_MODPROBE, script, sizeof(script) - 1, 0755, err, errlen)))
		return rc;
	return write_file("/proc/sys/kernel/modprobe", VMSETUP_MODPROBE "\n", sizeof(VMSETUP_MODPROBE), 0, err,
			  errlen);
}

int vmsetup_root(char *err, size_t errlen)
{
	const char *run = getenv("lnst_run"), *mods = getenv("lnst_mods");
	const char *tree = mods && *mods && strcmp(mods, "-") != 0 ? mods : NULL;
	char *kinds = NULL;
	size_t kinds_len = 0;
	int rc;
	if (!run || run[0] != '/') {
		snprintf(err, errlen, "no run directory (lnst_run) on the kernel command line");
		return -EINVAL;
	}
	if ((rc = mnt("proc", "/proc", "proc", 0, NULL, "proc", err, errlen)) ||
	    (rc = mnt("sysfs", "/sys", "sysfs", 0, NULL, "sysfs", err, errlen)) ||
	    (rc = mnt("devtmpfs", "/dev", "devtmpfs", 0, NULL, "devtmpfs", err, errlen)))
		return rc;
	/* What lies under the host's /tmp or /run is hidden once the guest's
	 * own tmpfs are there: take the module tree and the probe cache now. */
	if (tree && ((rc = mkdir_p(TREE_HOLDER, 0700, err, errlen)) ||
		     (rc = mnt(tree, TREE_HOLDER, NULL, MS_BIND, NULL, "the module tree", err, errlen))))
		return rc;
	kinds = read_kinds(getenv("lnst_kinds"), &kinds_len);
	if ((rc = mkdir_p("/dev/pts", 0755, err, errlen)) || (rc = mkdir_p("/dev/shm", 0755, err, errlen)) ||
	    (rc = mkdir_p("/dev/net", 0755, err, errlen)))
		goto out;
	if (mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200)) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create /dev/net/tun: %s", strerror(-rc));
		goto out;
	}
	chmod("/dev/net/tun", 0666);
	if ((rc = mnt("devpts", "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=666", "devpts", err, errlen)) ||
	    (rc = mnt("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777", "tmpfs", err, errlen)) ||
	    (rc = mnt("tmpfs", "/run", "tmpfs", 0, "mode=755", "tmpfs", err, errlen)) ||
	    (rc = mnt("tmpfs", "/tmp", "tmpfs", 0, "mode=1777", "tmpfs", err, errlen)))
		goto out;
	if ((rc = mkdir_p(run, 0755, err, errlen)) ||
	    (rc = mnt("lnstrun", run, "9p", 0, "trans=virtio,version=9p2000.L,msize=512000", "the run directory",
		      err, errlen)))
		goto out;
	if ((rc = setup_modprobe(tree, err, errlen)))
		goto out;
	if (kinds)
		rc = put_kinds(kinds, kinds_len, err, errlen);
out:
	free(kinds);
	return rc;
}
