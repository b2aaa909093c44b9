/* spawn.c - local agents in fresh namespaces (spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *spawn_agent_path(void)
{
	static char path[PATH_MAX + 16];
	const char *env = getenv("LNST_AGENT");
	if (env && *env)
		return env;
	if (path[0])
		return path;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(path, sizeof(path), "%s/lnst-agent", self);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	snprintf(path, sizeof(path), "lnst-agent");
	return path;
}

int spawn_local_agent_async(const char *name, int debug, pid_t *pid, int *fd, int *exec_fd, char *err,
			     size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	/* Room in the controller's end for a pipelined burst (a thousand
	 * link.create are ~1 MB of socket buffer, counted per write): with the
	 * default ~200 KB the sender stalls after ~250 requests, and the agent
	 * then waits for the controller to be scheduled again. */
	int sndbuf = 4 << 20;
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* A pipe reports exec failure (its write end closes on exec). */
	int st[2];
	if (pipe2(st, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	const char *agent = spawn_agent_path();
	long p = syscall(SYS_clone, CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, NULL, NULL,
			 NULL, NULL);
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* If the controller died before prctl, its socket end is closed. */
		struct pollfd pf = { .fd = sv[1], .events = POLLIN };
		if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLHUP))
			_exit(1);
		/* Out of the terminal's foreground group (Ctrl-C is for the
		 * controller), same session (so it is found with its run), and
		 * never reading the terminal. */
		setpgid(0, 0);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0 && devnull != 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		if (dup2(sv[1], 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
			_exit(127);
		if (st[1] != 4 && dup2(st[1], 4) < 0)
			_exit(127);
		fcntl(4, F_SETFD, FD_CLOEXEC);
		close_range(5, ~0U, 0);
		char *argv[8];
		int a = 0;
		argv[a++] = (char *)"lnst-agent";
		argv[a++] = (char *)"--fd=3";
		argv[a++] = (char *)"--netns-host";
		char namearg[96];
		snprintf(namearg, sizeof(namearg), "--name=%s", name);
		argv[a++] = namearg;
		if (debug)
			argv[a++] = (char *)"--debug";
		argv[a] = NULL;
		execvp(agent, argv);
		int e = errno;
		if (write(4, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	int saved = errno;
	close(sv[1]);
	close(st[1]);
	if (p < 0) {
		snprintf(err, errlen, "cannot create namespaces for host %s: %s%s", name, strerror(saved),
			 saved == EPERM ? " (lnst needs root for local hosts)" : "");
		close(sv[0]);
		close(st[0]);
		return -saved;
	}
	*pid = (pid_t)p;
	*fd = sv[0];
	*exec_fd = st[0];
	return 0;
}

int spawn_exec_error(int exec_fd, const char *name, char *err, size_t errlen)
{
	int e = 0;
	ssize_t n;
	do
		n = read(exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(e))
		return 0;
	snprintf(err, errlen, "cannot run agent '%s' for host %s: %s", spawn_agent_path(), name, strerror(e));
	return -e;
}

int spawn_local_agent(const char *name, int debug, pid_t *pid, int *fd, char *err, size_t errlen)
{
	int exec_fd;
	int ret = spawn_local_agent_async(name, debug, pid, fd, &exec_fd, err, errlen);
	if (ret)
		return ret;
	ret = spawn_exec_error(exec_fd, name, err, errlen);
	close(exec_fd);
	if (ret) {
		waitpid(*pid, NULL, 0);
		close(*fd);
	}
	return ret;
}

int spawn_reap(pid_t pid, int timeout_ms)
{
	int status;
	struct timespec ts = { 0, 1000000 };
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return -errno;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				return status;
			return -errno;
		}
		nanosleep(&ts, NULL);
	}
}
