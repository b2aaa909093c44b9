/* conn.h - a framed JSON connection over a non-blocking stream socket.
 *
 * Reads frames as the loop reports input, validates each with msg_parse and
 * hands it to on_msg; writes are attempted at once and queued when the socket
 * is full. A protocol violation (bad frame, oversized frame, invalid message)
 * closes the connection and reports the reason through on_close; so do EOF
 * and I/O errors. After on_close the connection must only be freed.
 */
#ifndef LNST_CONN_H
#define LNST_CONN_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "frame.h"
#include "loop.h"
#include "msg.h"

struct conn;
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
};

/* Takes ownership of fd (made non-blocking) and watches it on loop. */
int conn_init(struct conn *c, struct loop *loop, int fd, uint32_t max_frame, conn_msg_cb on_msg,
	      conn_close_cb on_close, void *ud);
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
