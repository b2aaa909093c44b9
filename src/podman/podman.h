/* podman.h - a client of the Podman REST API (libpod, v4 and later) over
 * libcurl.
 *
 * The service is named by a URI: unix:///PATH (or unix:/PATH) for its Unix
 * socket, tcp://HOST:PORT for plain HTTP. Requests go to /v4.0.0/libpod/...
 * with JSON bodies (or a file, for image imports); replies are handed back
 * as text with their HTTP status; what they mean is the caller's business.
 *
 * Several requests can run at once (podman_batch): each on a connection of
 * its own, all driven by one curl multi handle, so the service works on the
 * containers of many hosts in parallel. Connections are kept and reused
 * between batches. Every request is bounded by a timeout, and a stop flag
 * (set by a signal handler) aborts a batch within 100 ms.
 *
 * This module knows nothing of Lua or of lnst's hosts: it only moves bytes.
 */
#ifndef LNST_PODMAN_H
#define LNST_PODMAN_H

#include <signal.h>
#include <stddef.h>

#define PODMAN_API_PREFIX "/v4.0.0/libpod"
#define PODMAN_URI_DEFAULT "unix:///run/podman/podman.sock"

struct podman;

struct podman_req {
	/* in */
	const char *method; /* GET, POST, DELETE */
	const char *path;   /* below the API prefix: "/containers/create" */
	const char *body;   /* JSON text, or NULL */
	const char *upload; /* a file sent as the body (application/x-tar), or NULL */
	int timeout_ms;     /* 0: the client's */
	/* out */
	long status;        /* HTTP status; 0 when no answer came */
	char *reply;        /* the answer's body, NUL-terminated (free()); NULL without one */
	size_t reply_len;
	char err[256];      /* why no answer came ("" when one did) */
	char version[32];   /* the Libpod-API-Version header of the answer, or "" */
};

/* Parses uri and prepares a client; no connection is made yet. 0, or
 * -EINVAL/-ENOMEM with err saying what is wrong with the URI. */
int podman_open(struct podman **out, const char *uri, int timeout_ms, char *err, size_t errlen);
/* Requests in progress give up (-EINTR) while *stop is non-zero. */
void podman_set_stop(struct podman *p, volatile sig_atomic_t *stop);
/* Runs n requests at once and fills in their answers. 0 when each got an
 * answer or a transport error in its err; -EINTR when stopped (answers
 * incomplete); -ENOMEM. */
int podman_batch(struct podman *p, struct podman_req *reqs, size_t n);
/* Frees the answers of n requests (reply), so they can be reused. */
void podman_req_clear(struct podman_req *reqs, size_t n);
/* The URI as given, and whether it is a Unix socket (the service runs on
 * this machine). */
const char *podman_uri(const struct podman *p);
int podman_is_unix(const struct podman *p);
/* The host part of a tcp:// URI ("" for Unix sockets). */
const char *podman_host(const struct podman *p);
void podman_close(struct podman *p);

/* A watch on the service: a streaming GET (path below the API prefix, such
 * as "/events?stream=true") on a connection of its own, whose answer the
 * service keeps writing while it lives. Its end tells that the service has
 * gone (killed, stopped, restarted), even while nothing else talks to it.
 * podman_watch_open connects, sends the request and waits (at most the
 * client's timeout) for the answer's headers: 0, or -errno with err saying
 * what failed (no connection, a status other than 200). The caller polls
 * podman_watch_fd for input and calls podman_watch_drain, which discards
 * what came: 0 while the answer goes on, 1 when it ended (why says how). */
struct podman_watch;
int podman_watch_open(struct podman *p, const char *path, struct podman_watch **out, char *err, size_t errlen);
int podman_watch_fd(const struct podman_watch *w);
int podman_watch_drain(struct podman_watch *w, char *why, size_t whylen);
void podman_watch_close(struct podman_watch *w);

#endif
