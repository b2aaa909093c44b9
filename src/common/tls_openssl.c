/* tls_openssl.c - the OpenSSL half of the TLS transport, built as the
 * plugin lnst-tls.so and loaded by tls.c on first use, so that processes
 * which never speak TLS (local agents above all) never map libssl or
 * libcrypto.
 *
 * Only TLS 1.3 is offered, without session tickets or resumption: a
 * connection is authenticated by its own handshake and nothing else. The
 * certificate check replaces OpenSSL's chain verification as a whole
 * (SSL_CTX_set_cert_verify_callback): a pinned key and valid dates are the
 * only criteria, so a CA, a host name or a system trust store never enter.
 *
 * After the handshake, a session with one of the usual TLS 1.3 suites
 * hands its records to tls_record.c (same wire format, a fraction of
 * OpenSSL 3.0's per-record cost); the traffic secrets come from the
 * key-log callback and never leave the process.
 */
#include "tls.h"
#include "tls_plugin.h"
#include "tls_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PSK_MIN 16
#define PSK_MAX 64

struct tls_psk {
	char identity[128];
	unsigned char key[PSK_MAX];
	size_t len;
};

struct tls_ctx {
	SSL_CTX *ssl;
	int server;
	enum tls_mode mode;
	struct tls_psk *psks;
	size_t npsk;
	EVP_PKEY **pins;
	size_t npins;
	char trust[256];
};

struct tls_sess {
	SSL *ssl;
	struct tls_ctx *t;
	int fd;
	int connecting;
	int done;
	char peer_name[160]; /* for messages */
	char peer[160];      /* authenticated identity */
	char refused[640];   /* why we refused the peer (callbacks) */
	char why[1024];
	struct tls_record *rec; /* after the handshake, unless OpenSSL keeps the records */
	unsigned char csecret[EVP_MAX_MD_SIZE], ssecret[EVP_MAX_MD_SIZE]; /* until then */
	size_t csecret_len, ssecret_len;
};

static const unsigned char tls13_aes128gcmsha256_id[] = { 0x13, 0x01 };

static const char *ossl_err(char *buf, size_t n, const char *dflt)
{
	unsigned long e = ERR_peek_last_error();
	if (!e)
		snprintf(buf, n, "%s", dflt);
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

/* ---- files ----------------------------------------------------------------- */

/* Secrets must not be readable by others (like ssh with its keys). */
static int check_private(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s %s: permissions %04o are too open: a secret must be readable by its owner only (chmod 600)",
			 what, path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int load_psks(struct tls_ctx *t, const char *path, char *err, size_t errlen)
{
	int r = check_private(path, "pre-shared key file", err, errlen);
	if (r)
		return r;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "pre-shared key file %s: %s", path, strerror(errno));
		return -errno;
	}
	char line[512];
	int lineno = 0;
	r = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *colon = strrchr(s, ':');
		if (!colon || colon == s || colon - s >= (long)sizeof(t->psks[0].identity)) {
			snprintf(err, errlen, "%s:%d: expected IDENTITY:HEXKEY (as written by lnst-agent keygen --psk)",
				 path, lineno);
			r = -EINVAL;
			break;
		}
		struct tls_psk p = { .len = 0 };
		memcpy(p.identity, s, (size_t)(colon - s));
		const char *h = colon + 1;
		size_t hl = strlen(h);
		while (hl && (h[hl - 1] == ' ' || h[hl - 1] == '\t'))
			hl--;
		if (hl % 2 || hl / 2 < PSK_MIN || hl / 2 > PSK_MAX) {
			snprintf(err, errlen, "%s:%d: the key must be %d to %d bytes as hex digits, found %zu digits",
				 path, lineno, PSK_MIN, PSK_MAX, hl);
			r = -EINVAL;
			break;
		}
		for (size_t i = 0; i < hl / 2 && !r; i++) {
			int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s:%d: the key has a character that is not a hex digit",
					 path, lineno);
				r = -EINVAL;
			}
			p.key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (r)
			break;
		p.len = hl / 2;
		struct tls_psk *np = realloc(t->psks, (t->npsk + 1) * sizeof(*np));
		if (!np) {
			r = -ENOMEM;
			break;
		}
		t->psks = np;
		t->psks[t->npsk++] = p;
		OPENSSL_cleanse(&p, sizeof(p));
	}
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	if (!r && t->npsk == 0) {
		snprintf(err, errlen, "pre-shared key file %s holds no key", path);
		r = -EINVAL;
	}
	return r;
}

