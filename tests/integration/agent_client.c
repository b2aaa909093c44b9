/* agent_client.c - a minimal controller for tests that talk the wire protocol
 * to a real lnst-agent directly.
 *
 *   agent_client AGENT [--hold] [-- AGENT_ARGS...] < requests
 *
 * Starts AGENT --fd=3 [AGENT_ARGS] on a socketpair (in the caller's
 * namespaces: run it under `ip netns exec` to put both in a test
 * namespace), prints "agent pid N", then sends each stdin line (a JSON
 * object with method, optional params and netns; the id is added) and waits
 * for its reply. Every message received is printed on one line, prefixed
 * with "<- ". A line "sleep S" waits S seconds, relaying events. With
 * --hold, after the last request it prints "HOLD" and waits until it is
 * killed; otherwise it closes the connection and waits for the agent to
 * exit. The agent is not told to die with this process: tests SIGKILL
 * the client to see what an agent does when its controller vanishes.
 * Exit: 0, or 1 when a reply was an error (2 on usage or I/O errors).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

static int send_frame(int fd, const char *s)
{
	uint8_t hdr[FRAME_HDR_LEN];
	size_t n = strlen(s);
	frame_header_put(hdr, (uint32_t)n);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || write(fd, s, n) != (ssize_t)n)
		return -1;
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Prints what arrives until the reply to id (id 0: until timeout or EOF).
 * Returns 1 for an error reply, 0 for a result, -1 on EOF/timeout. */
static int receive(int fd, struct frame_reader *rd, long id, double timeout)
{
	double end = now() + timeout;
	for (;;) {
		const char *p;
		uint32_t len;
		while (frame_reader_next(rd, &p, &len) == 1) {
			printf("<- %.*s\n", (int)len, p);
			fflush(stdout);
			cJSON *m = cJSON_ParseWithLength(p, len);
			cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
			int is_reply = m && !cJSON_GetObjectItemCaseSensitive(m, "event") && cJSON_IsNumber(mid);
			int match = is_reply && id && (long)mid->valuedouble == id;
			int err = match && cJSON_GetObjectItemCaseSensitive(m, "error") != NULL;
			cJSON_Delete(m);
			if (match)
				return err;
		}
		double left = end - now();
		if (left <= 0)
			return -1;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		if (frame_reader_fill(rd, fd) <= 0)
			return -1;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: agent_client AGENT [--hold] [-- AGENT_ARGS...] < requests\n");
		return 2;
	}
	int hold = 0, extra = argc;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[i], "--") == 0) {
			extra = i + 1;
			break;
		}
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sv[1], 3);
		char **av = calloc((size_t)(argc + 3), sizeof(char *));
		int n = 0;
		av[n++] = argv[1];
		av[n++] = (char *)"--fd=3";
		for (int i = extra; i < argc; i++)
			av[n++] = argv[i];
		execv(argv[1], av);
		perror("exec");
		_exit(127);
	}
	close(sv[1]);
	printf("agent pid %d\n", pid);
	fflush(stdout);
	struct frame_reader rd;
	frame_reader_init(&rd, FRAME_MAX_DEFAULT);
	char line[65536];
	long id = 0;
	int failed = 0;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		double secs;
		if (sscanf(line, "sleep %lf", &secs) == 1) {
			receive(sv[0], &rd, 0, secs);
			continue;
		}
		cJSON *req = cJSON_Parse(line);
		if (!cJSON_IsObject(req)) {
			fprintf(stderr, "agent_client: not a JSON object: %s\n", line);
			return 2;
		}
		cJSON_AddNumberToObject(req, "id", (double)++id);
		char *s = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		printf("-> %s\n", s);
		fflush(stdout);
		if (send_frame(sv[0], s)) {
			fprintf(stderr, "agent_client: write failed: %s\n", strerror(errno));
			return 2;
		}
		free(s);
		int r = receive(sv[0], &rd, id, 60);
		if (r < 0) {
			fprintf(stderr, "agent_client: no reply to request %ld\n", id);
			frame_reader_free(&rd);
			return 2;
		}
		failed |= r;
	}
	if (hold) {
		printf("HOLD\n");
		fflush(stdout);
		for (;;)
			receive(sv[0], &rd, 0, 3600);
	}
	close(sv[0]);
	int st;
	waitpid(pid, &st, 0);
	printf("agent exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	frame_reader_free(&rd);
	return failed;
}
