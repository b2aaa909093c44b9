/* remote.c - benchmark: remote agents over TCP, plain against TLS.
 *
 * usage: bench_remote PATH/lnst-agent [CALLS]   (run in a private network
 * namespace: bench/remote.sh does that; it listens on 127.0.0.1 only)
 *
 *  (a) RPC round trip (ping) p50/p90/p99 to one agent over plain TCP and
 *      over TCP+TLS 1.3 with a pre-shared key, in the same run; the ratio
 *      of the p50s (target: TLS adds <= 20 %).
 *  (b) the time to connect, authenticate and get hello from 20 agents at
 *      once, plain, psk and cert, with the ratio to plain.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "agentconn.h"
#include "loop.h"
#include "remote.h"

#define NAGENTS 20
#define PORT0 19500

static char dir[64];
static pid_t pids[NAGENTS + 2];
static int npids;

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

static double pct(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-30s p50 %7.2f us  p90 %7.2f us  p99 %7.2f us\n", name, v[n / 2], v[n * 9 / 10],
	       v[n * 99 / 100]);
	return v[n / 2];
}

static void write_conf(const char *path, const char *mode, int port)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "[agent]\nlisten = 127.0.0.1:%d\n[security]\nmode = %s\n", port, mode);
	if (!strcmp(mode, "psk"))
		fprintf(f, "psk_file = %s/k.psk\n", dir);
	if (!strcmp(mode, "cert"))
		fprintf(f, "cert = %s/agent.crt\nkey = %s/agent.key\ntrust = %s/ctl.crt\n", dir, dir, dir);
	fclose(f);
}

static void wait_listening(int port)
{
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return;
		usleep(20000);
	}
	fprintf(stderr, "agent on port %d does not listen\n", port);
	exit(1);
}

/* Starts an agent in mode on port; returns after it listens. */
static void start_agent(const char *agent, const char *mode, int port)
{
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/%s-%d.conf", dir, mode, port);
	write_conf(conf, mode, port);
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		execl(agent, "lnst-agent", "--config", conf, (char *)NULL);
		_exit(127);
	}
	pids[npids++] = pid;
	wait_listening(port);
}

static void stop_agents(void)
{
	for (int i = 0; i < npids; i++) {
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
	}
	npids = 0;
}

static void opts_for(struct remote_opts *o, const char *mode, int port)
{
	static char psk[128], cert[128], key[128], trust[128];
	snprintf(psk, sizeof(psk), "%s/k.psk", dir);
	snprintf(cert, sizeof(cert), "%s/ctl.crt", dir);
	snprintf(key, sizeof(key), "%s/ctl.key", dir);
	snprintf(trust, sizeof(trust), "%s/agent.crt", dir);
	memset(o, 0, sizeof(*o));
	o->name = "bench";
	o->host = "127.0.0.1";
	o->port = port;
	tls_mode_parse(mode, &o->mode);
	o->psk_file = psk;
	o->cert = cert;
	o->key = key;
	o->trust = trust;
}