static int add_pin(struct tls_ctx *t, EVP_PKEY *k)
{
	EVP_PKEY **np = realloc(t->pins, (t->npins + 1) * sizeof(*np));
	if (!np) {
		EVP_PKEY_free(k);
		return -ENOMEM;
	}
	t->pins = np;
	t->pins[t->npins++] = k;
	return 0;
}

/* Every certificate and public key in a PEM file. */
static int load_pin_file(struct tls_ctx *t, const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "r");
	if (!b) {
		ERR_clear_error();
		snprintf(err, errlen, "pinned keys %s: %s", path, strerror(errno ? errno : ENOENT));
		return -ENOENT;
	}
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len;
	int r = 0, found = 0;
	while (PEM_read_bio(b, &name, &header, &data, &len)) {
		const unsigned char *p = data;
		EVP_PKEY *k = NULL;
		if (strcmp(name, "CERTIFICATE") == 0) {
			X509 *x = d2i_X509(NULL, &p, len);
			if (x) {
				k = X509_get_pubkey(x);
				X509_free(x);
			}
		} else if (strcmp(name, "PUBLIC KEY") == 0) {
			k = d2i_PUBKEY(NULL, &p, len);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
		if (k) {
			found++;
			if ((r = add_pin(t, k)))
				break;
		}
	}
	ERR_clear_error();
	BIO_free(b);
	if (!r && !found) {
		snprintf(err, errlen, "pinned keys %s: no PEM certificate or public key in it", path);
		r = -EINVAL;
	}
	return r;
}

static int load_pins(struct tls_ctx *t, const char *path, char *err, size_t errlen)
{
	snprintf(t->trust, sizeof(t->trust), "%s", path);
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "pinned keys %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return load_pin_file(t, path, err, errlen);
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), r = 0;
	if (n < 0) {
		snprintf(err, errlen, "pinned keys %s: %s", path, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		const char *e = strrchr(ents[i]->d_name, '.');
		if (!r && e && (!strcmp(e, ".pem") || !strcmp(e, ".crt") || !strcmp(e, ".pub"))) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
			r = load_pin_file(t, p, err, errlen);
		}
		free(ents[i]);
	}
	free(ents);
	if (!r && !t->npins) {
		snprintf(err, errlen, "pinned keys %s: the directory holds no .pem, .crt or .pub file", path);
		r = -ENOENT;
	}
	return r;
}

/* ---- callbacks ------------------------------------------------------------------- */

static SSL_SESSION *psk_session(SSL *ssl, const struct tls_psk *p)
{
	const SSL_CIPHER *c = SSL_CIPHER_find(ssl, tls13_aes128gcmsha256_id);
	SSL_SESSION *s = SSL_SESSION_new();
	if (!c || !s || !SSL_SESSION_set1_master_key(s, p->key, p->len) ||
	    !SSL_SESSION_set_cipher(s, c) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static int psk_use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
		      SSL_SESSION **sess)
{
	struct tls_sess *s = SSL_get_app_data(ssl);
	const struct tls_psk *p = &s->t->psks[0];
	const SSL_CIPHER *c = SSL_CIPHER_find(ssl, tls13_aes128gcmsha256_id);
	if (md && c && md != SSL_CIPHER_get_handshake_digest(c)) {
		*sess = NULL; /* a retry for a cipher of another hash: no PSK fits */
		return 1;
	}
	*sess = psk_session(ssl, p);
	if (!*sess)
		return 0;
	*id = (const unsigned char *)p->identity;
	*idlen = strlen(p->identity);
	return 1;
}

static int psk_find_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess)
{
	struct tls_sess *s = SSL_get_app_data(ssl);
	*sess = NULL;
	for (size_t i = 0; i < s->t->npsk; i++) {
		const struct tls_psk *p = &s->t->psks[i];
		if (strlen(p->identity) == idlen && memcmp(p->identity, id, idlen) == 0) {
			*sess = psk_session(ssl, p);
			snprintf(s->peer, sizeof(s->peer), "%s", p->identity);
			return *sess ? 1 : 0;
		}
	}
	snprintf(s->refused, sizeof(s->refused), "unknown pre-shared key identity '%.*s' (not in %s)",
		 (int)(idlen > 64 ? 64 : idlen), id, s->t->trust);
	return 1; /* no PSK: the handshake fails for lack of a usable key */
}

