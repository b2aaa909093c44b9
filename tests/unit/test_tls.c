/* test_tls.c - the TLS transport's own record layer (src/common/tls_record.c,
 * reached through lnst-tls.so as a conn transport) against OpenSSL's record
 * layer on the other end of a socketpair: data both ways in every suite it
 * takes over, KeyUpdate, close_notify, and that a tampered or replayed
 * record is refused. The OpenSSL end runs on a BIO pair pumped by hand, so
 * the test sees (and can alter) every byte on the wire.
 *
 * Needs LNST_TLS_PLUGIN (set by CMake) to find lnst-tls.so.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

static char dir[64];
static unsigned char psk[64];
static size_t psk_len;
static char psk_id[64];

/* One end run by plain OpenSSL. */
struct ossl_end {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *net; /* our side of the BIO pair: what it sends, what it receives */
	int fd;
};

struct pair {
	struct tls_ctx *t;
	void *sess; /* the lnst end, on fd */
	int fd;
	struct ossl_end o;
};

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int setup_keys(void **state)
{
	(void)state;
	char p[128], k[128], err[256];
	snprintf(dir, sizeof(dir), "/tmp/lnst-test-tls.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/k.psk", dir);
	assert_int_equal(tls_keygen_psk(p, "ctl", err, sizeof(err)), 0);
	FILE *f = fopen(p, "r");
	char line[256];
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	char *colon = strchr(line, ':');
	memcpy(psk_id, line, (size_t)(colon - line));
	for (const char *h = colon + 1; hexval(h[0]) >= 0 && hexval(h[1]) >= 0; h += 2)
		psk[psk_len++] = (unsigned char)(hexval(h[0]) << 4 | hexval(h[1]));
	const char *names[] = { "ctl", "agent" };
	for (int i = 0; i < 2; i++) {
		snprintf(k, sizeof(k), "%s/%s.key", dir, names[i]);
		snprintf(p, sizeof(p), "%s/%s.crt", dir, names[i]);
		assert_int_equal(tls_keygen_cert(k, p, names[i], 1, err, sizeof(err)), 0);
	}
	return 0;
}

static int teardown_keys(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static SSL_SESSION *psk_session(SSL *ssl)
{
	static const unsigned char aes128[] = { 0x13, 0x01 };
	SSL_SESSION *s = SSL_SESSION_new();
	SSL_SESSION_set1_master_key(s, psk, psk_len);
	SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, aes128));
	SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
	return s;
}

static int psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess)
{
	(void)md;
	*sess = psk_session(ssl);
	*id = (const unsigned char *)psk_id;
	*idlen = strlen(psk_id);
	return 1;
}

