/* tls.h - TLS 1.3 under agent connections (OpenSSL), as a conn transport.
 *
 * Two ways to authenticate, both mutual:
 *   psk   a pre-shared key: a file of `IDENTITY:HEXKEY` lines (the agent
 *         accepts any line, the controller uses the first). The handshake is
 *         PSK with (EC)DHE, so sessions still have forward secrecy.
 *   cert  each side has a key pair and a certificate and pins the other's
 *         public key: the peer is accepted when its certificate's key is one
 *         of the pinned keys (PEM certificates or public keys, in a file or a
 *         directory) and the certificate is within its validity dates.
 * There is no fallback between them and no unauthenticated mode here: a
 * plain TCP connection simply has no transport (see tls_connect_io for a
 * connection that only has to finish connecting).
 *
 * A tls_ctx holds the configuration and keys (one per agent or per pool
 * machine); a session (tls_session_new) is the transport of one conn and is
 * owned by it. Every failure is described in words (why the peer was
 * refused or refused us), not only in OpenSSL's terms. Key and PSK files
 * readable by group or others are refused.
 */
#ifndef LNST_TLS_H
#define LNST_TLS_H

#include <stddef.h>

#include "conn.h"

enum tls_mode { TLS_NONE = 0, TLS_PSK, TLS_CERT };

struct tls_conf {
	enum tls_mode mode;
	const char *psk_file;  /* psk */
	const char *cert_file; /* cert: our certificate (PEM) */
	const char *key_file;  /* cert: our private key (PEM) */
	const char *trust;     /* cert: pinned peer keys: a PEM file or a directory of them */
};

struct tls_ctx;

/* Parses "none", "psk", "cert"; -EINVAL for anything else. */
int tls_mode_parse(const char *s, enum tls_mode *out);
const char *tls_mode_name(enum tls_mode m);

/* Loads keys and builds the context; server is 1 on the agent. 0 or -errno
 * with err saying which file and what is wrong. */
int tls_ctx_new(struct tls_ctx **out, const struct tls_conf *conf, int server, char *err,
		size_t errlen);
void tls_ctx_free(struct tls_ctx *t);

/* A session on fd (not owned) for conn_set_io(c, &tls_io, session).
 * connecting: a client socket whose connect() is still in progress. peer:
 * how messages name the other side ("agent m1 at 198.51.100.2:9999"). */
int tls_session_new(struct tls_ctx *t, int fd, int connecting, const char *peer, void **out);
/* After the handshake: who the peer proved to be (PSK identity or the CN of
 * its certificate). */
const char *tls_session_peer(void *session);
/* An error that ended the session, or "". */
const char *tls_session_why(void *session);
void tls_session_free(void *session);

extern const struct conn_io tls_io;

/* A transport that only waits for a non-blocking connect() to finish (then
 * the connection is a plain socket). ctx from tls_connect_new. */
void *tls_connect_new(int fd, const char *peer);
extern const struct conn_io tls_connect_io;

/* TCP keepalive and TCP_USER_TIMEOUT on a socket so that a peer that
 * vanished (powered off, unplugged) is noticed within about timeout_s. */
int tls_tcp_keepalive(int fd, int timeout_s);

/* Key material. The files are created (never overwritten) with mode 0600. */
int tls_keygen_psk(const char *path, const char *identity, char *err, size_t errlen);
/* An Ed25519 key and a self-signed certificate with CN = cn, valid for
 * days days. */
int tls_keygen_cert(const char *key_path, const char *cert_path, const char *cn, int days,
		    char *err, size_t errlen);
/* "sha256:..." of the public key in a PEM certificate, public or private key
 * file (what pinning compares). */
int tls_key_fingerprint(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