static void cert_cn(X509 *x, char *out, size_t n)
{
	out[0] = 0;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)n) < 0)
		snprintf(out, n, "?");
}

static void asn1_time_str(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(t, &tm))
		strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(out, n, "?");
}

/* The whole certificate check: a pinned key, and valid dates. */
static int cert_verify_cb(X509_STORE_CTX *xs, void *arg)
{
	(void)arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_sess *s = SSL_get_app_data(ssl);
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	char cn[128], when[64];
	if (!leaf) {
		snprintf(s->refused, sizeof(s->refused), "%s sent no certificate", s->peer_name);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	cert_cn(leaf, cn, sizeof(cn));
	if (s->t->mode != TLS_CERT) {
		snprintf(s->refused, sizeof(s->refused),
			 "%s authenticated with a certificate (CN=%s), not with the pre-shared key",
			 s->peer_name, cn);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	EVP_PKEY *k = X509_get0_pubkey(leaf);
	int pinned = 0;
	for (size_t i = 0; k && i < s->t->npins && !pinned; i++)
		pinned = EVP_PKEY_eq(k, s->t->pins[i]) == 1;
	if (!pinned) {
		snprintf(s->refused, sizeof(s->refused),
			 "the certificate of %s (CN=%s) is not trusted: its public key is not pinned in %s",
			 s->peer_name, cn, s->t->trust);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		asn1_time_str(X509_get0_notAfter(leaf), when, sizeof(when));
		snprintf(s->refused, sizeof(s->refused), "the certificate of %s (CN=%s) expired on %s",
			 s->peer_name, cn, when);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_HAS_EXPIRED);
		return 0;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
		asn1_time_str(X509_get0_notBefore(leaf), when, sizeof(when));
		snprintf(s->refused, sizeof(s->refused),
			 "the certificate of %s (CN=%s) is not valid before %s", s->peer_name, cn, when);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_NOT_YET_VALID);
		return 0;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", cn);
	X509_STORE_CTX_set_error(xs, X509_V_OK);
	return 1;
}

/* The application traffic secrets, from lines "LABEL CLIENT_RANDOM SECRET"
 * (hex); the handshake's own secrets are not kept. */
static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_sess *s = SSL_get_app_data(ssl);
	unsigned char *out;
	size_t *len;
	if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24)) {
		out = s->csecret;
		len = &s->csecret_len;
	} else if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24)) {
		out = s->ssecret;
		len = &s->ssecret_len;
	} else {
		return;
	}
	const char *h = strchr(line + 24, ' ');
	size_t n = 0;
	while (h && h[1] && h[2] && n < EVP_MAX_MD_SIZE) {
		int hi = hexval(h[1]), lo = hexval(h[2]);
		if (hi < 0 || lo < 0)
			break;
		out[n++] = (unsigned char)(hi << 4 | lo);
		h += 2;
	}
	*len = h && !h[1] ? n : 0; /* a line that does not parse to its end is not used */
}

/* ---- context ------------------------------------------------------------------------ */

static void ossl_ctx_free(struct tls_ctx *t);

