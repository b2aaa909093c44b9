/* vmqemu.c - the qemu process of a VM run and the guest registry (vmqemu.h). */
#include "vmqemu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 80

/* Field 22 of /proc/PID/stat: when the process started (clock ticks since
 * boot), which tells a live controller from a later process with its pid. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return 0;
	unsigned long long v = 0;
	for (int field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	sscanf(p, "%llu", &v);
	return v;
}

/* "a,b" -> "a,,b": qemu's option syntax escapes commas by doubling them. */
static int escape_commas(char *out, size_t n, const char *in)
{
	size_t o = 0;
	for (; *in; in++) {
		if (o + 3 > n)
			return -ENAMETOOLONG;
		if (*in == ',')
			out[o++] = ',';
		out[o++] = *in;
	}
	out[o] = 0;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 40)
		return 0;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

static void registry_add(struct vmqemu *q, const char *name)
{
	mkdir("/run/lnst", 0755);
	mkdir(VMQEMU_REGISTRY, 0755);
	snprintf(q->regfile, sizeof(q->regfile), "%s/%s.pid", VMQEMU_REGISTRY, name);
	FILE *f = fopen(q->regfile, "we");
	if (!f) {
		q->regfile[0] = 0;
		return;
	}
	fprintf(f, "%d %d %llu %s\n", (int)q->pid, (int)getpid(), start_time(getpid()), name);
	fclose(f);
}

