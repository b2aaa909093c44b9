/* test_frames.c - lnst-agent against malformed input on its connection.
 *
 * Starts the agent (argv[1]) on a socketpair in the current namespaces (it
 * only reads the device table) and feeds it garbage, truncated, oversized and
 * invalid frames: it must close the connection and exit 0 every time, never
 * crash or hang; valid requests with bad params get error replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static const char *agent;
static int passed, failed;

static pid_t start(int *fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		exit(2);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sv[1], 3);
		fcntl(3, F_SETFD, 0);
		execl(agent, "lnst-agent", "--fd=3", "--max-frame=65536", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static void send_frame(int fd, const char *payload, size_t len)
{
	uint8_t hdr[4];
	frame_header_put(hdr, (uint32_t)len);
	if (write(fd, hdr, 4) != 4 || write(fd, payload, len) != (ssize_t)len)
		perror("write");
}

/* Reads one frame's payload (NUL-terminated) within 3 s; NULL on EOF. */
static char *read_frame(int fd)
{
	struct frame_reader r;
	frame_reader_init(&r, 1 << 24);
	const char *p;
	uint32_t len;
	char *out = NULL;
	for (;;) {
		int got = frame_reader_next(&r, &p, &len);
		if (got == 1) {
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

/* Skips events; returns the next reply. */
static char *read_reply(int fd)
{
	for (;;) {
		char *f = read_frame(fd);
		if (!f || !strstr(f, "\"event\""))
			return f;
		free(f);
	}
}

/* The agent must exit on its own, with status 0, within 3 s. */
static int finish(pid_t pid, int fd)
{
	close(fd);
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

/* After bad input the agent closes: a read gives EOF. */
static int closes(int fd)
{
	char *f;
	while ((f = read_frame(fd))) {
		if (!strstr(f, "\"event\"")) {
			free(f);
			return 0;
		}
		free(f);
	}
	return 1;
}

static void check(const char *name, int ok)
{
	printf("%s %s\n", ok ? "ok  " : "FAIL", name);
	ok ? passed++ : failed++;
}

static void bad_input(const char *name, const void *bytes, size_t n, int then_close)
{
	int fd;
	pid_t pid = start(&fd);
	if (write(fd, bytes, n) != (ssize_t)n)
		perror("write");
	if (then_close)
		shutdown(fd, SHUT_WR);
	int ok = closes(fd);
	check(name, finish(pid, fd) && ok);
}

static void bad_payload(const char *name, const char *payload)
{
	int fd;
	pid_t pid = start(&fd);
	send_frame(fd, payload, strlen(payload));
	int ok = closes(fd);
	check(name, finish(pid, fd) && ok);
}

static int replies(int fd, const char *req, const char *want)
{
	send_frame(fd, req, strlen(req));
	char *r = read_reply(fd);
	int ok = r && strstr(r, want);
	if (!ok)
		fprintf(stderr, "request %s: got %s, wanted %s\n", req, r ? r : "(nothing)", want);
	free(r);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_frames PATH/lnst-agent\n");
		return 2;
	}
	agent = argv[1];
	signal(SIGPIPE, SIG_IGN);

	bad_input("garbage bytes", "this is not a frame at all", 26, 0);
	uint8_t huge[8] = { 0x7f, 0xff, 0xff, 0xff, '{', '}', 0, 0 };
	bad_input("oversized length", huge, 6, 0);
	uint8_t over[4];
	frame_header_put(over, 65537);
	bad_input("one byte over --max-frame", over, 4, 0);
	uint8_t trunc[10] = { 0, 0, 0, 50, '{', '"', 'i', 'd', '"', ':' };
	bad_input("truncated frame then EOF", trunc, 10, 1);
	bad_input("half a header then EOF", trunc, 2, 1);
	bad_payload("payload not JSON", "{{{{not json");
	bad_payload("payload a JSON array", "[1,2,3]");
	bad_payload("payload a reply, not a request", "{\"id\":1,\"result\":true}");
	bad_payload("request without id", "{\"method\":\"ping\"}");
	bad_payload("method with a slash", "{\"id\":1,\"method\":\"../etc\"}");
	bad_payload("params an array", "{\"id\":1,\"method\":\"ping\",\"params\":[1]}");
	char nul[] = "{\"id\":1,\"method\":\"ping\"}";
	nul[5] = 0;
	bad_payload("embedded NUL", nul);

	int fd;
	pid_t pid = start(&fd);
	int ok = replies(fd, "{\"id\":1,\"method\":\"ping\"}", "\"result\"") &&
		 replies(fd, "{\"id\":2,\"method\":\"no.such\"}", "ENOSYS") &&
		 replies(fd, "{\"id\":3,\"method\":\"dev.up\",\"params\":{\"ifindex\":\"x\"}}", "EINVAL") &&
		 replies(fd, "{\"id\":4,\"method\":\"dev.up\",\"params\":{\"ifindex\":99999}}", "no device") &&
		 replies(fd, "{\"id\":5,\"method\":\"job.start\",\"params\":{\"argv\":[]}}", "EINVAL") &&
		 replies(fd, "{\"id\":6,\"method\":\"job.start\",\"params\":{\"argv\":[\"/nonexistent\"]}}", "cannot run") &&
		 replies(fd, "{\"id\":7,\"method\":\"ping\",\"netns\":\"nope\"}", "does not exist") &&
		 replies(fd, "{\"id\":8,\"method\":\"ping\"}", "\"id\":8");
	check("bad requests get error replies, connection stays", ok);
	/* Pre-existing devices are read-only: lo is enabled, others not. */
	check("pipelined requests keep order", replies(fd, "{\"id\":9,\"method\":\"ping\"}", "\"id\":9"));
	check("exits 0 on EOF", finish(pid, fd));

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