static int psk_find(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	*sess = idlen == strlen(psk_id) && !memcmp(id, psk_id, idlen) ? psk_session(ssl) : NULL;
	return 1;
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* Moves what the OpenSSL end sent to its socket, and what its socket has
 * to the OpenSSL end. */
static void pump(struct ossl_end *o)
{
	char buf[65536];
	int n;
	while ((n = BIO_read(o->net, buf, sizeof(buf))) > 0)
		assert_int_equal(write(o->fd, buf, (size_t)n), n);
	size_t room;
	ssize_t k;
	while ((room = BIO_get_write_guarantee(o->net)) > 0 &&
	       (k = read(o->fd, buf, room < sizeof(buf) ? room : sizeof(buf))) > 0)
		assert_int_equal(BIO_write(o->net, buf, (int)k), k);
}

/* An lnst end (server or not) in mode against an OpenSSL end offering
 * only suites, both handshakes done. */
static void pair_up(struct pair *p, enum tls_mode mode, int lnst_server, const char *suites)
{
	char psk_file[128], cert[128], key[128], trust[128], err[256];
	snprintf(psk_file, sizeof(psk_file), "%s/k.psk", dir);
	snprintf(cert, sizeof(cert), "%s/ctl.crt", dir);
	snprintf(key, sizeof(key), "%s/ctl.key", dir);
	snprintf(trust, sizeof(trust), "%s/agent.crt", dir);
	struct tls_conf conf = { .mode = mode, .psk_file = psk_file, .cert_file = cert, .key_file = key,
				 .trust = trust };
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(p, 0, sizeof(*p));
	p->fd = sv[0];
	p->o.fd = sv[1];
	assert_int_equal(tls_ctx_new(&p->t, &conf, lnst_server, err, sizeof(err)), 0);
	assert_int_equal(tls_session_new(p->t, p->fd, 0, "the OpenSSL end", &p->sess), 0);

	struct ossl_end *o = &p->o;
	o->ctx = SSL_CTX_new(lnst_server ? TLS_client_method() : TLS_server_method());
	SSL_CTX_set_min_proto_version(o->ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(o->ctx, suites);
	SSL_CTX_set_options(o->ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(o->ctx, 0);
	if (mode == TLS_PSK) {
		SSL_CTX_set_psk_use_session_callback(o->ctx, psk_use);
		SSL_CTX_set_psk_find_session_callback(o->ctx, psk_find);
	} else {
		char ocert[128], okey[128];
		snprintf(ocert, sizeof(ocert), "%s/agent.crt", dir);
		snprintf(okey, sizeof(okey), "%s/agent.key", dir);
		assert_int_equal(SSL_CTX_use_certificate_file(o->ctx, ocert, SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(o->ctx, okey, SSL_FILETYPE_PEM), 1);
		SSL_CTX_set_verify(o->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	}
	o->ssl = SSL_new(o->ctx);
	BIO *inner;
	assert_int_equal(BIO_new_bio_pair(&inner, 0, &o->net, 0), 1);
	SSL_set_bio(o->ssl, inner, inner);
	if (lnst_server)
		SSL_set_connect_state(o->ssl);
	else
		SSL_set_accept_state(o->ssl);

	int lnst_done = 0, ossl_done = 0;
	for (int i = 0; i < 50 && !(lnst_done && ossl_done); i++) {
		uint32_t want = 0;
		if (!lnst_done) {
			int r = tls_io.handshake(p->sess, &want);
			if (r && r != -EAGAIN)
				fail_msg("lnst handshake: %s", tls_session_why(p->sess));
			lnst_done = r == 0;
		}
		if (!ossl_done) {
			int r = SSL_do_handshake(o->ssl);
			if (r != 1 && SSL_get_error(o->ssl, r) != SSL_ERROR_WANT_READ)
				fail_msg("OpenSSL handshake failed");
			ossl_done = r == 1;
		}
		pump(o);
	}
	assert_true(lnst_done && ossl_done);
	const char *want_suite = strchr(suites, ':') ? NULL : suites;
	if (want_suite)
		assert_string_equal(SSL_CIPHER_standard_name(SSL_get_current_cipher(o->ssl)), want_suite);
}

static void pair_down(struct pair *p)
{
	if (p->sess)
		tls_session_free(p->sess);
	tls_ctx_free(p->t);
	SSL_free(p->o.ssl);
	BIO_free(p->o.net);
	SSL_CTX_free(p->o.ctx);
	close(p->fd);
	close(p->o.fd);
}

/* Everything the lnst end can read now (into out, at most n bytes), in
 * reads of at most chunk bytes. The result of the last read is in *last. */
static size_t lnst_read(struct pair *p, unsigned char *out, size_t n, size_t chunk, ssize_t *last)
{
	size_t got = 0;
	uint32_t want;
	for (;;) {
		size_t ask = n - got < chunk ? n - got : chunk;
		if (!ask)
			break;
		ssize_t r = tls_io.read(p->sess, out + got, ask, &want);
		*last = r;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Writes all of buf from the lnst end (the socketpair takes at most its
 * buffer: the OpenSSL end is pumped in between). */
static void lnst_write_all(struct pair *p, const unsigned char *buf, size_t n, unsigned char *echo)
{
	size_t off = 0, got = 0;
	while (off < n || got < n) {
		uint32_t want;
		if (off < n) {
			ssize_t r = tls_io.write(p->sess, buf + off, n - off, &want);
			if (r < 0 && r != -EAGAIN)
				fail_msg("lnst write: %s", tls_session_why(p->sess));
			if (r > 0)
				off += (size_t)r;
		}
		pump(&p->o);
		int k;
		while ((k = SSL_read(p->o.ssl, echo + got, (int)(n - got))) > 0)
			got += (size_t)k;
		pump(&p->o);
	}
}

/* Sends n bytes each way and checks them, with small and large reads. */
static void exchange(struct pair *p, size_t n)
{
	unsigned char *a = malloc(n), *b = malloc(n), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		a[i] = (unsigned char)(i * 7 + 1);
	/* OpenSSL -> lnst */
	size_t off = 0, got = 0;
	ssize_t last = 0;
	while (got < n) {
		if (off < n) {
			int w = SSL_write(p->o.ssl, a + off, (int)(n - off));
			if (w > 0)
				off += (size_t)w;
		}
		pump(&p->o);
		got += lnst_read(p, b + got, n - got, got % 2 ? 7 : 16384, &last);
		assert_true(last > 0 || last == -EAGAIN);
	}
	assert_memory_equal(a, b, n);
	/* lnst -> OpenSSL */
	lnst_write_all(p, b, n, back);
	assert_memory_equal(a, back, n);
	free(a);
	free(b);
	free(back);
}

/* The lnst end as a PSK client and as a PSK server, in both suites PSK
 * offers: a ping-sized frame, then 100 kB (records split and joined). */
static void test_psk_suites(void **state)
{
	(void)state;
	const char *suites[] = { "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256" };
	for (int server = 0; server < 2; server++) {
		for (int i = 0; i < 2; i++) {
			struct pair p;
			pair_up(&p, TLS_PSK, server, suites[i]);
			exchange(&p, 31);
			exchange(&p, 100000);
			pair_down(&p);
		}
	}
}

/* Certificates, with the SHA-384 suite (48-byte secrets). */
static void test_cert_aes256(void **state)
{
	(void)state;
	struct pair p;
	pair_up(&p, TLS_CERT, 0, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(tls_session_peer(p.sess), "agent");
	exchange(&p, 31);
	exchange(&p, 40000);
	pair_down(&p);
}

/* The OpenSSL end updates its keys and asks for ours: the lnst end reads
 * on under the new key and sends a KeyUpdate (a 27-byte record) before its
 * next data, which OpenSSL then opens under our new key. */
static void test_key_update(void **state)
{
	(void)state;
	struct pair p;
	pair_up(&p, TLS_PSK, 0, "TLS_AES_128_GCM_SHA256");
	exchange(&p, 31);
	assert_int_equal(SSL_key_update(p.o.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
	assert_int_equal(SSL_write(p.o.ssl, "after", 5), 5);
	pump(&p.o);
	unsigned char buf[64];
	ssize_t last;
	assert_int_equal(lnst_read(&p, buf, 5, 5, &last), 5);
	assert_memory_equal(buf, "after", 5);
	uint32_t want;
	assert_int_equal(tls_io.write(p.sess, "reply", 5, &want), 5);
	/* On the wire: the KeyUpdate record, then 5 + 5 + 1 + 16 bytes. */
	unsigned char wire[256];
	assert_int_equal(read(p.o.fd, wire, sizeof(wire)), 27 + 27);
	assert_int_equal(wire[0], 23);
	assert_int_equal(wire[3] << 8 | wire[4], 5 + 1 + 16);
	assert_int_equal(BIO_write(p.o.net, wire, 54), 54);
	assert_int_equal(SSL_read(p.o.ssl, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "reply", 5);
	exchange(&p, 3000);
	pair_down(&p);
}

/* One record from the OpenSSL end, as it is on the wire. */
static size_t capture(struct pair *p, const char *msg, unsigned char *wire, size_t cap)
{
	assert_int_equal(SSL_write(p->o.ssl, msg, (int)strlen(msg)), (int)strlen(msg));
	int n = BIO_read(p->o.net, wire, (int)cap);
	assert_true(n > 5);
	return (size_t)n;
}

/* A flipped bit anywhere in a record (header, data, tag) is refused with
 * the record layer's words, and nothing of it is returned. */
static void test_tampered(void **state)
{
	(void)state;
	size_t where[] = { 3, 5, 12, 40 };
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		struct pair p;
		pair_up(&p, TLS_PSK, 0, "TLS_AES_128_GCM_SHA256");
		unsigned char wire[256], buf[64];
		size_t n = capture(&p, "{\"id\":1,\"method\":\"bye\"}", wire, sizeof(wire));
		assert_true(where[i] < n);
		wire[where[i]] ^= where[i] == 3 ? 0 : 0x01; /* byte 3: the length's high byte stays valid */
		if (where[i] == 3)
			wire[4] ^= 0x01;
		assert_int_equal(write(p.o.fd, wire, n), (ssize_t)n);
		ssize_t last = 0;
		size_t got = lnst_read(&p, buf, sizeof(buf), sizeof(buf), &last);
		if (where[i] == 3 && last == -EAGAIN) {
			/* a longer length: the record is incomplete, then cut short */
			shutdown(p.o.fd, SHUT_WR);
			got = lnst_read(&p, buf, sizeof(buf), sizeof(buf), &last);
			assert_int_equal(last, 0);
		} else {
			assert_int_equal(last, -EPROTO);
			assert_non_null(strstr(tls_session_why(p.sess), "failed authentication (bad_record_mac)"));
		}
		assert_int_equal(got, 0);
		pair_down(&p);
	}
}

/* A record sent twice is refused the second time (its sequence number is
 * in the nonce). */
static void test_replayed(void **state)
{
	(void)state;
	struct pair p;
	pair_up(&p, TLS_PSK, 1, "TLS_AES_128_GCM_SHA256");
	unsigned char wire[256], buf[64];
	size_t n = capture(&p, "ping", wire, sizeof(wire));
	assert_int_equal(write(p.o.fd, wire, n), (ssize_t)n);
	ssize_t last;
	assert_int_equal(lnst_read(&p, buf, sizeof(buf), sizeof(buf), &last), 4);
	assert_int_equal(write(p.o.fd, wire, n), (ssize_t)n);
	assert_int_equal(lnst_read(&p, buf, sizeof(buf), sizeof(buf), &last), 0);
	assert_int_equal(last, -EPROTO);
	assert_non_null(strstr(tls_session_why(p.sess), "replayed"));
	pair_down(&p);
}

/* close_notify both ways: the lnst end reads the end of the stream, and
 * the OpenSSL end sees ours when the session is freed. */
static void test_close_notify(void **state)
{
	(void)state;
	struct pair p;
	pair_up(&p, TLS_PSK, 0, "TLS_AES_128_GCM_SHA256");
	exchange(&p, 31);
	assert_int_equal(SSL_shutdown(p.o.ssl), 0);
	pump(&p.o);
	unsigned char buf[16];
	ssize_t last;
	assert_int_equal(lnst_read(&p, buf, sizeof(buf), sizeof(buf), &last), 0);
	assert_int_equal(last, 0);
	tls_session_free(p.sess);
	p.sess = NULL;
	pump(&p.o);
	int r = SSL_read(p.o.ssl, buf, sizeof(buf));
	assert_int_equal(SSL_get_error(p.o.ssl, r), SSL_ERROR_ZERO_RETURN);
	pair_down(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psk_suites),
		cmocka_unit_test(test_cert_aes256),
		cmocka_unit_test(test_key_update),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_replayed),
		cmocka_unit_test(test_close_notify),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
