/* conn.c - framed JSON connection (conn.h). Plain sockets take the direct
 * read/writev path; a transport (conn_io) gets its own event path below. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "jsonw.h"

static void conn_event(struct loop *l, int fd, uint32_t events, void *ud);

int conn_init(struct conn *c, struct loop *loop, int fd, uint32_t max_frame, conn_msg_cb on_msg,
	      conn_close_cb on_close, void *ud)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->loop = loop;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->ud = ud;
	frame_reader_init(&c->rd, max_frame);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return loop_add(loop, fd, EPOLLIN | EPOLLRDHUP, conn_event, c);
}

static void io_drop(struct conn *c)
{
	if (c->io) {
		c->io->free(c->io_ctx);
		c->io = NULL;
		c->io_ctx = NULL;
	}
}

static int write_pending(struct conn *c);

static void finish_close(struct conn *c)
{
	if (c->coalesce && !c->io && c->fd >= 0)
		write_pending(c); /* what a coalesced read answered, as far as it goes */
	io_drop(c);
	if (c->fd >= 0) {
		loop_del(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->on_close)
		c->on_close(c, c->reason, c->ud);
}

void conn_close(struct conn *c, const char *reason)
{
	if (c->closed)
		return;
	c->closed = 1;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "closed");
	if (!c->in_dispatch)
		finish_close(c);
}

void conn_free(struct conn *c)
{
	io_drop(c);
	if (c->fd >= 0) {
		loop_del(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	frame_reader_free(&c->rd);
	free(c->wbuf);
	c->wbuf = NULL;
}

static int write_pending(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n;
		if (c->io) {
			if (!c->io_ready)
				return 0;
			n = c->io->write(c->io_ctx, c->wbuf + c->woff, c->wlen - c->woff, &c->io_want);
			if (n == -EAGAIN)
				return 0;
			if (n < 0)
				return (int)n;
			c->io_want = 0;
			c->woff += (size_t)n;
			continue;
		}
		n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	return 0;
}

static int queue(struct conn *c, const void *data, size_t n)
{
	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap < c->wlen + n)
			cap *= 2;
		char *nb = realloc(c->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, data, n);
	c->wlen += n;
	return 0;
}

/* The transport's events: input always, output while it or the queue needs it. */
static void io_update_events(struct conn *c)
{
	uint32_t ev = EPOLLIN | EPOLLRDHUP;
	if (c->io_want == EPOLLOUT || (c->io_ready && c->io_want != EPOLLIN && c->woff < c->wlen))
		ev |= EPOLLOUT;
	if (ev != c->events) {
		c->events = ev;
		loop_mod(c->loop, c->fd, ev);
	}
}

static void io_fail(struct conn *c, const char *what, int err)
{
	char why[256];
	snprintf(why, sizeof(why), "%s", c->io && err != -ENOMEM ? c->io->why(c->io_ctx) : "");
	if (!why[0])
		snprintf(why, sizeof(why), "%s failed: %s", what, strerror(-err));
	conn_close(c, why);
}

/* Runs one handshake step; 1 when data may flow, 0 while waiting, -1 when
 * the handshake failed (the connection is then closed). A transport with no
 * read function only had to establish the socket: it is dropped and the
 * connection continues as a plain one. */
static int io_handshake(struct conn *c)
{
	int r = c->io->handshake(c->io_ctx, &c->io_want);
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		io_fail(c, "handshake", r);
		return -1;
	}
	c->io_ready = 1;
	c->io_want = 0;
	if (!c->io->read) {
		io_drop(c);
		c->events = 0;
		loop_mod(c->loop, c->fd, EPOLLIN | EPOLLRDHUP | (c->woff < c->wlen ? EPOLLOUT : 0));
	}
	return 1;
}

int conn_set_io(struct conn *c, const struct conn_io *io, void *ctx)
{
	c->io = io;
	c->io_ctx = ctx;
	c->io_ready = 0;
	c->io_want = 0;
	c->events = EPOLLIN | EPOLLRDHUP;
	if (io_handshake(c) < 0)
		return -ECONNABORTED;
	if (c->io)
		io_update_events(c);
	return 0;
}