static int open_conn(struct loop *loop, struct agentconn *ac, struct remote **r, const char *mode, int port)
{
	struct remote_opts o;
	char err[512];
	opts_for(&o, mode, port);
	if (remote_open(r, ac, loop, &o, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static void conn_up(struct loop *loop, struct agentconn *ac, struct remote **r, const char *mode, int port)
{
	cJSON *reply;
	if (open_conn(loop, ac, r, mode, port) ||
	    agentconn_wait(ac, agentconn_send(ac, "hello", NULL, NULL), 5000, &reply)) {
		fprintf(stderr, "no hello over %s: %s\n", mode, ac->lost_reason);
		exit(1);
	}
	cJSON_Delete(reply);
}

static void pings(struct agentconn *ac, double *t, int n)
{
	cJSON *reply;
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		if (agentconn_wait(ac, agentconn_send(ac, "ping", NULL, NULL), 5000, &reply)) {
			fprintf(stderr, "ping failed: %s\n", ac->lost_reason);
			exit(1);
		}
		if (t)
			t[i] = now_us() - t0;
		cJSON_Delete(reply);
	}
}

static void conn_down(struct agentconn *ac, struct remote *r)
{
	cJSON *reply;
	agentconn_wait(ac, agentconn_send(ac, "bye", NULL, NULL), 5000, &reply);
	cJSON_Delete(reply);
	agentconn_close(ac);
	remote_free(r);
}

/* Pings to a plain and a TLS agent, in alternating batches of 500 so that
 * both see the same machine load; returns TLS p50 / plain p50. */
static double rtt(struct loop *loop, int n)
{
	struct agentconn a, b;
	struct remote *ra, *rb;
	conn_up(loop, &a, &ra, "none", PORT0 - 2);
	conn_up(loop, &b, &rb, "psk", PORT0 - 1);
	pings(&a, NULL, 1000);
	pings(&b, NULL, 1000);
	double *ta = calloc((size_t)n, sizeof(double)), *tb = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i += 500) {
		int k = n - i < 500 ? n - i : 500;
		pings(&a, ta + i, k);
		pings(&b, tb + i, k);
	}
	double plain = pct("(a) plain TCP RPC (ping)", ta, n);
	double tls = pct("(a) TCP+TLS 1.3 psk RPC (ping)", tb, n);
	free(ta);
	free(tb);
	conn_down(&a, ra);
	conn_down(&b, rb);
	return tls / plain;
}

/* Milliseconds to connect to NAGENTS agents at once and have every hello. */
static double fan_out(struct loop *loop, const char *mode)
{
	struct agentconn ac[NAGENTS];
	struct remote *r[NAGENTS];
	int64_t id[NAGENTS];
	double t0 = now_us();
	for (int i = 0; i < NAGENTS; i++) {
		if (open_conn(loop, &ac[i], &r[i], mode, PORT0 + i))
			exit(1);
		id[i] = agentconn_send(&ac[i], "hello", NULL, NULL);
	}
	for (int i = 0; i < NAGENTS; i++) {
		cJSON *reply;
		if (agentconn_wait(&ac[i], id[i], 10000, &reply)) {
			fprintf(stderr, "agent %d over %s: %s\n", i, mode, ac[i].lost_reason);
			exit(1);
		}
		cJSON_Delete(reply);
	}
	double ms = (now_us() - t0) / 1000;
	for (int i = 0; i < NAGENTS; i++) {
		agentconn_close(&ac[i]);
		remote_free(r[i]);
	}
	return ms;
}

static double median5(struct loop *loop, const char *mode)
{
	double v[5];
	for (int i = 0; i < 5; i++) {
		v[i] = fan_out(loop, mode);
		usleep(100000); /* the agents notice the close and are free again */
	}
	qsort(v, 5, sizeof(double), cmp);
	return v[2];
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_remote PATH/lnst-agent [CALLS]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 10000;
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/lnst-bench-remote.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	char p1[128], p2[128], err[512];
	snprintf(p1, sizeof(p1), "%s/k.psk", dir);
	if (tls_keygen_psk(p1, "bench", err, sizeof(err)))
		return fprintf(stderr, "%s\n", err), 1;
	const char *names[] = { "ctl", "agent" };
	for (int i = 0; i < 2; i++) {
		snprintf(p1, sizeof(p1), "%s/%s.key", dir, names[i]);
		snprintf(p2, sizeof(p2), "%s/%s.crt", dir, names[i]);
		if (tls_keygen_cert(p1, p2, names[i], 1, err, sizeof(err)))
			return fprintf(stderr, "%s\n", err), 1;
	}
	struct loop *loop = loop_new();

	start_agent(argv[1], "none", PORT0 - 2);
	start_agent(argv[1], "psk", PORT0 - 1);
	printf("(a) ratio p50 TLS / plain: %.2f (target <= 1.20)\n", rtt(loop, n));
	stop_agents();

	const char *modes[] = { "none", "psk", "cert" };
	double ms[3];
	for (int m = 0; m < 3; m++) {
		for (int i = 0; i < NAGENTS; i++)
			start_agent(argv[1], modes[m], PORT0 + i);
		ms[m] = median5(loop, modes[m]);
		stop_agents();
	}
	printf("(b) connect + authenticate + hello, %d agents at once, median of 5:\n", NAGENTS);
	printf("(b)   plain TCP %.1f ms, psk %.1f ms (%.2fx plain), cert %.1f ms (%.2fx plain)\n", ms[0], ms[1],
	       ms[1] / ms[0], ms[2], ms[2] / ms[0]);
	loop_free(loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
