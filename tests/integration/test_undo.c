/* test_undo.c - the agent's undo log on a host that outlives the run.
 *
 * A throwaway named namespace stands for a real machine: a veth pair in it
 * plays the mapped NIC. The agent (argv[1]) runs inside it on a socketpair;
 * the test maps the NIC, adds an address, sets the MTU and the link up, then
 * ends the run (run.end) — or simply disconnects — and checks with ip(8) that
 * the NIC is exactly as it was found. The namespace is deleted at the end.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"

static char ns[64];
static int passed, failed;

static void sh(const char *fmt, const char *arg)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg);
	if (system(cmd) != 0)
		fprintf(stderr, "command failed: %s\n", cmd);
}

/* ip -n NS -o addr/link show dev a, as text */
static char *state(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "ip -n %s -o link show dev undo_a | sed 's/.*<\\(.*\\)> mtu \\([0-9]*\\).*/\\1 mtu \\2/';"
		 "ip -n %s -o -4 addr show dev undo_a | awk '{print $4}'", ns, ns);
	FILE *p = popen(cmd, "r");
	static char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = 0;
	pclose(p);
	return strdup(buf);
}

static pid_t start(int *fd, const char *agent)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		int nsfd = open(path, O_RDONLY);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(sv[1], 3);
		fcntl(3, F_SETFD, 0);
		execl(agent, "lnst-agent", "--fd=3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static char *call(int fd, const char *req)
{
	uint8_t hdr[4];
	frame_header_put(hdr, (uint32_t)strlen(req));
	if (write(fd, hdr, 4) != 4 || write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return NULL;
	struct frame_reader r;
	frame_reader_init(&r, 1 << 24);
	char *out = NULL;
	for (;;) {
		const char *p;
		uint32_t len;
		if (frame_reader_next(&r, &p, &len) == 1) {
			if (memmem(p, len, "\"event\"", 7))
				continue; /* events */
			out = strndup(p, len);
			break;
		}
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) <= 0 || frame_reader_fill(&r, fd) <= 0)
			break;
	}
	frame_reader_free(&r);
	return out;
}

static int change_things(int fd)
{
	char *r = call(fd, "{\"id\":1,\"method\":\"dev.map\",\"params\":{\"name\":\"undo_a\"}}");
	if (!r || !strstr(r, "\"result\""))
		return 0;
	char *ifx = strstr(r, "\"ifindex\":");
	int ifindex = ifx ? atoi(ifx + 10) : 0;
	free(r);
	char req[256];
	const char *ops[] = {
		"{\"id\":2,\"method\":\"dev.ip_add\",\"params\":{\"ifindex\":%d,\"addr\":\"198.51.100.9/24\"}}",
		"{\"id\":3,\"method\":\"dev.set\",\"params\":{\"ifindex\":%d,\"mtu\":1400}}",
		"{\"id\":4,\"method\":\"dev.up\",\"params\":{\"ifindex\":%d}}",
	};
	for (int i = 0; i < 3; i++) {
		snprintf(req, sizeof(req), ops[i], ifindex);
		r = call(fd, req);
		int ok = r && strstr(r, "\"result\"");
		free(r);
		if (!ok)
			return 0;
	}
	return 1;
}

static void check(const char *name, int ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	ok ? passed++ : failed++;
}

static int wait_exit(pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_undo PATH/lnst-agent\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(ns, sizeof(ns), "lnsttest-undo%d", getpid());
	sh("ip netns add %s", ns);
	sh("ip -n %s link add name undo_a type veth peer name undo_b", ns);
	char *before = state();

	for (int mode = 0; mode < 2; mode++) {
		int fd;
		pid_t pid = start(&fd, argv[1]);
		int changed = change_things(fd);
		char *during = state();
		check(mode ? "changes applied (disconnect case)" : "changes applied (run.end case)",
		      changed && strstr(during, "198.51.100.9/24") && strstr(during, "mtu 1400") &&
			      strstr(during, "UP"));
		free(during);
		if (mode == 0) {
			char *r = call(fd, "{\"id\":9,\"method\":\"run.end\"}");
			check("run.end replies with what it undid", r && strstr(r, "\"undone\""));
			free(r);
			char *after = state();
			check("run.end restores the NIC as found", strcmp(after, before) == 0);
			if (strcmp(after, before))
				fprintf(stderr, "before:\n%safter:\n%s", before, after);
			free(after);
			close(fd);
			check("agent exits 0 after EOF", wait_exit(pid));
		} else {
			close(fd); /* the controller vanishes */
			check("agent exits 0 after the controller vanished", wait_exit(pid));
			char *after = state();
			check("disconnect restores the NIC as found", strcmp(after, before) == 0);
			if (strcmp(after, before))
				fprintf(stderr, "before:\n%safter:\n%s", before, after);
			free(after);
		}
	}
	free(before);
	sh("ip netns del %s", ns);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