int conn_move(struct conn *dst, struct conn *src)
{
	*dst = *src;
	if (src->fd >= 0)
		loop_del(src->loop, src->fd);
	memset(src, 0, sizeof(*src));
	src->fd = -1;
	src->closed = 1;
	if (dst->fd < 0)
		return 0;
	uint32_t ev = dst->io ? dst->events
			      : EPOLLIN | EPOLLRDHUP | (dst->woff < dst->wlen ? EPOLLOUT : 0);
	return loop_add(dst->loop, dst->fd, ev, conn_event, dst);
}

void conn_set_coalesce(struct conn *c, int on)
{
	c->coalesce = on;
}

/* Writes what is queued; what the socket does not take waits for EPOLLOUT.
 * 0, or -ENOTCONN when the write failed (the connection is then closed). */
static int flush_queued(struct conn *c)
{
	int err = write_pending(c);
	if (err) {
		char why[128];
		snprintf(why, sizeof(why), "write failed: %s", strerror(-err));
		conn_close(c, why);
		return -ENOTCONN;
	}
	if (c->woff < c->wlen)
		return loop_mod(c->loop, c->fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	return 0;
}

int conn_send_raw(struct conn *c, const char *payload, size_t len)
{
	if (c->closed)
		return -ENOTCONN;
	if (len > c->rd.max)
		return -EMSGSIZE;
	uint8_t hdr[FRAME_HDR_LEN];
	frame_header_put(hdr, (uint32_t)len);
	if (c->coalesce && c->in_dispatch && !c->io) {
		if (queue(c, hdr, sizeof(hdr)) || queue(c, payload, len))
			return -ENOMEM;
		return c->wlen - c->woff >= CONN_COALESCE_MAX ? flush_queued(c) : 0;
	}
	if (c->io) {
		/* One write per frame keeps a frame in one TLS record. */
		if (queue(c, hdr, sizeof(hdr)) || queue(c, payload, len))
			return -ENOMEM;
		int err = write_pending(c);
		if (err) {
			io_fail(c, "write", err);
			return -ENOTCONN;
		}
		io_update_events(c);
		return 0;
	}
	if (c->wlen == c->woff) {
		/* Fast path: nothing queued, try to write it all now. */
		struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, len } };
		size_t total = sizeof(hdr) + len, done = 0;
		ssize_t n;
		do
			n = writev(c->fd, iov, 2);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN) {
			char why[128];
			snprintf(why, sizeof(why), "write failed: %s", strerror(errno));
			conn_close(c, why);
			return -ENOTCONN;
		}
		done = n > 0 ? (size_t)n : 0;
		if (done == total)
			return 0;
		if (done < sizeof(hdr)) {
			if (queue(c, hdr + done, sizeof(hdr) - done) || queue(c, payload, len))
				return -ENOMEM;
		} else if (queue(c, payload + (done - sizeof(hdr)), total - done)) {
			return -ENOMEM;
		}
	} else if (queue(c, hdr, sizeof(hdr)) || queue(c, payload, len)) {
		return -ENOMEM;
	}
	return loop_mod(c->loop, c->fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
}

int conn_send(struct conn *c, cJSON *msg)
{
	size_t len;
	char *s = jsonw_print(msg, &len);
	cJSON_Delete(msg);
	if (!s)
		return -ENOMEM;
	int err = conn_send_raw(c, s, len);
	free(s);
	return err;
}

int conn_flush(struct conn *c, int timeout_ms)
{
	int64_t end = loop_now_ms() + timeout_ms;
	while (!c->closed && c->woff < c->wlen) {
		if (c->io && !c->io_ready && io_handshake(c) < 0)
			break;
		int err = write_pending(c);
		if (err)
			return err;
		if (c->woff >= c->wlen)
			break;
		int left = (int)(end - loop_now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = c->fd, .events = c->io && c->io_want == EPOLLIN ? POLLIN : POLLOUT };
		poll(&p, 1, left);
	}
	return c->closed ? -ENOTCONN : 0;
}

