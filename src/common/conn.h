/* conn.h - a framed JSON connection over a non-blocking stream socket.
 *
 * Reads frames as the loop reports input, validates each with msg_parse and
 * hands it to on_msg; writes are attempted at once and queued when the socket
 * is full. A protocol violation (bad frame, oversized frame, invalid message)
 * closes the connection and reports the reason through on_close; so do EOF
 * and I/O errors. After on_close the connection must only be freed.
 *
 * A transport (struct conn_io, e.g. TLS from tls.c) can sit between the
 * frames and the socket: conn_set_io puts it there right after conn_init;
 * its handshake runs from the loop and frames sent meanwhile are queued.
 * Plain sockets have no transport and take the direct read/writev path.
 */
#ifndef LNST_CONN_H
#define LNST_CONN_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "loop.h"
#include "msg.h"

struct conn;

/* A transport under the frames. read and write return a byte count, 0 for
 * EOF (read), or -errno; -EAGAIN means "wait for the socket" and *want says
 * for what (EPOLLIN or EPOLLOUT). handshake returns 0 once data may flow.
 * After another error, why() says what went wrong. free() releases ctx (it
 * may send a goodbye, never blocks) and does not close the fd. */
struct conn_io {
	int (*handshake)(void *ctx, uint32_t *want);
	ssize_t (*read)(void *ctx, void *buf, size_t n, uint32_t *want);
	ssize_t (*write)(void *ctx, const void *buf, size_t n, uint32_t *want);
	int (*pending)(void *ctx); /* bytes readable without touching the socket */
	const char *(*why)(void *ctx);
	void (*free)(void *ctx);
};

typedef void (*conn_msg_cb)(struct conn *c, struct msg *m, void *ud);
typedef void (*conn_close_cb)(struct conn *c, const char *reason, void *ud);

struct conn {
	int fd;
	int closed;
	int in_dispatch; /* set while on_msg runs; closing then defers the fd close */
	struct loop *loop;
	struct frame_reader rd;
	char *wbuf;
	size_t wlen, woff, wcap;
	conn_msg_cb on_msg;
	conn_close_cb on_close;
	void *ud;
	char reason[256];
	const struct conn_io *io; /* NULL: plain socket */
	void *io_ctx;
	int io_ready;             /* handshake done */
	uint32_t io_want;         /* what the transport waits for (EPOLLIN/EPOLLOUT/0) */
	uint32_t events;          /* events watched on fd (transport connections) */
	int coalesce;             /* conn_set_coalesce */
};

/* Takes ownership of fd (made non-blocking) and watches it on loop. */
int conn_init(struct conn *c, struct loop *loop, int fd, uint32_t max_frame, conn_msg_cb on_msg,
	      conn_close_cb on_close, void *ud);
/* Puts a transport under c (ownership of ctx passes to c) and starts its
 * handshake. Call before anything is sent. 0 or -errno. */
int conn_set_io(struct conn *c, const struct conn_io *io, void *ctx);
/* Moves an open connection into dst (its loop watch follows; on_msg,
 * on_close and ud are kept, the caller may change them). src is left
 * closed. Never from inside src's own callbacks. 0 or -errno. */
int conn_move(struct conn *dst, struct conn *src);
/* With on = 1, frames sent while the frames of one read are handed to
 * on_msg (replies and the events they cause) are queued and written
 * together when the read's frames are done, or whenever CONN_COALESCE_MAX
 * bytes are queued: one write and one wakeup of the peer instead of one
 * per frame. Plain sockets only (a transport writes per frame). */
#define CONN_COALESCE_MAX 16384
void conn_set_coalesce(struct conn *c, int on);
/* Sends a message and frees it (also on error). 0 or -errno. */
int conn_send(struct conn *c, cJSON *msg);
/* Sends an already serialized payload. */
int conn_send_raw(struct conn *c, const char *payload, size_t len);
/* Blocks until the write queue is empty or timeout_ms passes. */
int conn_flush(struct conn *c, int timeout_ms);
/* Closes with a reason (logged by the owner via on_close). Idempotent. */
void conn_close(struct conn *c, const char *reason);
void conn_free(struct conn *c);

#endif