static int ossl_ctx_new(struct tls_ctx **out, const struct tls_conf *conf, int server, char *err,
		size_t errlen)
{
	char ebuf[256];
	int r = 0;
	*out = NULL;
	if (conf->mode != TLS_PSK && conf->mode != TLS_CERT) {
		snprintf(err, errlen, "TLS needs security mode psk or cert");
		return -EINVAL;
	}
	struct tls_ctx *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->server = server;
	t->mode = conf->mode;
	t->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!t->ssl) {
		snprintf(err, errlen, "cannot create a TLS context: %s", ossl_err(ebuf, sizeof(ebuf), "?"));
		r = -ENOMEM;
		goto out;
	}
	SSL_CTX_set_min_proto_version(t->ssl, TLS1_3_VERSION);
	SSL_CTX_set_options(t->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(t->ssl, 0);
	SSL_CTX_set_session_cache_mode(t->ssl, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* No read-ahead during the handshake: nothing after the last
	 * handshake record is read, so the record layer starts with the
	 * socket (records_take_over). */
	SSL_CTX_set_read_ahead(t->ssl, 0);
	SSL_CTX_set_keylog_callback(t->ssl, keylog_cb);
	SSL_CTX_set_cert_verify_callback(t->ssl, cert_verify_cb, t);
	if (conf->mode == TLS_PSK) {
		if (!conf->psk_file) {
			snprintf(err, errlen, "security psk needs a pre-shared key file (psk_file)");
			r = -EINVAL;
			goto out;
		}
		if ((r = load_psks(t, conf->psk_file, err, errlen)))
			goto out;
		snprintf(t->trust, sizeof(t->trust), "%s", conf->psk_file);
		/* The PSK is bound to SHA-256: a server preferring a SHA-384
		 * suite would drop it, so only SHA-256 suites are offered. */
		SSL_CTX_set_ciphersuites(t->ssl, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
		if (server) {
			SSL_CTX_set_psk_find_session_callback(t->ssl, psk_find_cb);
		} else {
			SSL_CTX_set_psk_use_session_callback(t->ssl, psk_use_cb);
			/* A server that answers with a certificate is not our agent. */
			SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
		}
	} else {
		if (!conf->cert_file || !conf->key_file || !conf->trust) {
			snprintf(err, errlen, "security cert needs %s",
				 !conf->cert_file ? "a certificate (cert)" : !conf->key_file ? "a private key (key)"
				 : "the peer's pinned certificate or public key");
			r = -EINVAL;
			goto out;
		}
		if ((r = check_private(conf->key_file, "private key", err, errlen)))
			goto out;
		if (SSL_CTX_use_certificate_file(t->ssl, conf->cert_file, SSL_FILETYPE_PEM) != 1) {
			snprintf(err, errlen, "certificate %s: %s", conf->cert_file,
				 ossl_err(ebuf, sizeof(ebuf), "cannot load"));
			r = -EINVAL;
			goto out;
		}
		if (SSL_CTX_use_PrivateKey_file(t->ssl, conf->key_file, SSL_FILETYPE_PEM) != 1) {
			snprintf(err, errlen, "private key %s: %s", conf->key_file,
				 ossl_err(ebuf, sizeof(ebuf), "cannot load"));
			r = -EINVAL;
			goto out;
		}
		if (SSL_CTX_check_private_key(t->ssl) != 1) {
			ERR_clear_error();
			snprintf(err, errlen, "private key %s does not belong to certificate %s",
				 conf->key_file, conf->cert_file);
			r = -EINVAL;
			goto out;
		}
		if ((r = load_pins(t, conf->trust, err, errlen)))
			goto out;
		SSL_CTX_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
out:
	if (r)
		ossl_ctx_free(t);
	else
		*out = t;
	return r;
}

static void ossl_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ssl);
	if (t->psks)
		OPENSSL_cleanse(t->psks, t->npsk * sizeof(*t->psks));
	free(t->psks);
	for (size_t i = 0; i < t->npins; i++)
		EVP_PKEY_free(t->pins[i]);
	free(t->pins);
	free(t);
}

/* ---- sessions ------------------------------------------------------------------------ */

static int ossl_session_new(struct tls_ctx *t, int fd, int connecting, const char *peer, void **out)
{
	struct tls_sess *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->t = t;
	s->fd = fd;
	s->connecting = connecting;
	snprintf(s->peer_name, sizeof(s->peer_name), "%s", peer);
	s->ssl = SSL_new(t->ssl);
	if (!s->ssl || !SSL_set_fd(s->ssl, fd)) {
		ERR_clear_error();
		SSL_free(s->ssl);
		free(s);
		return -ENOMEM;
	}
	SSL_set_app_data(s->ssl, s);
	if (t->server)
		SSL_set_accept_state(s->ssl);
	else
		SSL_set_connect_state(s->ssl);
	*out = s;
	return 0;
}

static const char *ossl_session_peer(void *session)
{
	return ((struct tls_sess *)session)->peer;
}

static const char *ossl_session_why(void *session)
{
	return ((struct tls_sess *)session)->why;
}

static void ossl_session_free(void *session)
{
	struct tls_sess *s = session;
	if (!s)
		return;
	if (s->rec) {
		tls_record_close(s->rec); /* close_notify, if the socket takes it now */
		tls_record_free(s->rec);
	} else if (s->done) {
		SSL_shutdown(s->ssl);
		ERR_clear_error();
	}
	SSL_free(s->ssl);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* Words for what went wrong, from our callbacks or OpenSSL's reason. */
static void set_why(struct tls_sess *s, const char *stage, int sslerr, int ret)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);
	char ossl[200];
	const char *hint = NULL;
	if (e)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	else
		snprintf(ossl, sizeof(ossl), "%s", sslerr == SSL_ERROR_SYSCALL && ret < 0 ? strerror(errno) : "connection closed");
	ERR_clear_error();
	if (s->refused[0]) {
		snprintf(s->why, sizeof(s->why), "TLS %s with %s failed: %s", stage, s->peer_name, s->refused);
		return;
	}
	switch (reason) {
	case SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER:
		if (s->t->mode == TLS_PSK && !s->t->server)
			hint = "the peer rejected our pre-shared key (the keys differ)";
		break;
	case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
		hint = "the peer rejected our pre-shared key (the keys differ)";
		break;
	case SSL_R_BINDER_DOES_NOT_VERIFY:
		hint = "wrong pre-shared key (the identity is known, the key differs)";
		break;
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		hint = "the peer refused the handshake (unknown pre-shared key identity, or it uses another security mode)";
		break;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
		hint = "the peer offered no key we accept (unknown pre-shared key identity, or another security mode)";
		break;
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
		hint = "the peer does not trust our certificate (our public key is not pinned there)";
		break;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		hint = "the peer says our certificate has expired";
		break;
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		hint = "a certificate was required and none was sent (the sides use different security modes)";
		break;
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNEXPECTED_RECORD:
	case SSL_R_HTTP_REQUEST:
		hint = "the peer does not speak TLS (is it set to security none?)";
		break;
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_UNSUPPORTED_PROTOCOL:
		hint = "the peer does not offer TLS 1.3";
		break;
	default:
		break;
	}
	if (!hint && sslerr == SSL_ERROR_SYSCALL && !e && !strcmp(stage, "handshake"))
		hint = "the peer closed the connection during the handshake (it uses another security mode, or refused us)";
	if (hint)
		snprintf(s->why, sizeof(s->why), "TLS %s with %s failed: %s (%s)", stage, s->peer_name, hint, ossl);
	else
		snprintf(s->why, sizeof(s->why), "TLS %s with %s failed: %s", stage, s->peer_name, ossl);
}

