/* listen.c - lnst-agent as a network daemon (listen.h).
 *
 * The agent accepts TCP connections and serves one controller at a time.
 * An accepted connection is a visitor until it has authenticated (the TLS
 * handshake is the only thing read before that, and it must finish within
 * the timeout). The first authenticated visitor of an idle agent becomes the
 * controller: it is moved into the agent's connection and its requests go
 * to the method table. Any other authenticated visitor gets one answer to
 * each request, EBUSY "busy: controlled by X since T", and is closed; so an
 * unauthenticated peer can never make the agent busy. When the controller
 * says bye or goes away (EOF, error, TCP keepalive or user timeout), the
 * run is ended (jobs killed, undo log replayed) and the agent waits for the
 * next one.
 *
 * Logging goes to the configured file (with timestamps) or to stderr (with
 * sd-daemon priority prefixes when stderr is the journal), and to the
 * controller in charge as log events.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "tls.h"

struct visitor {
	struct conn conn;
	struct listener *l;
	char addr[128];
	int64_t timer;
	int busy;          /* refused: close once answered */
	struct msg *queue; /* requests that came before promotion */
	size_t nq;
	struct visitor *next;
};

struct listener {
	struct agent *a;
	int fd;
	char addr[128]; /* unix:PATH needs up to 113 */
	enum tls_mode mode;
	struct tls_ctx *tls;
	int timeout_s;
	char name[128];
	FILE *logf;
	int journal;
	int once;        /* stop when the first controller is gone */
	int active;      /* a controller is in charge (a->conn) */
	int end_session; /* it said bye */
	int lost;        /* its connection closed */
	char controller[256];
	char since[64];
	struct visitor *visitors;
};

static void usage_err(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "lnst-agent: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
}

/* unix:/PATH: a local socket (container hosts: a directory bind-mounted
 * from the controller's machine), protected by the file system. */
static int parse_unix(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
		      size_t errlen)
{
	struct sockaddr_un *su = (struct sockaddr_un *)ss;
	const char *path = spec + 5;
	if (path[0] != '/' || strlen(path) >= sizeof(su->sun_path)) {
		snprintf(err, errlen, "listen address '%s': unix:/PATH needs an absolute path of at most %zu bytes",
			 spec, sizeof(su->sun_path) - 1);
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	su->sun_family = AF_UNIX;
	memcpy(su->sun_path, path, strlen(path) + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	return 0;
}

/* ADDR, ADDR:PORT, [V6ADDR]:PORT or a bare IPv6 address; or unix:/PATH. */
static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
		      size_t errlen)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return parse_unix(spec, ss, len, err, errlen);
	char host[128];
	long port = LISTEN_PORT_DEFAULT;
	const char *portstr = NULL;
	if (spec[0] == '[') {
		const char *e = strchr(spec, ']');
		if (!e || (e[1] && e[1] != ':') || e - spec - 1 >= (long)sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(e - spec - 1), spec + 1);
		portstr = e[1] ? e + 2 : NULL;
	} else {
		const char *c = strchr(spec, ':');
		if (c && !strchr(c + 1, ':')) {
			snprintf(host, sizeof(host), "%.*s", (int)(c - spec), spec);
			portstr = c + 1;
		} else {
			snprintf(host, sizeof(host), "%s", spec);
		}
	}
	if (portstr) {
		char *end;
		port = strtol(portstr, &end, 10);
		if (!*portstr || *end || port < 1 || port > 65535)
			goto bad;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
	} else {
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "listen address '%s' must be a numeric ADDR[:PORT] ([ADDR]:PORT for IPv6), port 1-65535",
		 spec);
	return -EINVAL;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_UNIX)
		return 1;
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) ||
	       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_UNIX) {
		snprintf(out, n, "unix:%s", ((const struct sockaddr_un *)ss)->sun_path);
		return;
	}
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
		snprintf(out, n, "%s:%u", h, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
		snprintf(out, n, "[%s]:%u", h, ntohs(s->sin6_port));
	}
}

/* ---- logging --------------------------------------------------------------- */

static void on_log(enum log_level lvl, const char *text, void *ud)
{
	struct listener *l = ud;
	static const int prio[] = { 3, 4, 6, 7 };
	if (l->logf) {
		char ts[64];
		time_t now = time(NULL);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
		fprintf(l->logf, "%s lnst-agent[%d]: %s: %s\n", ts, getpid(), log_level_name(lvl), text);
		fflush(l->logf);
	} else if (l->journal) {
		fprintf(stderr, "<%d>%s: %s\n", prio[lvl], log_level_name(lvl), text);
	} else {
		fprintf(stderr, "lnst-agent: %s: %s\n", log_level_name(lvl), text);
	}
	if (l->active && l->a->connected && !l->a->conn.closed) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "level", log_level_name(lvl));
		cJSON_AddStringToObject(f, "message", text);
		agent_emit(l->a, "log", f);
	}
}

