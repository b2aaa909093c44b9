/* remote.h - the controller's connection to an agent over TCP.
 *
 * remote_open resolves the agent's address, starts a non-blocking connect
 * and, unless the security is none, a TLS 1.3 session on it (tls.h), and
 * returns at once: requests sent meanwhile are queued, so connecting to many
 * agents proceeds in parallel while the caller waits for their hello
 * replies. From then on the connection is an ordinary agentconn.
 *
 * Liveness, bounded by timeout_ms (default 10 s): connecting and the
 * handshake must finish within it; once connected, a keepalive ping goes out
 * every quarter of it and an agent that does not answer within it is
 * declared lost (the reason names the agent and the timeout), as is one the
 * kernel's TCP keepalive or user timeout gives up on. Time the controller
 * spends away from its event loop is not held against the agent. The
 * keepalive replies never reach the agentconn.
 */
#ifndef LNST_REMOTE_H
#define LNST_REMOTE_H

#include <stddef.h>

#include "agentconn.h"
#include "tls.h"

#define REMOTE_TIMEOUT_DEFAULT 10000

struct remote_opts {
	const char *name;     /* the connection's name (the recipe host) */
	const char *what;     /* the agent in messages ("agent m1"); NULL: name */
	const char *host;     /* host name or address */
	int port;
	enum tls_mode mode;
	const char *psk_file; /* psk */
	const char *cert;     /* cert: our certificate and key, the agent's pinned key */
	const char *key;
	const char *trust;
	int timeout_ms;       /* 0: REMOTE_TIMEOUT_DEFAULT */
};

struct remote;

/* 0, or -errno with err saying what is wrong (a key file, the address). A
 * failure to connect is reported later, as the connection's lost reason. */
int remote_open(struct remote **out, struct agentconn *ac, struct loop *loop,
		const struct remote_opts *o, agentconn_event_cb cb, void *ud, char *err, size_t errlen);
/* After agentconn_close. */
void remote_free(struct remote *r);
/* The authenticated identity of the agent (PSK identity or certificate
 * CN), "" before the handshake or without TLS. */
const char *remote_peer(const struct remote *r);

#endif
