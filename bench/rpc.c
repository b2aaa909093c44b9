/* rpc.c - benchmark: the round trip of a trivial RPC to lnst-agent against a
 * raw socketpair echo, and the agent's idle memory.
 *
 * usage: bench_rpc PATH/lnst-agent [CALLS]
 * Prints p50/p90/p99 of both in microseconds, their ratio, and the agent's
 * RSS (VmRSS) after hello and after the calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentconn.h"
#include "loop.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void pct(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-28s p50 %7.2f us  p90 %7.2f us  p99 %7.2f us\n", name, v[n / 2], v[n * 9 / 10],
	       v[n * 99 / 100]);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* The same request and reply sizes as the RPC, echoed by a child. */
static void raw_echo(double *t, int n, size_t req, size_t rep)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t pid = fork();
	char buf[4096];
	if (pid == 0) {
		close(sv[0]);
		for (;;) {
			size_t got = 0;
			while (got < req) {
				ssize_t r = read(sv[1], buf, req - got);
				if (r <= 0)
					_exit(0);
				got += (size_t)r;
			}
			if (write(sv[1], buf, rep) != (ssize_t)rep)
				_exit(1);
		}
	}
	close(sv[1]);
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		if (write(sv[0], buf, req) != (ssize_t)req)
			break;
		size_t got = 0;
		while (got < rep) {
			ssize_t r = read(sv[0], buf, rep - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		t[i] = now_us() - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_rpc PATH/lnst-agent [CALLS]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 10000;
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sv[1], 3);
		fcntl(3, F_SETFD, 0);
		execl(argv[1], "lnst-agent", "--fd=3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	struct loop *loop = loop_new();
	struct agentconn ac;
	agentconn_open(&ac, loop, sv[0], "bench", NULL, NULL);
	cJSON *reply;
	if (agentconn_wait(&ac, agentconn_send(&ac, "hello", NULL, NULL), 5000, &reply)) {
		fprintf(stderr, "no hello from the agent\n");
		return 1;
	}
	cJSON_Delete(reply);
	usleep(200000);
	long rss_idle = rss_kb(pid);

	double *t = calloc((size_t)n, sizeof(double));
	double *r = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < 1000; i++) { /* warm up */
		agentconn_wait(&ac, agentconn_send(&ac, "ping", NULL, NULL), 5000, &reply);
		cJSON_Delete(reply);
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		if (agentconn_wait(&ac, agentconn_send(&ac, "ping", NULL, NULL), 5000, &reply))
			return 1;
		t[i] = now_us() - t0;
		cJSON_Delete(reply);
	}
	long rss_after = rss_kb(pid);
	/* request {"id":N,"method":"ping"} ~ 4+30 bytes, reply {"id":N,"result":{}} ~ 4+28 */
	raw_echo(r, n, 34, 32);
	pct("lnst RPC (ping)", t, n);
	pct("raw socketpair echo", r, n);
	printf("ratio p50 RPC / raw echo: %.2f (target <= 2.0)\n", t[n / 2] / r[n / 2]);
	printf("agent RSS idle after hello: %ld kB; after %d calls: %ld kB (target <= 4096 kB)\n",
	       rss_idle, n, rss_after);
	agentconn_close(&ac);
	waitpid(pid, NULL, 0);
	return 0;
}