/* After the handshake: tls_record.c takes the records when it knows the
 * suite, both secrets were logged and OpenSSL holds no record read ahead
 * (it cannot, without read-ahead); otherwise OpenSSL keeps them, with
 * read-ahead from now on. Both sides are at sequence 0: no tickets, so
 * nothing was sent under the application keys yet. */
static void records_take_over(struct tls_sess *s)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
	uint16_t suite = c ? SSL_CIPHER_get_protocol_id(c) : 0;
	if (tls_record_supported(suite) && s->csecret_len && s->csecret_len == s->ssecret_len &&
	    !SSL_has_pending(s->ssl)) {
		const unsigned char *ours = s->t->server ? s->ssecret : s->csecret;
		const unsigned char *theirs = s->t->server ? s->csecret : s->ssecret;
		tls_record_new(&s->rec, s->fd, suite, ours, theirs, s->csecret_len);
		ERR_clear_error();
	}
	OPENSSL_cleanse(s->csecret, sizeof(s->csecret));
	OPENSSL_cleanse(s->ssecret, sizeof(s->ssecret));
	s->csecret_len = s->ssecret_len = 0;
	if (s->rec)
		SSL_free_buffers(s->ssl); /* OpenSSL's record buffers are not used again */
	else
		SSL_set_read_ahead(s->ssl, 1);
}

/* The why of a session that tls_record.c ended, with the same words as
 * set_why for the alerts a refused certificate brings. */
static void record_why(struct tls_sess *s)
{
	const char *hint = NULL;
	switch (tls_record_alert(s->rec)) {
	case 42: /* bad_certificate */
	case 43: /* unsupported_certificate */
	case 46: /* certificate_unknown */
	case 48: /* unknown_ca */
		hint = "the peer does not trust our certificate (our public key is not pinned there)";
		break;
	case 45:
		hint = "the peer says our certificate has expired";
		break;
	case 116:
		hint = "a certificate was required and none was sent (the sides use different security modes)";
		break;
	default:
		break;
	}
	if (hint)
		snprintf(s->why, sizeof(s->why), "TLS session with %s failed: %s (%s)", s->peer_name, hint,
			 tls_record_why(s->rec));
	else
		snprintf(s->why, sizeof(s->why), "TLS session with %s failed: %s", s->peer_name,
			 tls_record_why(s->rec));
}

