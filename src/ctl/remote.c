/* remote.c - TCP (+TLS) connections to agents, with keepalive (remote.h). */
#include "remote.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct remote {
	struct agentconn *ac;
	struct loop *loop;
	struct tls_ctx *tls;
	int64_t timer;
	int timeout_ms, tick_ms;
	int64_t deadline;  /* connect + handshake */
	int64_t last_tick;
	int64_t ping_id, ping_sent;
	conn_msg_cb msg;   /* agentconn's own callbacks, wrapped */
	conn_close_cb close;
	char what[256];    /* "agent NAME at HOST:PORT" */
};

/* Keepalive replies stop here; everything else goes to the agentconn. */
static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	struct remote *r = ud;
	if (m->kind == MSG_REPLY && r->ping_id && m->id == r->ping_id) {
		r->ping_id = 0;
		return;
	}
	r->msg(c, m, r->ac);
}

static void on_close(struct conn *c, const char *reason, void *ud)
{
	struct remote *r = ud;
	r->close(c, reason, r->ac);
}

static int connected(const struct remote *r)
{
	const struct conn *c = &r->ac->conn;
	return !c->io || c->io_ready;
}

static void tick(struct loop *l, void *ud)
{
	struct remote *r = ud;
	char why[512];
	int64_t now = loop_now_ms();
	r->timer = 0;
	if (r->ac->lost)
		return;
	/* Time away from the loop (a busy recipe, a REPL line being typed
	 * without the loop) is the controller's, not the agent's. */
	int away = now - r->last_tick > 2 * r->tick_ms;
	r->last_tick = now;
	if (!connected(r)) {
		if (now >= r->deadline) {
			snprintf(why, sizeof(why), "cannot reach %s: no %s within %d s", r->what,
				 r->tls ? "TCP connection and TLS handshake" : "TCP connection",
				 r->timeout_ms / 1000);
			conn_close(&r->ac->conn, why);
			return;
		}
	} else if (r->ping_id) {
		if (away) {
			r->ping_sent = now;
		} else if (now - r->ping_sent >= r->timeout_ms) {
			snprintf(why, sizeof(why),
				 "no answer from %s for %d s (keepalive): the agent hung or the network is down",
				 r->what, r->timeout_ms / 1000);
			conn_close(&r->ac->conn, why);
			return;
		}
	}
	if (connected(r) && !r->ping_id) {
		int64_t id = agentconn_send(r->ac, "ping", NULL, NULL);
		if (id > 0) {
			r->ping_id = id;
			r->ping_sent = now;
		}
	}
	if (!r->ac->lost)
		r->timer = loop_timer_add(l, r->tick_ms, tick, r);
}

int remote_open(struct remote **out, struct agentconn *ac, struct loop *loop,
		const struct remote_opts *o, agentconn_event_cb cb, void *ud, char *err, size_t errlen)
{
	char port[16];
	int fd = -1, r;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct remote *rm = calloc(1, sizeof(*rm));
	if (!rm)
		return -ENOMEM;
	rm->ac = ac;
	rm->loop = loop;
	rm->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : REMOTE_TIMEOUT_DEFAULT;
	rm->tick_ms = rm->timeout_ms / 4 > 0 ? rm->timeout_ms / 4 : 1;
	snprintf(rm->what, sizeof(rm->what), "%s at %s:%d", o->what ? o->what : o->name, o->host, o->port);
	if (o->mode != TLS_NONE) {
		struct tls_conf tc = { .mode = o->mode, .psk_file = o->psk_file, .cert_file = o->cert,
				       .key_file = o->key, .trust = o->trust };
		char e[768];
		if ((r = tls_ctx_new(&rm->tls, &tc, 0, e, sizeof(e)))) {
			snprintf(err, errlen, "%s: %s", rm->what, e);
			goto fail;
		}
	}
	snprintf(port, sizeof(port), "%d", o->port);
	r = getaddrinfo(o->host, port, &hints, &ai);
	if (r) {
		snprintf(err, errlen, "%s: cannot resolve '%s': %s", rm->what, o->host, gai_strerror(r));
		r = -EHOSTUNREACH;
		goto fail;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (tls_tcp_keepalive(fd, (rm->timeout_ms + 999) / 1000) < 0) ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		r = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", rm->what, strerror(errno));
		goto fail;
	}
	freeaddrinfo(ai);
	ai = NULL;
	if ((r = agentconn_open(ac, loop, fd, o->name, cb, ud))) {
		snprintf(err, errlen, "%s: cannot watch the connection: %s", rm->what, strerror(-r));
		goto fail;
	}
	fd = -1; /* the connection owns it */
	rm->msg = ac->conn.on_msg;
	rm->close = ac->conn.on_close;
	ac->conn.on_msg = on_msg;
	ac->conn.on_close = on_close;
	ac->conn.ud = rm;
	void *io_ctx = NULL;
	if (rm->tls)
		r = tls_session_new(rm->tls, ac->conn.fd, 1, rm->what, &io_ctx);
	else
		r = (io_ctx = tls_connect_new(ac->conn.fd, rm->what)) ? 0 : -ENOMEM;
	if (r) {
		snprintf(err, errlen, "%s: out of memory", rm->what);
		agentconn_close(ac);
		goto fail;
	}
	/* A failure here closes the connection: it shows as the lost reason. */
	conn_set_io(&ac->conn, rm->tls ? &tls_io : &tls_connect_io, io_ctx);
	rm->deadline = loop_now_ms() + rm->timeout_ms;
	rm->last_tick = loop_now_ms();
	rm->timer = loop_timer_add(loop, rm->tick_ms, tick, rm);
	*out = rm;
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	tls_ctx_free(rm->tls);
	free(rm);
	return r ? r : -EINVAL;
}

void remote_free(struct remote *r)
{
	if (!r)
		return;
	if (r->timer)
		loop_timer_cancel(r->loop, r->timer);
	tls_ctx_free(r->tls);
	free(r);
}

const char *remote_peer(const struct remote *r)
{
	const struct conn *c = &r->ac->conn;
	if (!r->ac->lost && c->io == &tls_io && c->io_ready)
		return tls_session_peer(c->io_ctx);
	return "";
}
