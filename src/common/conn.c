/* conn.c - framed JSON connection (conn.h). */
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

static void conn_io(struct loop *l, int fd, uint32_t events, void *ud);

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
	return loop_add(loop, fd, EPOLLIN | EPOLLRDHUP, conn_io, c);
}

static void finish_close(struct conn *c)
{
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
		ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
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

int conn_send_raw(struct conn *c, const char *payload, size_t len)
{
	if (c->closed)
		return -ENOTCONN;
	if (len > c->rd.max)
		return -EMSGSIZE;
	uint8_t hdr[FRAME_HDR_LEN];
	frame_header_put(hdr, (uint32_t)len);
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
	char *s = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (!s)
		return -ENOMEM;
	int err = conn_send_raw(c, s, strlen(s));
	cJSON_free(s);
	return err;
}

int conn_flush(struct conn *c, int timeout_ms)
{
	int64_t end = loop_now_ms() + timeout_ms;
	while (!c->closed && c->woff < c->wlen) {
		int err = write_pending(c);
		if (err)
			return err;
		if (c->woff >= c->wlen)
			break;
		int left = (int)(end - loop_now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		poll(&p, 1, left);
	}
	return c->closed ? -ENOTCONN : 0;
}

static void conn_io(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	struct conn *c = ud;
	char why[256];
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
	const char *payload;
	uint32_t len;
	int r = 0;
	c->in_dispatch = 1;
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
	c->in_dispatch = 0;
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