static int io_handshake(void *ctx, uint32_t *want)
{
	struct tls_sess *s = ctx;
	if (s->connecting) {
		int r = tls_connect_done(s->fd, s->peer_name, s->why, sizeof(s->why));
		if (r == -EAGAIN)
			*want = EPOLLOUT;
		if (r)
			return r;
		s->connecting = 0;
	}
	ERR_clear_error();
	int r = SSL_do_handshake(s->ssl);
	if (r == 1) {
		if (s->t->mode == TLS_PSK && !SSL_session_reused(s->ssl)) {
			snprintf(s->why, sizeof(s->why),
				 "TLS handshake with %s failed: the peer did not authenticate with the pre-shared key",
				 s->peer_name);
			return -EPROTO;
		}
		/* The agent proved it holds the key of our identity. */
		if (s->t->mode == TLS_PSK && !s->peer[0])
			snprintf(s->peer, sizeof(s->peer), "%s", s->t->psks[0].identity);
		s->done = 1;
		records_take_over(s);
		return 0;
	}
	int e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		return -EAGAIN;
	}
	set_why(s, "handshake", e, r);
	return -EPROTO;
}

static ssize_t io_read(void *ctx, void *buf, size_t n, uint32_t *want)
{
	struct tls_sess *s = ctx;
	if (s->rec) {
		ssize_t r = tls_record_read(s->rec, buf, n, want);
		if (r == -EPROTO)
			record_why(s);
		else if (r < 0 && r != -EAGAIN)
			snprintf(s->why, sizeof(s->why), "read failed: %s", strerror((int)-r));
		return r;
	}
	/* The error queue is empty here: every failure path clears it. */
	int r = SSL_read(s->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	int e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		return -EAGAIN;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && r == 0 && !ERR_peek_last_error()))
		return 0;
	if (e == SSL_ERROR_SYSCALL && !ERR_peek_last_error()) {
		int en = errno;
		snprintf(s->why, sizeof(s->why), "read failed: %s", strerror(en));
		return -en;
	}
	set_why(s, "session", e, r);
	return -EPROTO;
}

static ssize_t io_write(void *ctx, const void *buf, size_t n, uint32_t *want)
{
	struct tls_sess *s = ctx;
	if (s->rec) {
		ssize_t r = tls_record_write(s->rec, buf, n, want);
		if (r >= 0 || r == -EAGAIN)
			return r;
		if (r != -EPROTO) {
			/* The peer may have said why before it closed (see below). */
			char one;
			uint32_t w;
			if (tls_record_read(s->rec, &one, 1, &w) != -EPROTO) {
				snprintf(s->why, sizeof(s->why), "write failed: %s", strerror((int)-r));
				return r;
			}
		}
		record_why(s);
		return -EPROTO;
	}
	int r = SSL_write(s->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0)
		return r;
	int e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		return -EAGAIN;
	}
	if (e == SSL_ERROR_SYSCALL && !ERR_peek_last_error()) {
		int en = errno ? errno : EPIPE;
		/* The peer may have said why before it closed (an alert after
		 * the handshake, in TLS 1.3 when it refuses our certificate). */
		char one;
		int rr = SSL_read(s->ssl, &one, 1);
		if (rr <= 0 && SSL_get_error(s->ssl, rr) == SSL_ERROR_SSL) {
			set_why(s, "session", SSL_ERROR_SSL, rr);
			return -EPROTO;
		}
		ERR_clear_error();
		snprintf(s->why, sizeof(s->why), "write failed: %s", strerror(en));
		return -en;
	}
	set_why(s, "session", e, r);
	return -EPROTO;
}

static int io_pending(void *ctx)
{
	struct tls_sess *s = ctx;
	return s->rec ? tls_record_pending(s->rec) : SSL_has_pending(s->ssl);
}

