/* fuzz_dispatch.c - fuzz target: the agent's request dispatch
 * (src/agent/dispatch.c) and the parameter validation of every handler.
 *
 * The whole agent except main.c is linked in. On the first input the
 * process moves itself into a fresh network and mount namespace
 * (unshare(CLONE_NEWNET | CLONE_NEWNS), as root), mounts a private /sys
 * there, and sets the agent up as main.c does, serving a socketpair whose
 * other end the target reads. Everything a request can change is then in
 * that namespace: devices, addresses, routes, neighbours, rules, bridge
 * and ethtool settings. After each input the run is ended (agent_end_run:
 * the undo log), as when a controller goes away.
 *
 * The input is a list of requests separated by NUL bytes, each
 * "METHOD PARAMS" with PARAMS a JSON object (or nothing). Each is checked
 * by msg_parse like a frame off the wire, then dispatched; every request
 * must get exactly one answer, a reply or an error, with its id.
 *
 * Refused by the target, never dispatched (docs/fuzzing.md says why):
 * - job.start: it starts processes (argv, shell, or a module job in a
 *   forked Lua state), which would run arbitrary programs on the machine;
 * - netns.add: it forks and execs /proc/self/exe as a namespace worker,
 *   which here is the fuzzer;
 * - link.create of kind team: it starts teamd;
 * - sysctl.set of a key outside net.ipv4.conf, net.ipv6.conf, net.ipv4.neigh
 *   and net.ipv6.neigh: other keys, net.core.* included, are (partly)
 *   global to the machine, not to the namespace;
 * - any request with a "netns" field: such requests go to workers, which
 *   netns.add would have started.
 * Built as a libFuzzer target (scripts/fuzz.sh dispatch) and as a replay
 * binary for ctest.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ethtool.h"
#include "frame.h"
#include "link.h"
#include "log.h"
#include "msg.h"
#include "netns.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agent agent;
static int peer = -1;
static struct frame_reader rd;
static int64_t next_id = 1;

static void on_dev_event(const char *name, cJSON *ev, void *ud)
{
	netns_fix_event(ud, name, ev);
	agent_emit(ud, name, ev);
}

static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	(void)c;
	(void)m;
	(void)ud;
	abort(); /* the peer never writes */
}

static void on_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	(void)ud;
	fprintf(stderr, "fuzz_dispatch: the agent's connection closed: %s\n", reason);
	abort();
}

static void die(const char *what, int err)
{
	fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static void setup(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		die("unshare(CLONE_NEWNET | CLONE_NEWNS) (run as root)", errno);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("making / private", errno);
	umount2("/sys", MNT_DETACH);
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("mounting /sys for the new namespace", errno);
	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz_dispatch", LOG_ERR);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		die("socketpair", errno);
	peer = sp[1];
	fcntl(peer, F_SETFL, O_NONBLOCK);
	frame_reader_init(&rd, FRAME_MAX_DEFAULT);
	struct agent *a = &agent;
	a->name = "fuzz";
	a->loop = loop_new();
	if (!a->loop)
		die("loop_new", ENOMEM);
	int err = links_open(&a->links, a);
	if (err)
		die("links_open", err);
	if (jobs_new(&a->jobs, a->loop, on_dev_event, a) || modules_new(&a->modules))
		die("jobs/modules", ENOMEM);
	err = devdb_open(&a->db, a->loop, on_dev_event, a);
	if (err)
		die("devdb_open", err);
	devdb_set_undo(a->db, &a->undo);
	if (conn_init(&a->conn, a->loop, sp[0], FRAME_MAX_DEFAULT, on_msg, on_close, a))
		die("conn_init", EINVAL);
	a->connected = 1;
}

/* Turns the loop and reads what the agent sent: returns how many replies
 * (to ids first..last) arrived; a reply to any other id aborts. */
static int collect(int64_t first, int64_t last)
{
	int got = 0;
	for (int round = 0; round < 4; round++) {
		loop_run_once(agent.loop, 0);
		char buf[65536];
		ssize_t n;
		while ((n = read(peer, buf, sizeof(buf))) > 0) {
			if (frame_reader_feed(&rd, buf, (size_t)n))
				abort();
			const char *p;
			uint32_t len;
			int r;
			while ((r = frame_reader_next(&rd, &p, &len)) == 1) {
				struct msg m;
				const char *why;
				if (msg_parse(p, len, &m, &why)) {
					fprintf(stderr, "fuzz_dispatch: the agent sent an invalid message: %s\n", why);
					abort();
				}
				if (m.kind == MSG_REPLY) {
					if (m.id < first || m.id > last)
						abort(); /* an answer to no request, or twice */
					got++;
				}
				msg_free(&m);
			}
			if (r < 0)
				abort();
		}
	}
	return got;
}

static int sysctl_allowed(const char *key)
{
	static const char *const ok[] = { "net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.",
					  "net.ipv6.neigh.", "net/ipv4/conf/", "net/ipv6/conf/",
					  "net/ipv4/neigh/", "net/ipv6/neigh/", NULL };
	for (const char *const *p = ok; *p; p++)
		if (!strncmp(key, *p, strlen(*p)))
			return 1;
	return 0;
}

/* 1 when the request may run here (see the header comment). */
static int allowed(const struct msg *m)
{
	if (m->netns || !strcmp(m->method, "job.start") || !strcmp(m->method, "netns.add"))
		return 0;
	const cJSON *p = m->params;
	if (!strcmp(m->method, "link.create")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "kind");
		return !(cJSON_IsString(k) && !strcmp(k->valuestring, "team"));
	}
	if (!strcmp(m->method, "sysctl.set")) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "key");
		return !cJSON_IsString(k) || sysctl_allowed(k->valuestring);
	}
	return 1;
}

static void one(const char *text, size_t len)
{
	const char *sp = memchr(text, ' ', len);
	size_t mlen = sp ? (size_t)(sp - text) : len;
	cJSON *params = NULL;
	if (sp && sp + 1 < text + len) {
		params = cJSON_ParseWithLength(sp + 1, (size_t)(text + len - sp - 1));
		if (!params)
			return;
	}
	char *method = strndup(text, mlen);
	if (!method) {
		cJSON_Delete(params);
		return;
	}
	/* As the controller would send it, and as the agent would read it. */
	cJSON *req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", (double)next_id);
	cJSON_AddStringToObject(req, "method", method);
	if (params)
		cJSON_AddItemToObject(req, "params", params);
	free(method);
	char *wire = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	struct msg m;
	const char *why;
	if (!wire || msg_parse(wire, (uint32_t)strlen(wire), &m, &why)) {
		cJSON_free(wire);
		return;
	}
	cJSON_free(wire);
	if (allowed(&m)) {
		int64_t id = next_id++;
		dispatch_request(&agent, &m);
		links_flush(agent.links); /* a batched link.del answers now */
		if (collect(id, id) != 1) {
			fprintf(stderr, "fuzz_dispatch: request %lld (%s) got no answer\n", (long long)id, m.method);
			abort();
		}
	}
	msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (peer < 0)
		setup();
	const char *p = (const char *)data, *end = p + size;
	for (int n = 0; p < end && n < 32; n++) {
		const char *nul = memchr(p, 0, (size_t)(end - p));
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
		one(p, len);
		p += len + 1;
	}
	agent.quit = 0;
	agent_end_run(&agent);
	collect(0, 0); /* events only */
	return 0;
}