/* Hands every complete frame to on_msg; returns frame_reader_next's last
 * answer (0, or -EMSGSIZE). Runs with in_dispatch set. */
static int dispatch_frames(struct conn *c)
{
	const char *payload;
	uint32_t len;
	int r = 0;
	char why[256];
	while (!c->closed && (r = frame_reader_next(&c->rd, &payload, &len)) == 1) {
		struct msg m;
		const char *reason;
		if (msg_parse(payload, len, &m, &reason)) {
			snprintf(why, sizeof(why), "protocol error: %s", reason);
			conn_close(c, why);
			break;
		}
		c->on_msg(c, &m, c->ud);
		msg_free(&m);
	}
	return r;
}

/* After a read of n bytes (0: EOF) whose frames gave r: closes on an
 * oversized frame or EOF, with the reason. */
static void after_read(struct conn *c, ssize_t n, int r)
{
	char why[256];
	if (!c->closed && r == -EMSGSIZE) {
		snprintf(why, sizeof(why), "protocol error: frame larger than the limit of %u bytes",
			 c->rd.max);
		conn_close(c, why);
	}
	if (!c->closed && n == 0) {
		size_t left = c->rd.len - c->rd.off;
		if (left)
			snprintf(why, sizeof(why), "protocol error: connection closed inside a frame (%zu bytes pending)", left);
		else
			snprintf(why, sizeof(why), "peer closed the connection");
		conn_close(c, why);
	}
	if (c->closed && c->fd >= 0)
		finish_close(c);
}

/* Events of a connection with a transport: handshake, queued output, then
 * input until the transport holds no more. */
static void io_event(struct conn *c)
{
	if (!c->io_ready) {
		int h = io_handshake(c);
		if (h <= 0) {
			if (h == 0)
				io_update_events(c);
			return;
		}
		if (!c->io) /* plain from now on */
			return;
	}
	int err = write_pending(c);
	if (err) {
		io_fail(c, "write", err);
		return;
	}
	char buf[16384];
	ssize_t n;
	int r = 0;
	c->in_dispatch = 1;
	do {
		n = c->io->read(c->io_ctx, buf, sizeof(buf), &c->io_want);
		if (n <= 0)
			break;
		c->io_want = 0;
		if (frame_reader_feed(&c->rd, buf, (size_t)n)) {
			conn_close(c, "out of memory for an incoming frame");
			break;
		}
		r = dispatch_frames(c);
	} while (!c->closed && r == 0 && c->io->pending(c->io_ctx) > 0);
	c->in_dispatch = 0;
	if (n < 0 && n != -EAGAIN && !c->closed)
		io_fail(c, "read", (int)n);
	if (!c->closed)
		io_update_events(c);
	after_read(c, n < 0 ? 1 : n, r);
}

static void conn_event(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	struct conn *c = ud;
	char why[256];
	if (c->io) {
		io_event(c);
		return;
	}
	if (events & EPOLLOUT) {
		int err = write_pending(c);
		if (err) {
			snprintf(why, sizeof(why), "write failed: %s", strerror(-err));
			conn_close(c, why);
			return;
		}
		if (c->woff == c->wlen)
			loop_mod(c->loop, c->fd, EPOLLIN | EPOLLRDHUP);
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
		return;
	ssize_t n = frame_reader_fill(&c->rd, c->fd);
	if (n == -EAGAIN)
		return;
	if (n < 0) {
		snprintf(why, sizeof(why), "read failed: %s", strerror((int)-n));
		conn_close(c, why);
		return;
	}
	c->in_dispatch = 1;
	int r = dispatch_frames(c);
	c->in_dispatch = 0;
	if (c->coalesce && !c->closed && c->woff < c->wlen)
		flush_queued(c);
	after_read(c, n, r);
}