static const struct conn_io ossl_io = {
	.handshake = io_handshake,
	.read = io_read,
	.write = io_write,
	.pending = io_pending,
	.why = ossl_session_why,
	.free = ossl_session_free,
};
static FILE *create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s%s", path, strerror(errno),
			 errno == EEXIST ? " (keygen never overwrites a file)" : "");
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int ossl_keygen_psk(const char *path, const char *identity, char *err, size_t errlen)
{
	if (!identity[0] || strchr(identity, ':') || strchr(identity, '\n') || strlen(identity) > 100) {
		snprintf(err, errlen, "identity '%s' must be 1-100 characters without ':' or newlines", identity);
		return -EINVAL;
	}
	unsigned char key[32];
	if (RAND_bytes(key, sizeof(key)) != 1) {
		snprintf(err, errlen, "no random bytes from OpenSSL");
		return -EIO;
	}
	FILE *f = create_private(path, err, errlen);
	if (!f)
		return -EEXIST;
	fprintf(f, "%s:", identity);
	for (size_t i = 0; i < sizeof(key); i++)
		fprintf(f, "%02x", key[i]);
	fprintf(f, "\n");
	OPENSSL_cleanse(key, sizeof(key));
	if (fclose(f)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int ossl_keygen_cert(const char *key_path, const char *cert_path, const char *cn, int days,
		    char *err, size_t errlen)
{
	int r = -EIO;
	X509 *x = NULL;
	FILE *kf = NULL, *cf = NULL;
	if (days < 1) {
		snprintf(err, errlen, "--days must be at least 1");
		return -EINVAL;
	}
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k) {
		snprintf(err, errlen, "cannot generate an Ed25519 key");
		goto out;
	}
	x = X509_new();
	unsigned char serial[16];
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	X509_NAME *name = X509_NAME_new();
	if (!x || !bn || !name || !X509_set_version(x, 2) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, k) ||
	    !X509_sign(x, k, NULL)) {
		BN_free(bn);
		X509_NAME_free(name);
		snprintf(err, errlen, "cannot build the certificate for CN=%s", cn);
		goto out;
	}
	BN_free(bn);
	X509_NAME_free(name);
	if (!(kf = create_private(key_path, err, errlen)))
		goto out;
	int cfd = open(cert_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (cfd < 0 || !(cf = fdopen(cfd, "w"))) {
		snprintf(err, errlen, "cannot create %s: %s", cert_path, strerror(errno));
		if (cfd >= 0)
			close(cfd);
		fclose(kf);
		kf = NULL;
		unlink(key_path);
		goto out;
	}
	if (!PEM_write_PrivateKey(kf, k, NULL, NULL, 0, NULL, NULL) || !PEM_write_X509(cf, x)) {
		snprintf(err, errlen, "cannot write the key or certificate");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	if (kf && fclose(kf) && !r) {
		snprintf(err, errlen, "cannot write %s: %s", key_path, strerror(errno));
		r = -EIO;
	}
	if (cf && fclose(cf) && !r) {
		snprintf(err, errlen, "cannot write %s: %s", cert_path, strerror(errno));
		r = -EIO;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

static int ossl_key_fingerprint(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(path, "r");
	if (!b) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: cannot open", path);
		return -ENOENT;
	}
	EVP_PKEY *k = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long len;
	while (!k && PEM_read_bio(b, &name, &header, &data, &len)) {
		const unsigned char *p = data;
		if (!strcmp(name, "CERTIFICATE")) {
			X509 *x = d2i_X509(NULL, &p, len);
			if (x)
				k = X509_get_pubkey(x);
			X509_free(x);
		} else if (!strcmp(name, "PUBLIC KEY")) {
			k = d2i_PUBKEY(NULL, &p, len);
		} else if (!strcmp(name, "PRIVATE KEY")) {
			k = d2i_AutoPrivateKey(NULL, &p, len);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	BIO_free(b);
	ERR_clear_error();
	if (!k) {
		snprintf(err, errlen, "%s: no PEM certificate or key in it", path);
		return -EINVAL;
	}
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int dl = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (dl <= 0 || !EVP_Digest(der, (size_t)dl, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		snprintf(err, errlen, "%s: cannot hash the public key", path);
		return -EINVAL;
	}
	OPENSSL_free(der);
	size_t o = (size_t)snprintf(out, outlen, "sha256:");
	for (unsigned i = 0; i < mdlen && o + 3 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", md[i]);
	return 0;
}


/* What tls.c finds with dlsym. */
const struct tls_plugin lnst_tls_plugin = {
	.ctx_new = ossl_ctx_new,
	.ctx_free = ossl_ctx_free,
	.session_new = ossl_session_new,
	.session_peer = ossl_session_peer,
	.session_why = ossl_session_why,
	.session_free = ossl_session_free,
	.io = &ossl_io,
	.keygen_psk = ossl_keygen_psk,
	.keygen_cert = ossl_keygen_cert,
	.key_fingerprint = ossl_key_fingerprint,
};