/* ---- configuration ---------------------------------------------------------------- */

static const char *cfg_str(const struct config *c, const char *sec, const char *name)
{
	const struct config_entry *e = config_find(c, sec, name);
	return e ? e->value : NULL;
}

static const char *cfg_path(const struct config *c, const char *sec, const char *name, char *buf,
			    size_t n)
{
	const char *v = cfg_str(c, sec, name);
	return v ? config_path(c, v, buf, n) : NULL;
}

int listen_open(struct listener **out, const struct listen_opts *o)
{
	struct config cfg = { .n = 0 };
	char err[1024], psk[4096], cert[4096], key[4096], trust[4096], logp[4096];
	int r = -EINVAL, on = 1;
	const char *cfgpath = o->config;
	if (!cfgpath && access(LISTEN_CONFIG_DEFAULT, F_OK) == 0)
		cfgpath = LISTEN_CONFIG_DEFAULT;
	if (cfgpath && config_load(&cfg, cfgpath, config_agent_keys, err, sizeof(err))) {
		fprintf(stderr, "lnst-agent: config %s\n", err);
		return -EINVAL;
	}
	struct listener *l = calloc(1, sizeof(*l));
	if (!l) {
		config_free(&cfg);
		return -ENOMEM;
	}
	l->fd = -1;
	l->timeout_s = 10;
	const char *v;
	if ((v = cfg_str(&cfg, "agent", "timeout")))
		l->timeout_s = atoi(v) > 0 ? atoi(v) : 10;
	if ((v = cfg_str(&cfg, "agent", "name")))
		snprintf(l->name, sizeof(l->name), "%s", v);
	int insecure = o->insecure;
	if ((v = cfg_str(&cfg, "agent", "insecure")) && !insecure)
		config_bool(v, &insecure);
	const char *spec = o->listen ? o->listen : cfg_str(&cfg, "agent", "listen");
	if (!spec) {
		usage_err("no address to listen on: give --listen ADDR[:PORT] or [agent] listen in %s",
			  cfgpath ? cfgpath : LISTEN_CONFIG_DEFAULT, "");
		goto out;
	}
	struct sockaddr_storage ss;
	socklen_t slen;
	if (parse_addr(spec, &ss, &slen, err, sizeof(err))) {
		usage_err("%s", err, "");
		goto out;
	}
	addr_str(&ss, l->addr, sizeof(l->addr));
	const char *mode = cfg_str(&cfg, "security", "mode");
	if (mode && tls_mode_parse(mode, &l->mode)) {
		const struct config_entry *e = config_find(&cfg, "security", "mode");
		fprintf(stderr, "lnst-agent: config %s:%d: unknown security mode '%s' (known: none, psk, cert)\n",
			cfg.path, e->line, mode);
		goto out;
	}
	if (l->mode == TLS_NONE && !is_loopback(&ss) && !insecure) {
		fprintf(stderr,
			"lnst-agent: refusing to listen on %s without authentication: anyone who can reach it could run\n"
			"commands as root. Set [security] mode = psk or cert in the agent config (keys come from\n"
			"`lnst-agent keygen`), or pass --insecure if this network is trusted.\n",
			l->addr);
		goto out;
	}
	if (l->mode != TLS_NONE) {
		struct tls_conf tc = {
			.mode = l->mode,
			.psk_file = cfg_path(&cfg, "security", "psk_file", psk, sizeof(psk)),
			.cert_file = cfg_path(&cfg, "security", "cert", cert, sizeof(cert)),
			.key_file = cfg_path(&cfg, "security", "key", key, sizeof(key)),
			.trust = cfg_path(&cfg, "security", "trust", trust, sizeof(trust)),
		};
		if (l->mode == TLS_CERT && !tc.trust) {
			fprintf(stderr, "lnst-agent: config %s: security cert needs [security] trust: the controllers' certificates or public keys\n",
				cfgpath ? cfgpath : "(none)");
			goto out;
		}
		if (tls_ctx_new(&l->tls, &tc, 1, err, sizeof(err))) {
			fprintf(stderr, "lnst-agent: %s\n", err);
			goto out;
		}
	}
	const char *lf = o->log_file ? o->log_file : cfg_path(&cfg, "agent", "log_file", logp, sizeof(logp));
	if (lf) {
		l->logf = fopen(lf, "ae");
		if (!l->logf) {
			fprintf(stderr, "lnst-agent: log file %s: %s\n", lf, strerror(errno));
			goto out;
		}
	}
	l->journal = getenv("JOURNAL_STREAM") != NULL;
	struct stat st;
	const char *upath = ss.ss_family == AF_UNIX ? ((struct sockaddr_un *)&ss)->sun_path : NULL;
	if (upath && lstat(upath, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(upath); /* a stale socket of an earlier agent */
	l->once = o->once;
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(l->fd, (struct sockaddr *)&ss, slen) < 0 || (upath && chmod(upath, 0600) < 0) ||
	    listen(l->fd, 16) < 0) {
		fprintf(stderr, "lnst-agent: cannot listen on %s: %s\n", l->addr, strerror(errno));
		goto out;
	}
	r = 0;
out:
	config_free(&cfg);
	if (r)
		listen_free(l);
	else
		*out = l;
	return r;
}

const char *listen_name(const struct listener *l)
{
	return l->name[0] ? l->name : NULL;
}

/* ---- visitors ------------------------------------------------------------------------ */

static void busy_reply(struct visitor *v, int64_t id)
{
	struct listener *l = v->l;
	conn_send(&v->conn, msg_error(id, "EBUSY", "busy: controlled by %s since %s", l->controller, l->since));
}

static void visitor_msg(struct conn *c, struct msg *m, void *ud)
{
	struct visitor *v = ud;
	if (m->kind != MSG_REQUEST) {
		conn_close(c, "protocol error: the controller may only send requests");
		return;
	}
	if (v->l->active || v->busy) {
		busy_reply(v, m->id);
		v->busy = 1;
		return;
	}
	struct msg *nq = realloc(v->queue, (v->nq + 1) * sizeof(*nq));
	if (!nq) {
		conn_close(c, "out of memory");
		return;
	}
	v->queue = nq;
	v->queue[v->nq++] = *m;
	m->root = NULL; /* the queue owns it now */
}

static void visitor_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	struct visitor *v = ud;
	if (!v->busy)
		log_info("connection from %s closed before it took charge: %s", v->addr, reason);
}

