/* tls_record.h - TLS 1.3 record protection (RFC 8446 §5) for a connection
 * whose handshake OpenSSL completed. Part of the OpenSSL half of the TLS
 * transport (lnst-tls.so); tls_openssl.c hands a session over to it.
 *
 * Why: OpenSSL 3.0 spends about 0.9 us per record on top of the AEAD itself
 * (provider dispatch, parameter lookups, BIO layers), more than the rest of
 * an RPC round trip's user-space work. This layer seals and opens records
 * with OpenSSL's AEAD ciphers directly. The wire format is unchanged TLS
 * 1.3: a peer using OpenSSL's own record layer talks to it (tests/unit/
 * test_tls.c checks both directions, KeyUpdate, tampering and replay).
 *
 * It covers application data, alerts (close_notify ends the stream, any
 * other alert is an error naming it) and KeyUpdate (answered when the peer
 * asks; sent by us every TLS_RECORD_REKEY records). Any other record, a
 * record that fails authentication, or one out of sequence ends the
 * session: nothing that did not authenticate is ever returned.
 */
#ifndef LNST_TLS_RECORD_H
#define LNST_TLS_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Records sealed under one key before we send a KeyUpdate (RFC 8446 §5.5
 * allows about 2^24.5 full records for AES-GCM). tests/unit/test_tls_rekey.c
 * builds the layer with a small value. */
#ifndef TLS_RECORD_REKEY
#define TLS_RECORD_REKEY (1ULL << 23)
#endif

struct tls_record;

/* 1 when suite (the two-byte TLS 1.3 cipher suite id) is one this layer
 * implements: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256. */
int tls_record_supported(uint16_t suite);

/* A record layer on fd (not owned) with our application traffic secret
 * (wsecret) and the peer's (rsecret), hashlen bytes each, at sequence 0.
 * 0, -EOPNOTSUPP for another suite, -ENOMEM or -EIO (OpenSSL failed). */
int tls_record_new(struct tls_record **out, int fd, uint16_t suite, const unsigned char *wsecret,
		   const unsigned char *rsecret, size_t hashlen);

/* Like conn_io read: bytes of application data, 0 at the end of the stream
 * (close_notify or EOF), -EAGAIN with *want = EPOLLIN, -errno when the
 * socket failed, -EPROTO when the session failed (tls_record_why says
 * why). */
ssize_t tls_record_read(struct tls_record *r, void *buf, size_t n, uint32_t *want);

/* Like conn_io write: bytes taken, -EAGAIN with *want = EPOLLOUT (call
 * again with the same bytes, as with SSL_write), -errno, -EPROTO. */
ssize_t tls_record_write(struct tls_record *r, const void *buf, size_t n, uint32_t *want);

/* 1 when application data or a whole record is buffered (read without
 * waiting for the socket). */
int tls_record_pending(const struct tls_record *r);

/* Why the session failed ("" if it did not), e.g. "the peer sent the alert
 * bad_certificate (42)" or "a record failed authentication (bad_record_mac)". */
const char *tls_record_why(const struct tls_record *r);

/* The description of the alert the peer sent, or -1. */
int tls_record_alert(const struct tls_record *r);

/* Sends close_notify if the socket takes it now (nothing is waiting). */
void tls_record_close(struct tls_record *r);

/* Frees r, wiping keys and buffers. */
void tls_record_free(struct tls_record *r);

#endif