int vmqemu_start(struct vmqemu *q, const struct vmqemu_opts *o, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->pidfd = -1;
	q->chan = -1;
	q->logfd = -1;
	if (!valid_name(o->name)) {
		snprintf(err, errlen, "bad guest name '%s'", o->name);
		return -EINVAL;
	}
	char rundir[PATH_MAX * 2], name[128], mem[32], smp[32];
	if (escape_commas(rundir, sizeof(rundir), o->rundir)) {
		snprintf(err, errlen, "run directory path too long: %s", o->rundir);
		return -ENAMETOOLONG;
	}
	snprintf(q->console, sizeof(q->console), "%s/console.log", o->rundir);
	snprintf(q->qemulog, sizeof(q->qemulog), "%s/qemu.log", o->rundir);
	char serial[PATH_MAX + 8], runfs[PATH_MAX * 2 + 96];
	static const char rootfs[] = "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap";
	snprintf(serial, sizeof(serial), "file:%s", q->console);
	snprintf(name, sizeof(name), "%s,process=%s", o->name, o->name);
	snprintf(mem, sizeof(mem), "%d", o->memory_mb);
	snprintf(smp, sizeof(smp), "%d", o->smp);
	snprintf(runfs, sizeof(runfs), "local,id=lnstrun,path=%s,security_model=none,multidevs=remap", rundir);
	const char *qemu = o->qemu && *o->qemu ? o->qemu : "qemu-system-x86_64";
	const char *argv[MAX_ARGS];
	int a = 0;
	const char *fixed[] = {
		qemu, "-name", name, "-nodefaults", "-no-user-config", "-display", "none", "-machine", "pc",
		"-m", mem, "-smp", smp, "-no-reboot", "-nic", "none",
		"-kernel", o->kernel, "-initrd", o->initrd, "-append", o->append,
		"-serial", serial,
		/* two ports (0 is the console's, unused): queues for no more */
		"-device", "virtio-serial-pci,id=lnstser,max_ports=2",
		"-chardev", "socket,id=lnstch,fd=3",
		"-device", "virtserialport,bus=lnstser.0,chardev=lnstch,name=" VMQEMU_PORT,
		"-fsdev", rootfs, "-device", "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
		"-fsdev", runfs, "-device", "virtio-9p-pci,fsdev=lnstrun,mount_tag=lnstrun",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[a++] = fixed[i];
	if (o->kvm) {
		argv[a++] = "-accel";
		argv[a++] = "kvm";
		argv[a++] = "-cpu";
		argv[a++] = "host";
	} else {
		argv[a++] = "-accel";
		argv[a++] = "tcg,tb-size=64";
	}
	for (int i = 0; o->extra && o->extra[i]; i++) {
		if (a >= MAX_ARGS - 1) {
			snprintf(err, errlen, "too many extra qemu arguments");
			return -E2BIG;
		}
		argv[a++] = o->extra[i];
	}
	argv[a] = NULL;

	int sv[2], st[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	if (pipe2(st, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	int log = open(o->rundir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (log < 0) /* a file system without O_TMPFILE */
		log = open(q->qemulog, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot create %s: %s", q->qemulog, strerror(e));
		close(sv[0]);
		close(sv[1]);
		close(st[0]);
		close(st[1]);
		return -e;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		setpgid(0, 0); /* Ctrl-C is for the controller */
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(127);
		if (dup2(sv[1], 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
			_exit(127);
		if (dup2(st[1], 4) < 0 || fcntl(4, F_SETFD, FD_CLOEXEC) < 0)
			_exit(127);
		close_range(5, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		int e = errno;
		if (write(4, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	int fe = errno;
	close(sv[1]);
	close(st[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(fe));
		close(log);
		close(sv[0]);
		close(st[0]);
		return -fe;
	}
	int e = 0;
	ssize_t n;
	do
		n = read(st[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(st[0]);
	if (n == sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s%s", qemu, strerror(e),
			 e == ENOENT ? " (install qemu-system-x86)" : "");
		waitpid(pid, NULL, 0);
		close(log);
		close(sv[0]);
		return -e;
	}
	q->logfd = log;
	q->pid = pid;
	q->chan = sv[0];
	q->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	registry_add(q, o->name);
	return 0;
}

int vmqemu_poll(struct vmqemu *q)
{
	if (q->exited || q->pid <= 0)
		return 1;
	int st;
	if (waitpid(q->pid, &st, WNOHANG) == q->pid) {
		q->exited = 1;
		q->status = st;
		return 1;
	}
	return 0;
}

void vmqemu_stop(struct vmqemu *q, int timeout_ms)
{
	if (q->pid > 0 && !vmqemu_poll(q)) {
		if (q->pidfd >= 0) {
			struct pollfd p = { .fd = q->pidfd, .events = POLLIN };
			while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
			}
		}
		if (!vmqemu_poll(q)) {
			kill(q->pid, SIGKILL);
			int st;
			while (waitpid(q->pid, &st, 0) < 0 && errno == EINTR) {
			}
			q->exited = 1;
			q->status = st;
		}
	}
	if (q->pidfd >= 0)
		close(q->pidfd);
	q->pidfd = -1;
	if (q->chan >= 0)
		close(q->chan);
	q->chan = -1;
	if (q->logfd >= 0) {
		/* qemu.log only if qemu said something; an O_TMPFILE gets its
		 * name now, a named one goes when empty */
		struct stat st;
		char fdpath[64];
		int empty = fstat(q->logfd, &st) == 0 && st.st_size == 0;
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", q->logfd);
		if (empty)
			unlink(q->qemulog);
		else
			linkat(AT_FDCWD, fdpath, AT_FDCWD, q->qemulog, AT_SYMLINK_FOLLOW);
		close(q->logfd);
		q->logfd = -1;
	}
	if (q->regfile[0])
		unlink(q->regfile);
	q->regfile[0] = 0;
}

const char *vmqemu_status(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ?: "?");
	else
		snprintf(buf, n, "wait status %d", st);
	return buf;
}

int vmqemu_kvm_available(char *why, size_t n)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "/dev/kvm: %s", strerror(errno));
		return 0;
	}
	int v = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (v != KVM_API_VERSION) {
		snprintf(why, n, "/dev/kvm: API version %d, not %d", v, KVM_API_VERSION);
		return 0;
	}
	why[0] = 0;
	return 1;
}

/* Whether pid runs qemu with "-name NAME,...". */
static int is_guest(pid_t pid, const char *name)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	size_t len = strlen(name);
	for (char *p = buf, *prev = NULL; p < buf + n; prev = p, p += strlen(p) + 1)
		if (prev && strcmp(prev, "-name") == 0 && strncmp(p, name, len) == 0 && p[len] == ',')
			return 1;
	return 0;
}

int vmqemu_leftovers(int dry_run, void (*report)(const char *name, int qemu_pid, int ctl_pid, void *ud),
		     void *ud)
{
	DIR *d = opendir(VMQEMU_REGISTRY);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".pid") != 0)
			continue;
		char path[PATH_MAX], name[64] = "";
		snprintf(path, sizeof(path), "%s/%s", VMQEMU_REGISTRY, e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		int qpid = 0, cpid = 0;
		unsigned long long cstart = 0;
		int ok = fscanf(f, "%d %d %llu %63s", &qpid, &cpid, &cstart, name) == 4;
		fclose(f);
		if (ok && cpid > 0 && start_time(cpid) == cstart && cstart != 0)
			continue; /* its controller is running: a live guest */
		found++;
		int running = ok && qpid > 0 && is_guest(qpid, name);
		if (!dry_run) {
			if (running)
				kill(qpid, SIGKILL);
			unlink(path);
		}
		if (report)
			report(ok ? name : e->d_name, running ? qpid : 0, ok ? cpid : 0, ud);
	}
	closedir(d);
	return found;
}
