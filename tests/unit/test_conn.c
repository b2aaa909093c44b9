/* test_conn.c - conn's write coalescing (conn_set_coalesce): what a read's
 * requests answer goes out in one write, in order, early once
 * CONN_COALESCE_MAX bytes wait, and still when the handler closes.
 *
 * The peer is the other end of a SOCK_SEQPACKET socketpair: each write of
 * the connection is one record there, so a recv shows exactly what one
 * write carried. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conn.h"
#include "frame.h"
#include "loop.h"
#include "msg.h"

struct fixture {
	struct loop *loop;
	struct conn c;
	int peer;
	int replies;      /* replies each request gets */
	size_t pad;       /* bytes of padding in each reply */
	int close_after;  /* close the connection after answering this request id */
	int closed;
};

static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	struct fixture *f = ud;
	for (int i = 0; i < f->replies; i++) {
		cJSON *res = cJSON_CreateObject();
		cJSON_AddNumberToObject(res, "n", i);
		if (f->pad) {
			char *pad = malloc(f->pad + 1);
			assert_non_null(pad);
			memset(pad, 'x', f->pad);
			pad[f->pad] = 0;
			cJSON_AddStringToObject(res, "pad", pad);
			free(pad);
		}
		assert_int_equal(conn_send(c, msg_reply(m->id, res)), 0);
	}
	if (f->close_after && m->id == f->close_after)
		conn_close(c, "done");
}

static void on_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	(void)reason;
	((struct fixture *)ud)->closed = 1;
}

static void setup_pair(struct fixture *f, int coalesce)
{
	memset(f, 0, sizeof(*f));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->loop = loop_new();
	assert_non_null(f->loop);
	assert_int_equal(conn_init(&f->c, f->loop, sv[0], 0, on_msg, on_close, f), 0);
	conn_set_coalesce(&f->c, coalesce);
	f->peer = sv[1];
	f->replies = 2;
}

static void teardown_pair(struct fixture *f)
{
	conn_free(&f->c);
	close(f->peer);
	loop_free(f->loop);
}

/* Sends n requests (ids 1..n) in one write. */
static void send_requests(struct fixture *f, int n)
{
	char buf[4096];
	size_t o = 0;
	for (int i = 1; i <= n; i++) {
		cJSON *req = msg_request(i, "t.echo", NULL, NULL);
		char *s = cJSON_PrintUnformatted(req);
		cJSON_Delete(req);
		size_t len = strlen(s);
		frame_header_put((uint8_t *)buf + o, (uint32_t)len);
		memcpy(buf + o + FRAME_HDR_LEN, s, len);
		o += FRAME_HDR_LEN + len;
		cJSON_free(s);
	}
	assert_int_equal(write(f->peer, buf, o), (ssize_t)o);
}

/* One write's frames: their reply ids and "n" in order, into ids[]/ns[];
 * returns how many. */
static int read_write(struct fixture *f, int *ids, int *ns, int max)
{
	static char buf[1 << 20];
	ssize_t n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	int k = 0;
	for (size_t o = 0; o + FRAME_HDR_LEN <= (size_t)n && k < max;) {
		uint32_t len = frame_header_get((const uint8_t *)buf + o);
		assert_true(o + FRAME_HDR_LEN + len <= (size_t)n); /* frames are never split across writes here */
		struct msg m;
		const char *why;
		assert_int_equal(msg_parse(buf + o + FRAME_HDR_LEN, len, &m, &why), 0);
		ids[k] = (int)m.id;
		ns[k] = (int)cJSON_GetObjectItem(m.result, "n")->valuedouble;
		k++;
		msg_free(&m);
		o += FRAME_HDR_LEN + len;
	}
	return k;
}

static void test_one_write_per_read(void **state)
{
	(void)state;
	struct fixture f;
	setup_pair(&f, 1);
	send_requests(&f, 3);
	assert_true(loop_run_once(f.loop, 1000) >= 0);
	int ids[16], ns[16];
	assert_int_equal(read_write(&f, ids, ns, 16), 6); /* all six replies, one write */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ids[i], 1 + i / 2);
		assert_int_equal(ns[i], i % 2);
	}
	assert_int_equal(read_write(&f, ids, ns, 16), 0);
	teardown_pair(&f);
}

static void test_without_coalescing(void **state)
{
	(void)state;
	struct fixture f;
	setup_pair(&f, 0);
	send_requests(&f, 3);
	assert_true(loop_run_once(f.loop, 1000) >= 0);
	int ids[16], ns[16];
	for (int i = 0; i < 6; i++) {
		assert_int_equal(read_write(&f, ids, ns, 16), 1); /* a write per frame */
		assert_int_equal(ids[0], 1 + i / 2);
	}
	teardown_pair(&f);
}

static void test_flush_at_limit(void **state)
{
	(void)state;
	struct fixture f;
	setup_pair(&f, 1);
	f.replies = 1;
	f.pad = CONN_COALESCE_MAX / 3; /* the third reply reaches the limit */
	send_requests(&f, 5);
	assert_true(loop_run_once(f.loop, 1000) >= 0);
	int ids[16], ns[16], seen = 0, writes = 0, k;
	while ((k = read_write(&f, ids, ns, 16)) > 0) {
		assert_true(k <= 3);
		for (int i = 0; i < k; i++)
			assert_int_equal(ids[i], ++seen);
		writes++;
	}
	assert_int_equal(seen, 5);
	assert_int_equal(writes, 2); /* 3 at the limit, then the 2 left at the end */
	teardown_pair(&f);
}

static void test_close_in_handler_delivers(void **state)
{
	(void)state;
	struct fixture f;
	setup_pair(&f, 1);
	f.close_after = 2;
	send_requests(&f, 2);
	assert_true(loop_run_once(f.loop, 1000) >= 0);
	assert_true(f.closed);
	int ids[16], ns[16];
	assert_int_equal(read_write(&f, ids, ns, 16), 4);
	assert_int_equal(ids[3], 2);
	teardown_pair(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_write_per_read),
		cmocka_unit_test(test_without_coalescing),
		cmocka_unit_test(test_flush_at_limit),
		cmocka_unit_test(test_close_in_handler_delivers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
