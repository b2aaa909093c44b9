/* test_tls_rekey.c - the record layer's own KeyUpdates (src/common/
 * tls_record.c, built here with TLS_RECORD_REKEY = 4): every fourth record
 * under a key is followed by a KeyUpdate and a new key, and OpenSSL's record
 * layer on the other end follows. The layer takes over an OpenSSL client
 * after a PSK handshake, with the secrets from the key-log callback, as
 * tls_openssl.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tls_record.h"

static unsigned char psk[32];
static unsigned char csecret[64], ssecret[64];
static size_t clen, slen;

static SSL_SESSION *psk_session(SSL *ssl)
{
	static const unsigned char aes128[] = { 0x13, 0x01 };
	SSL_SESSION *s = SSL_SESSION_new();
	SSL_SESSION_set1_master_key(s, psk, sizeof(psk));
	SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, aes128));
	SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION);
	return s;
}

static int psk_use(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen, SSL_SESSION **sess)
{
	(void)md;
	*sess = psk_session(ssl);
	*id = (const unsigned char *)"t";
	*idlen = 1;
	return 1;
}

static int psk_find(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	(void)id;
	(void)idlen;
	*sess = psk_session(ssl);
	return 1;
}

static void keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	unsigned char *out = NULL;
	size_t *len = NULL;
	if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24)) {
		out = csecret;
		len = &clen;
	} else if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24)) {
		out = ssecret;
		len = &slen;
	} else {
		return;
	}
	const char *h = strchr(line + 24, ' ') + 1;
	unsigned int b;
	for (*len = 0; sscanf(h, "%2x", &b) == 1; h += 2)
		out[(*len)++] = (unsigned char)b;
}

static SSL *end(SSL_CTX **ctx, int server, int fd)
{
	*ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	SSL_CTX_set_min_proto_version(*ctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(*ctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_set_options(*ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(*ctx, 0);
	SSL_CTX_set_psk_use_session_callback(*ctx, psk_use);
	SSL_CTX_set_psk_find_session_callback(*ctx, psk_find);
	if (!server)
		SSL_CTX_set_keylog_callback(*ctx, keylog);
	SSL *ssl = SSL_new(*ctx);
	SSL_set_fd(ssl, fd);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

static void test_rekey(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(RAND_bytes(psk, sizeof(psk)), 1);
	SSL_CTX *cc, *sc;
	SSL *c = end(&cc, 0, sv[0]), *s = end(&sc, 1, sv[1]);
	int cd = 0, sd = 0;
	for (int i = 0; i < 50 && !(cd && sd); i++) {
		cd = cd || SSL_do_handshake(c) == 1;
		sd = sd || SSL_do_handshake(s) == 1;
	}
	assert_true(cd && sd);
	assert_int_equal(clen, 32);
	assert_int_equal(slen, 32);
	assert_int_equal(SSL_has_pending(c), 0);

	struct tls_record *r;
	assert_int_equal(tls_record_new(&r, sv[0], 0x1301, csecret, ssecret, 32), 0);
	/* Sizes on the wire: 27 per five-byte record, 54 with a KeyUpdate
	 * before it (the fifth and ninth: after 4 records under a key). */
	const int sizes[] = { 27, 27, 27, 27, 54, 27, 27, 27, 54, 27 };
	for (int i = 0; i < 10; i++) {
		char msg[6], buf[64];
		snprintf(msg, sizeof(msg), "msg %d", i);
		uint32_t want;
		assert_int_equal(tls_record_write(r, msg, 5, &want), 5);
		assert_int_equal(recv(sv[1], buf, sizeof(buf), MSG_PEEK), sizes[i]);
		assert_int_equal(SSL_read(s, buf, sizeof(buf)), 5);
		assert_memory_equal(buf, msg, 5);
	}
	/* and the other way, under the server's unchanged key */
	assert_int_equal(SSL_write(s, "back", 4), 4);
	char buf[16];
	uint32_t want;
	assert_int_equal(tls_record_read(r, buf, sizeof(buf), &want), 4);
	assert_memory_equal(buf, "back", 4);
	tls_record_free(r);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rekey),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
