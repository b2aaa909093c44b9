/* vmmux.c - the channel multiplexer of a VM (vmmux.h). */
#include "vmmux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MUX_HIGH (4u << 20)     /* a queue this long stops reading its source */
#define MUX_PENDING (16u << 20) /* data kept for a channel without a socket */
#define MUX_CHUNK 65536         /* largest chunk read from a local socket */

struct buf {
	char *data;
	size_t off, len, cap;
};

struct chan {
	uint32_t id;
	int fd;          /* -1: no socket yet, or closed (dead) */
	int dead;        /* its socket is gone: data for it is dropped */
	int eof_remote;  /* the other side's socket reached EOF */
	uint32_t events; /* watched on fd */
	struct buf out;  /* towards fd */
	struct vmmux *m;
	struct chan *next;
};

struct vmmux {
	struct loop *loop;
	int fd;
	uint32_t events;
	struct buf out; /* towards the stream */
	unsigned char hdr[8];
	size_t hdr_have;
	uint32_t rd_ch, rd_left; /* the chunk being read */
	struct chan *chans;
	vmmux_close_cb on_close;
	void *ud;
	int ended;
	char reason[256];
	int64_t last_rx;
};

static size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		if (b->off) { /* compact first */
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + n)
			cap *= 2;
		if (cap != b->cap) {
			char *nd = realloc(b->data, cap);
			if (!nd)
				return -ENOMEM;
			b->data = nd;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Writes what it can; 0, or -errno on a write error (EAGAIN is not one). */
static int buf_write(struct buf *b, int fd)
{
	while (buf_pending(b)) {
		ssize_t n = write(fd, b->data + b->off, buf_pending(b));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 0;
}

static void chan_event(struct loop *l, int fd, uint32_t events, void *ud);
static void stream_event(struct loop *l, int fd, uint32_t events, void *ud);

static struct chan *chan_find(struct vmmux *m, uint32_t id)
{
	for (struct chan *c = m->chans; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static struct chan *chan_get(struct vmmux *m, uint32_t id)
{
	struct chan *c = chan_find(m, id);
	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->fd = -1;
	c->m = m;
	c->next = m->chans;
	m->chans = c;
	return c;
}

static void chan_close_fd(struct chan *c)
{
	if (c->fd >= 0) {
		loop_del(c->m->loop, c->fd);
		close(c->fd);
	}
	c->fd = -1;
	c->dead = 1;
	c->events = 0;
	buf_free(&c->out);
}

/* Queues a chunk for the stream. */
static int send_chunk(struct vmmux *m, uint32_t ch, const void *data, uint32_t n)
{
	unsigned char h[8] = { ch >> 24, ch >> 16, ch >> 8, ch, n >> 24, n >> 16, n >> 8, n };
	if (buf_put(&m->out, h, sizeof(h)) || (n && buf_put(&m->out, data, n)))
		return -ENOMEM;
	return 0;
}

static void end(struct vmmux *m, const char *reason, int notify)
{
	if (m->ended)
		return;
	m->ended = 1;
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
	for (struct chan *c = m->chans; c; c = c->next)
		chan_close_fd(c);
	if (m->fd >= 0) {
		loop_del(m->loop, m->fd);
		close(m->fd);
		m->fd = -1;
	}
	buf_free(&m->out);
	if (notify && m->on_close)
		m->on_close(m, m->reason, m->ud);
}

/* Recomputes what every fd is watched for (flow control). */
static void rewatch(struct vmmux *m)
{
	if (m->ended)
		return;
	int stream_full = buf_pending(&m->out) >= MUX_HIGH;
	int local_full = 0;
	for (struct chan *c = m->chans; c; c = c->next) {
		if (c->fd < 0)
			continue;
		if (buf_pending(&c->out) >= MUX_HIGH)
			local_full = 1;
		uint32_t ev = (stream_full ? 0 : EPOLLIN) | (buf_pending(&c->out) ? EPOLLOUT : 0);
		if (ev != c->events) {
			loop_mod(m->loop, c->fd, ev);
			c->events = ev;
		}
	}
	uint32_t ev = (local_full ? 0 : EPOLLIN) | (buf_pending(&m->out) ? EPOLLOUT : 0);
	if (ev != m->events) {
		loop_mod(m->loop, m->fd, ev);
		m->events = ev;
	}
}

static void flush_stream(struct vmmux *m)
{
	if (m->ended)
		return;
	int e = buf_write(&m->out, m->fd);
	if (e) {
		char why[128];
		snprintf(why, sizeof(why), "write to the VM channel failed: %s", strerror(-e));
		end(m, why, 1);
	}
}

/* Writes a channel's queue; closes the socket once the other side's EOF
 * has been passed on. */
static void flush_chan(struct chan *c)
{
	if (c->fd < 0)
		return;
	if (buf_write(&c->out, c->fd)) {
		/* its user went away: tell the other side */
		chan_close_fd(c);
		send_chunk(c->m, c->id, NULL, 0);
		return;
	}
	if (c->eof_remote && !buf_pending(&c->out))
		chan_close_fd(c);
}

static void deliver(struct vmmux *m, uint32_t ch, const char *data, size_t n)
{
	struct chan *c = chan_get(m, ch);
	if (!c || c->dead)
		return;
	if (c->fd < 0 && buf_pending(&c->out) + n > MUX_PENDING)
		return; /* nobody will ever read this much before attaching */
	if (buf_put(&c->out, data, n) == 0 && c->fd >= 0 && !(c->events & EPOLLOUT))
		flush_chan(c);
}

static void deliver_eof(struct vmmux *m, uint32_t ch)
{
	struct chan *c = chan_get(m, ch);
	if (!c || c->dead)
		return;
	c->eof_remote = 1;
	flush_chan(c);
}

/* Parses stream bytes into chunks. */
static void parse(struct vmmux *m, const char *p, size_t n)
{
	while (n && !m->ended) {
		if (m->rd_left) {
			size_t take = n < m->rd_left ? n : m->rd_left;
			deliver(m, m->rd_ch, p, take);
			p += take;
			n -= take;
			m->rd_left -= (uint32_t)take;
			continue;
		}
		size_t take = sizeof(m->hdr) - m->hdr_have;
		if (take > n)
			take = n;
		memcpy(m->hdr + m->hdr_have, p, take);
		m->hdr_have += take;
		p += take;
		n -= take;
		if (m->hdr_have < sizeof(m->hdr))
			break;
		m->hdr_have = 0;
		const unsigned char *h = m->hdr;
		m->rd_ch = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
		m->rd_left = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
		if (!m->rd_left)
			deliver_eof(m, m->rd_ch);
	}
}

static void stream_event(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	struct vmmux *m = ud;
	if (events & EPOLLOUT)
		flush_stream(m);
	if (!m->ended && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		char b[MUX_CHUNK];
		ssize_t n = read(m->fd, b, sizeof(b));
		if (n > 0) {
			m->last_rx = loop_now_ms();
			parse(m, b, (size_t)n);
		} else if (n == 0) {
			end(m, "the VM channel reached EOF", 1);
		} else if (errno != EAGAIN && errno != EINTR) {
			char why[128];
			snprintf(why, sizeof(why), "read from the VM channel failed: %s", strerror(errno));
			end(m, why, 1);
		}
	}
	flush_stream(m);
	rewatch(m);
}

static void chan_event(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	struct chan *c = ud;
	struct vmmux *m = c->m;
	if (events & EPOLLOUT)
		flush_chan(c);
	if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		char b[MUX_CHUNK];
		ssize_t n = read(c->fd, b, sizeof(b));
		if (n > 0) {
			send_chunk(m, c->id, b, (uint32_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			chan_close_fd(c);
			send_chunk(m, c->id, NULL, 0);
		}
	}
	flush_stream(m);
	rewatch(m);
}

int vmmux_new(struct vmmux **out, struct loop *loop, int fd, vmmux_close_cb on_close, void *ud)
{
	struct vmmux *m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	m->loop = loop;
	m->fd = fd;
	m->on_close = on_close;
	m->ud = ud;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = -errno;
		close(fd);
		free(m);
		return e;
	}
	m->events = EPOLLIN;
	int e = loop_add(loop, fd, m->events, stream_event, m);
	if (e) {
		close(fd);
		free(m);
		return e;
	}
	*out = m;
	return 0;
}

int vmmux_attach(struct vmmux *m, uint32_t ch, int fd)
{
	if (m->ended) {
		close(fd);
		return -EPIPE;
	}
	struct chan *c = chan_get(m, ch);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	if (c->fd >= 0 || c->dead) {
		close(fd);
		return -EEXIST;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	c->events = EPOLLIN;
	int e = loop_add(m->loop, fd, c->events, chan_event, c);
	if (e) {
		close(fd);
		return e;
	}
	c->fd = fd;
	flush_chan(c); /* what arrived before the socket did */
	rewatch(m);
	return 0;
}

int vmmux_open(struct vmmux *m, uint32_t ch, int *user)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	int e = vmmux_attach(m, ch, sv[0]);
	if (e) {
		close(sv[1]);
		return e;
	}
	*user = sv[1];
	return 0;
}

const char *vmmux_ended(const struct vmmux *m)
{
	return m->ended ? m->reason : NULL;
}

int64_t vmmux_last_rx(const struct vmmux *m)
{
	return m->last_rx;
}

void vmmux_shutdown(struct vmmux *m, const char *reason)
{
	end(m, reason, 0);
}

int vmmux_flush(struct vmmux *m, int timeout_ms)
{
	int64_t deadline = loop_now_ms() + timeout_ms;
	while (!m->ended && buf_pending(&m->out)) {
		int left = (int)(deadline - loop_now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = m->fd, .events = POLLOUT };
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
		flush_stream(m);
	}
	return m->ended ? -EPIPE : 0;
}

void vmmux_free(struct vmmux *m)
{
	if (!m)
		return;
	end(m, "closed", 0);
	while (m->chans) {
		struct chan *c = m->chans;
		m->chans = c->next;
		buf_free(&c->out);
		free(c);
	}
	free(m);
}
