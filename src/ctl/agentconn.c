/* agentconn.c - controller side of an agent connection (agentconn.h). */
#include "agentconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t ctl_interrupted;

static char abort_reason[768];

const char *agentconn_abort_reason(void)
{
	return abort_reason[0] ? abort_reason : NULL;
}

void agentconn_abort_clear(void)
{
	abort_reason[0] = 0;
}

void agentconn_set_critical(struct agentconn *ac, int on)
{
	ac->critical = on;
}

void agentconn_abort(const char *reason)
{
	if (abort_reason[0])
		return;
	snprintf(abort_reason, sizeof(abort_reason), "%s", reason);
	ctl_interrupted = -1;
}

static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	(void)c;
	struct agentconn *ac = ud;
	if (m->kind == MSG_REPLY) {
		struct reply_slot *s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->id = m->id;
		s->msg = m->root;
		m->root = NULL; /* keep it past msg_free */
		struct reply_slot **end = ac->replies ? ac->replies_end : &ac->replies;
		*end = s;
		ac->replies_end = &s->next;
	} else if (m->kind == MSG_EVENT) {
		if (ac->on_event)
			ac->on_event(ac, m->root, ac->ud);
	} else {
		conn_close(&ac->conn, "protocol error: an agent may not send requests");
	}
}

static void on_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	struct agentconn *ac = ud;
	ac->lost = 1;
	snprintf(ac->lost_reason, sizeof(ac->lost_reason), "%s", reason);
	if (ac->critical) {
		char why[sizeof(abort_reason)];
		snprintf(why, sizeof(why), "host %s: agent connection lost (%s)", ac->name, reason);
		agentconn_abort(why);
	}
}

int agentconn_open(struct agentconn *ac, struct loop *loop, int fd, const char *name,
		   agentconn_event_cb cb, void *ud)
{
	memset(ac, 0, sizeof(*ac));
	snprintf(ac->name, sizeof(ac->name), "%s", name);
	ac->on_event = cb;
	ac->ud = ud;
	return conn_init(&ac->conn, loop, fd, 0, on_msg, on_close, ac);
}

int64_t agentconn_send(struct agentconn *ac, const char *method, const char *netns, cJSON *params)
{
	if (ac->lost) {
		cJSON_Delete(params);
		return -ENOTCONN;
	}
	int64_t id = ++ac->next_id;
	int err = conn_send(&ac->conn, msg_request(id, method, netns, params));
	return err ? err : id;
}

static cJSON *take(struct agentconn *ac, int64_t id)
{
	for (struct reply_slot **pp = &ac->replies; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct reply_slot *s = *pp;
			cJSON *m = s->msg;
			*pp = s->next;
			if (!*pp)
				ac->replies_end = pp;
			free(s);
			return m;
		}
	}
	return NULL;
}

int agentconn_wait(struct agentconn *ac, int64_t id, int timeout_ms, cJSON **reply)
{
	int64_t end = timeout_ms < 0 ? -1 : loop_now_ms() + timeout_ms;
	for (;;) {
		*reply = take(ac, id);
		if (*reply)
			return 0;
		if (ac->lost)
			return -ENOTCONN;
		if (ctl_interrupted)
			return -EINTR;
		int left = -1;
		if (end >= 0) {
			left = (int)(end - loop_now_ms());
			if (left <= 0)
				return -ETIMEDOUT;
		}
		int n = loop_run_once(ac->conn.loop, left);
		if (n < 0 && n != -EINTR)
			return n;
	}
}

void agentconn_close(struct agentconn *ac)
{
	while (ac->replies) {
		struct reply_slot *s = ac->replies;
		ac->replies = s->next;
		cJSON_Delete(s->msg);
		free(s);
	}
	ac->replies_end = NULL;
	if (!ac->conn.closed)
		conn_close(&ac->conn, "closed by the controller");
	conn_free(&ac->conn);
}