static void visitor_timeout(struct loop *lp, void *ud)
{
	(void)lp;
	struct visitor *v = ud;
	v->timer = 0;
	if (!v->conn.closed && v->conn.io && !v->conn.io_ready) {
		char why[128];
		snprintf(why, sizeof(why), "no TLS handshake within %d s", v->l->timeout_s);
		conn_close(&v->conn, why);
	}
}

static void visitor_free(struct visitor *v)
{
	if (v->timer)
		loop_timer_cancel(v->l->a->loop, v->timer);
	for (size_t i = 0; i < v->nq; i++)
		msg_free(&v->queue[i]);
	free(v->queue);
	conn_free(&v->conn);
	free(v);
}

static void on_accept(struct loop *lp, int fd, uint32_t events, void *ud)
{
	(void)events;
	(void)fd;
	struct listener *l = ud;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int cfd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept on %s: %s", l->addr, strerror(errno));
		return;
	}
	struct visitor *v = calloc(1, sizeof(*v));
	if (!v) {
		close(cfd);
		return;
	}
	v->l = l;
	if (ss.ss_family == AF_UNIX) { /* peers of a unix socket are unnamed */
		snprintf(v->addr, sizeof(v->addr), "%s", l->addr);
	} else {
		addr_str(&ss, v->addr, sizeof(v->addr));
		tls_tcp_keepalive(cfd, l->timeout_s);
	}
	if (conn_init(&v->conn, lp, cfd, 0, visitor_msg, visitor_close, v)) {
		close(cfd);
		free(v);
		return;
	}
	v->next = l->visitors;
	l->visitors = v;
	log_debug("connection from %s", v->addr);
	if (l->tls) {
		char peer[160];
		void *sess;
		snprintf(peer, sizeof(peer), "controller at %s", v->addr);
		if (tls_session_new(l->tls, cfd, 0, peer, &sess)) {
			conn_close(&v->conn, "out of memory for a TLS session");
			return;
		}
		v->timer = loop_timer_add(lp, (int64_t)l->timeout_s * 1000, visitor_timeout, v);
		conn_set_io(&v->conn, &tls_io, sess);
	}
}

/* ---- the controller in charge ------------------------------------------------------------- */

static void active_msg(struct conn *c, struct msg *m, void *ud)
{
	struct listener *l = ud;
	if (m->kind != MSG_REQUEST) {
		conn_close(c, "protocol error: the controller may only send requests");
		return;
	}
	dispatch_request(l->a, m);
	if (l->a->quit) { /* bye: signals never arrive inside a dispatch */
		l->a->quit = 0;
		l->end_session = 1;
	}
}

