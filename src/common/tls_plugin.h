/* tls_plugin.h - the interface between tls.c and the OpenSSL half it
 * loads (lnst-tls.so, tls_openssl.c). Internal to the TLS transport. */
#ifndef LNST_TLS_PLUGIN_H
#define LNST_TLS_PLUGIN_H

#include "tls.h"

struct tls_plugin {
	int (*ctx_new)(struct tls_ctx **out, const struct tls_conf *conf, int server, char *err,
		       size_t errlen);
	void (*ctx_free)(struct tls_ctx *t);
	int (*session_new)(struct tls_ctx *t, int fd, int connecting, const char *peer, void **out);
	const char *(*session_peer)(void *session);
	const char *(*session_why)(void *session);
	void (*session_free)(void *session);
	const struct conn_io *io;
	int (*keygen_psk)(const char *path, const char *identity, char *err, size_t errlen);
	int (*keygen_cert)(const char *key_path, const char *cert_path, const char *cn, int days,
			   char *err, size_t errlen);
	int (*key_fingerprint)(const char *path, char *out, size_t outlen, char *err, size_t errlen);
};

/* Finishes a non-blocking connect(): 0 connected, -EAGAIN not yet, else
 * -errno with why saying what failed (shared by both halves). */
int tls_connect_done(int fd, const char *peer, char *why, size_t n);

#endif