static void active_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	struct listener *l = ud;
	if (!l->end_session)
		log_warn("controller %s: connection closed: %s; cleaning up", l->controller, reason);
	l->a->connected = 0;
	agent_end_run(l->a);
	l->lost = 1;
}

static void take_charge(struct listener *l, struct visitor *v)
{
	struct agent *a = l->a;
	const char *who = v->conn.io ? tls_session_peer(v->conn.io_ctx) : "";
	snprintf(l->controller, sizeof(l->controller), "%s%s%s", who[0] ? "'" : "", who,
		 who[0] ? "' at " : "");
	snprintf(l->controller + strlen(l->controller), sizeof(l->controller) - strlen(l->controller),
		 "%s", v->addr);
	time_t now = time(NULL);
	strftime(l->since, sizeof(l->since), "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	conn_move(&a->conn, &v->conn);
	conn_set_coalesce(&a->conn, 1); /* one write per read of requests */
	a->conn.on_msg = active_msg;
	a->conn.on_close = active_close;
	a->conn.ud = l;
	a->connected = 1;
	l->active = 1;
	l->lost = 0;
	l->end_session = 0;
	log_info("controller %s took charge (security %s)", l->controller, tls_mode_name(l->mode));
	for (size_t i = 0; i < v->nq; i++) {
		if (!l->lost)
			active_msg(&a->conn, &v->queue[i], l);
	}
}

/* Between loop turns: frees closed visitors, hands an idle agent to the
 * first authenticated one, refuses the others, and ends a finished session. */
static void tend(struct listener *l)
{
	struct agent *a = l->a;
	if (l->active && l->end_session && !l->lost) {
		conn_flush(&a->conn, 2000);
		conn_close(&a->conn, "the controller said bye");
	}
	if (l->active && l->lost) {
		conn_free(&a->conn);
		l->active = 0;
		if (l->once) {
			log_info("controller %s is gone; stopping (--once)", l->controller);
			a->quit = 1;
		} else {
			log_info("controller %s is gone; waiting for the next one", l->controller);
		}
	}
	for (struct visitor **pp = &l->visitors; *pp;) {
		struct visitor *v = *pp;
		int authed = !v->conn.closed && (!v->conn.io || v->conn.io_ready);
		if (authed && v->timer) {
			loop_timer_cancel(a->loop, v->timer);
			v->timer = 0;
		}
		if (authed && !l->active && !v->busy) {
			*pp = v->next;
			take_charge(l, v);
			visitor_free(v);
			continue;
		}
		if (authed && v->nq) {
			for (size_t i = 0; i < v->nq; i++) {
				busy_reply(v, v->queue[i].id);
				msg_free(&v->queue[i]);
			}
			v->nq = 0;
			v->busy = 1;
		}
		if (v->busy && !v->conn.closed) {
			log_info("refused %s: busy with controller %s", v->addr, l->controller);
			conn_flush(&v->conn, 1000);
			conn_close(&v->conn, "busy");
		}
		if (v->conn.closed) {
			*pp = v->next;
			visitor_free(v);
			continue;
		}
		pp = &v->next;
	}
}

int listen_run(struct listener *l, struct agent *a)
{
	l->a = a;
	memset(&a->conn, 0, sizeof(a->conn));
	a->conn.fd = -1;
	a->conn.closed = 1;
	if (!a->name && l->name[0])
		a->name = l->name;
	log_set_sink(on_log, l);
	if (loop_add(a->loop, l->fd, EPOLLIN, on_accept, l)) {
		log_err("cannot watch the listening socket");
		return 1;
	}
	log_info("listening on %s (security %s, timeout %d s)", l->addr, tls_mode_name(l->mode), l->timeout_s);
	while (!a->quit) {
		int n = loop_run_once(a->loop, -1);
		if (n < 0 && n != -EINTR)
			break;
		tend(l);
	}
	loop_del(a->loop, l->fd);
	if (l->active) {
		conn_flush(&a->conn, 1000);
		l->end_session = 1;
		conn_close(&a->conn, "the agent is stopping");
		conn_free(&a->conn);
		l->active = 0;
	}
	while (l->visitors) {
		struct visitor *v = l->visitors;
		l->visitors = v->next;
		visitor_free(v);
	}
	log_info("stopped");
	log_set_sink(NULL, NULL);
	return a->exit_code;
}

void listen_free(struct listener *l)
{
	if (!l)
		return;
	if (l->fd >= 0) {
		close(l->fd);
		if (strncmp(l->addr, "unix:", 5) == 0)
			unlink(l->addr + 5);
	}
	tls_ctx_free(l->tls);
	if (l->logf)
		fclose(l->logf);
	free(l);
}
