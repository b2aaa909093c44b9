/* tls_record.c - the TLS 1.3 record layer after the handshake (tls_record.h):
 * sealing and opening records with OpenSSL's AEAD ciphers, alerts,
 * KeyUpdate, and the socket buffering around them.
 *
 * A record on the wire: type 23, version 0x0303, a 16-bit length, then the
 * AEAD output of (data, real content type, no padding) under the nonce
 * iv XOR sequence number and with the five header bytes as associated data
 * (RFC 8446 §5.2, §5.3). Keys and IVs come from the traffic secrets with
 * HKDF-Expand-Label (§7.1, §7.3); a KeyUpdate moves a direction to the next
 * secret and back to sequence 0 (§4.6.3, §7.2).
 */
#include "tls_record.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HDR 5
#define TAG 16
#define IVLEN 12
#define MAX_PLAIN 16384                        /* 2^14 bytes of data per record */
#define MAX_CIPHER (MAX_PLAIN + 256)           /* the largest length a peer may send */
#define IN_CAP (2 * (HDR + MAX_CIPHER))        /* one read(2) takes a burst of records */
#define WRITE_MAX (2 * MAX_PLAIN)              /* data sealed per write call */
#define KU_RECORD (HDR + 5 + 1 + TAG)          /* a sealed KeyUpdate */
#define OUT_CAP (KU_RECORD + (WRITE_MAX / MAX_PLAIN) * (HDR + MAX_PLAIN + 1 + TAG))

enum { CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
enum { HS_KEY_UPDATE = 24 };

struct rec_dir {
	EVP_CIPHER_CTX *ctx;
	unsigned char secret[EVP_MAX_MD_SIZE];
	unsigned char iv[IVLEN];
	uint64_t seq;
};

struct tls_record {
	int fd;
	EVP_CIPHER *cipher;
	size_t keylen;
	const char *md;
	size_t hashlen;
	struct rec_dir rd, wr;
	unsigned char *in;  /* bytes read: [in_off, in_len) not yet opened */
	size_t in_off, in_len;
	size_t plain_off, plain_len; /* opened data in `in` not yet returned */
	unsigned char *out; /* sealed: [out_off, out_len) not yet sent */
	size_t out_off, out_len;
	size_t out_taken;   /* data bytes the unsent records carry */
	int eof;
	int answer_update;  /* the peer asked for our KeyUpdate */
	int failed;
	int alert;
	char why[256];
};

static const struct suite {
	uint16_t id;
	const char *cipher;
	size_t keylen;
	const char *md;
	size_t hashlen;
} suites[] = {
	{ 0x1301, "AES-128-GCM", 16, "SHA256", 32 },
	{ 0x1302, "AES-256-GCM", 32, "SHA384", 48 },
	{ 0x1303, "ChaCha20-Poly1305", 32, "SHA256", 32 },
};

static const struct suite *suite_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

int tls_record_supported(uint16_t suite)
{
	return suite_find(suite) != NULL;
}

static int fail(struct tls_record *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->failed = 1;
	ERR_clear_error(); /* the OpenSSL half keeps its error queue empty */
	return -EPROTO;
}

/* HKDF-Expand-Label(secret, label, "", outlen) (RFC 8446 §7.1). */
static int expand_label(const struct tls_record *r, const unsigned char *secret, const char *label,
			unsigned char *out, size_t outlen)
{
	unsigned char info[4 + 6 + 32];
	size_t ll = 6 + strlen(label);
	info[0] = (unsigned char)(outlen >> 8);
	info[1] = (unsigned char)outlen;
	info[2] = (unsigned char)ll;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll - 6);
	info[3 + ll] = 0; /* empty context */
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)r->md, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, r->hashlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 4 + ll),
		OSSL_PARAM_END,
	};
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok = kc && EVP_KDF_derive(kc, out, outlen, p) == 1;
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return ok ? 0 : -EIO;
}

/* Keys a direction with secret, at sequence 0. */
static int dir_set(struct tls_record *r, struct rec_dir *d, const unsigned char *secret, int enc)
{
	unsigned char key[32];
	int err = 0;
	memmove(d->secret, secret, r->hashlen);
	if (expand_label(r, d->secret, "key", key, r->keylen) ||
	    expand_label(r, d->secret, "iv", d->iv, IVLEN) ||
	    EVP_CipherInit_ex(d->ctx, r->cipher, NULL, key, NULL, enc) != 1)
		err = -EIO;
	d->seq = 0;
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

/* The next traffic secret of a direction (KeyUpdate). */
static int dir_update(struct tls_record *r, struct rec_dir *d, int enc)
{
	unsigned char next[EVP_MAX_MD_SIZE];
	int err = expand_label(r, d->secret, "traffic upd", next, r->hashlen);
	if (!err)
		err = dir_set(r, d, next, enc);
	OPENSSL_cleanse(next, sizeof(next));
	return err;
}

static void nonce(const struct rec_dir *d, unsigned char out[IVLEN])
{
	memcpy(out, d->iv, IVLEN);
	for (int i = 0; i < 8; i++)
		out[IVLEN - 1 - i] ^= (unsigned char)(d->seq >> (8 * i));
}

/* Seals p[0..n) in place and appends the tag. */
static int aead_seal(struct rec_dir *d, const unsigned char *hdr, unsigned char *p, size_t n)
{
	unsigned char iv[IVLEN];
	int l = 0, l2 = 0;
	if (d->seq == UINT64_MAX)
		return -1;
	nonce(d, iv);
	if (EVP_EncryptInit_ex(d->ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(d->ctx, NULL, &l, hdr, HDR) != 1 ||
	    EVP_EncryptUpdate(d->ctx, p, &l, p, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(d->ctx, p + l, &l2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_GET_TAG, TAG, p + n) != 1)
		return -1;
	d->seq++;
	return 0;
}

/* Opens p[0..n) (tag included) in place; 0 when it authenticated. */
static int aead_open(struct rec_dir *d, const unsigned char *hdr, unsigned char *p, size_t n)
{
	unsigned char iv[IVLEN];
	int l = 0, l2 = 0;
	if (d->seq == UINT64_MAX)
		return -1;
	nonce(d, iv);
	if (EVP_DecryptInit_ex(d->ctx, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(d->ctx, NULL, &l, hdr, HDR) != 1 ||
	    EVP_DecryptUpdate(d->ctx, p, &l, p, (int)(n - TAG)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, TAG, p + n - TAG) != 1 ||
	    EVP_DecryptFinal_ex(d->ctx, p + l, &l2) != 1)
		return -1;
	d->seq++;
	return 0;
}

int tls_record_new(struct tls_record **out, int fd, uint16_t suite, const unsigned char *wsecret,
		   const unsigned char *rsecret, size_t hashlen)
{
	const struct suite *su = suite_find(suite);
	*out = NULL;
	if (!su)
		return -EOPNOTSUPP;
	if (hashlen != su->hashlen)
		return -EINVAL;
	struct tls_record *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->keylen = su->keylen;
	r->md = su->md;
	r->hashlen = su->hashlen;
	r->alert = -1;
	int err = -ENOMEM;
	r->in = malloc(IN_CAP);
	r->out = malloc(OUT_CAP);
	r->rd.ctx = EVP_CIPHER_CTX_new();
	r->wr.ctx = EVP_CIPHER_CTX_new();
	if (!r->in || !r->out || !r->rd.ctx || !r->wr.ctx)
		goto out;
	err = -EIO;
	r->cipher = EVP_CIPHER_fetch(NULL, su->cipher, NULL);
	if (!r->cipher || EVP_CIPHER_get_iv_length(r->cipher) != IVLEN)
		goto out;
	if (dir_set(r, &r->wr, wsecret, 1) || dir_set(r, &r->rd, rsecret, 0))
		goto out;
	err = 0;
	*out = r;
out:
	if (err)
		tls_record_free(r);
	return err;
}

void tls_record_free(struct tls_record *r)
{
	if (!r)
		return;
	EVP_CIPHER_CTX_free(r->rd.ctx);
	EVP_CIPHER_CTX_free(r->wr.ctx);
	EVP_CIPHER_free(r->cipher);
	if (r->in)
		OPENSSL_cleanse(r->in, IN_CAP);
	if (r->out)
		OPENSSL_cleanse(r->out, OUT_CAP);
	free(r->in);
	free(r->out);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

const char *tls_record_why(const struct tls_record *r)
{
	return r->why;
}

int tls_record_alert(const struct tls_record *r)
{
	return r->alert;
}

static const char *alert_name(int d)
{
	switch (d) {
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 80: return "internal_error";
	case 109: return "missing_extension";
	case 116: return "certificate_required";
	default: return "unknown";
	}
}

/* ---- reading ------------------------------------------------------------------------------ */

static int on_alert(struct tls_record *r, const unsigned char *p, size_t n)
{
	if (n != 2)
		return fail(r, "an alert of %zu bytes (decode_error)", n);
	if (p[1] == 0) { /* close_notify */
		r->eof = 1;
		return 1;
	}
	if (p[1] == 90) /* user_canceled: a close_notify follows */
		return 1;
	r->alert = p[1];
	return fail(r, "the peer sent the alert %s (%u)", alert_name(p[1]), p[1]);
}

/* Post-handshake messages: only KeyUpdate, whole in its record. */
static int on_handshake(struct tls_record *r, const unsigned char *p, size_t n)
{
	if (n < 1 || p[0] != HS_KEY_UPDATE)
		return fail(r, "unexpected post-handshake message (type %u; only KeyUpdate is accepted)",
			    n ? p[0] : 0);
	if (n != 5 || p[1] || p[2] || p[3] != 1 || p[4] > 1)
		return fail(r, "a malformed KeyUpdate (decode_error)");
	if (dir_update(r, &r->rd, 0))
		return fail(r, "cannot derive the peer's next traffic key (OpenSSL)");
	if (p[4])
		r->answer_update = 1; /* sent before our next data (§4.6.3) */
	return 1;
}

/* Opens the next whole record in `in`: 1 done, 0 more bytes needed,
 * -EPROTO. */
static int open_record(struct tls_record *r)
{
	size_t avail = r->in_len - r->in_off;
	if (avail < HDR)
		return 0;
	unsigned char *h = r->in + r->in_off;
	size_t len = (size_t)h[3] << 8 | h[4];
	if (h[0] != CT_APPDATA)
		return fail(r, "a record of type %u arrived unprotected after the handshake (unexpected_message)", h[0]);
	if (h[1] != 3 || h[2] != 3)
		return fail(r, "a record with version %02x%02x, not 0303 (protocol_version)", h[1], h[2]);
	if (len > MAX_CIPHER || len < TAG + 1)
		return fail(r, "a record of %zu bytes (record_overflow)", len);
	if (avail < HDR + len)
		return 0;
	unsigned char *p = h + HDR;
	if (aead_open(&r->rd, h, p, len))
		return fail(r, "a record failed authentication (bad_record_mac): it was altered, replayed, "
			       "reordered or sealed with another key");
	r->in_off += HDR + len;
	size_t n = len - TAG;
	while (n > 0 && p[n - 1] == 0)
		n--;
	if (n == 0)
		return fail(r, "a record without a content type (unexpected_message)");
	unsigned char type = p[--n];
	if (n > MAX_PLAIN)
		return fail(r, "a record with %zu bytes of data (record_overflow)", n);
	switch (type) {
	case CT_APPDATA:
		r->plain_off = (size_t)(p - r->in);
		r->plain_len = n;
		return 1;
	case CT_ALERT:
		return on_alert(r, p, n);
	case CT_HANDSHAKE:
		return on_handshake(r, p, n);
	default:
		return fail(r, "a record of content type %u after the handshake (unexpected_message)", type);
	}
}

ssize_t tls_record_read(struct tls_record *r, void *buf, size_t n, uint32_t *want)
{
	for (;;) {
		if (r->failed)
			return -EPROTO;
		if (r->plain_len) {
			size_t k = n < r->plain_len ? n : r->plain_len;
			memcpy(buf, r->in + r->plain_off, k);
			r->plain_off += k;
			r->plain_len -= k;
			return (ssize_t)k;
		}
		if (r->eof)
			return 0;
		int o = open_record(r);
		if (o < 0)
			return o;
		if (o > 0)
			continue;
		/* A partial record (or nothing) is left: move it to the front. */
		if (r->in_off) {
			memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
			r->in_len -= r->in_off;
			r->in_off = 0;
		}
		ssize_t got = read(r->fd, r->in + r->in_len, IN_CAP - r->in_len);
		if (got > 0) {
			r->in_len += (size_t)got;
			continue;
		}
		if (got == 0) {
			r->eof = 1; /* EOF without close_notify counts as the end too */
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*want = EPOLLIN;
			return -EAGAIN;
		}
		return -errno;
	}
}

int tls_record_pending(const struct tls_record *r)
{
	if (r->failed)
		return 0;
	if (r->plain_len)
		return 1;
	size_t avail = r->in_len - r->in_off;
	if (avail < HDR)
		return 0;
	const unsigned char *h = r->in + r->in_off;
	return avail >= HDR + ((size_t)h[3] << 8 | h[4]);
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Appends a record of type carrying data[0..n) (n <= MAX_PLAIN) to `out`. */
static int seal(struct tls_record *r, const void *data, size_t n, unsigned char type)
{
	unsigned char *h = r->out + r->out_len;
	size_t len = n + 1 + TAG;
	h[0] = CT_APPDATA;
	h[1] = 3;
	h[2] = 3;
	h[3] = (unsigned char)(len >> 8);
	h[4] = (unsigned char)len;
	unsigned char *p = h + HDR;
	memcpy(p, data, n);
	p[n] = type;
	if (aead_seal(&r->wr, h, p, n + 1))
		return fail(r, "cannot seal a record (OpenSSL)");
	r->out_len += HDR + len;
	return 0;
}

static int flush(struct tls_record *r, uint32_t *want)
{
	while (r->out_off < r->out_len) {
		ssize_t k = send(r->fd, r->out + r->out_off, r->out_len - r->out_off, MSG_NOSIGNAL);
		if (k > 0) {
			r->out_off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*want = EPOLLOUT;
			return -EAGAIN;
		}
		return k < 0 ? -errno : -EPIPE;
	}
	r->out_off = r->out_len = 0;
	return 0;
}

ssize_t tls_record_write(struct tls_record *r, const void *buf, size_t n, uint32_t *want)
{
	if (r->failed)
		return -EPROTO;
	if (r->out_off < r->out_len) {
		/* The caller retries with the same bytes: they are sealed already. */
		int err = flush(r, want);
		if (err)
			return err;
		size_t done = r->out_taken;
		r->out_taken = 0;
		return (ssize_t)done;
	}
	if (n == 0)
		return 0;
	r->out_off = r->out_len = 0;
	if (r->answer_update || r->wr.seq >= TLS_RECORD_REKEY) {
		static const unsigned char ku[] = { HS_KEY_UPDATE, 0, 0, 1, 0 }; /* update_not_requested */
		if (seal(r, ku, sizeof(ku), CT_HANDSHAKE))
			return -EPROTO;
		if (dir_update(r, &r->wr, 1))
			return fail(r, "cannot derive our next traffic key (OpenSSL)");
		r->answer_update = 0;
	}
	size_t take = n < WRITE_MAX ? n : WRITE_MAX;
	for (size_t off = 0; off < take; off += MAX_PLAIN) {
		size_t chunk = take - off < MAX_PLAIN ? take - off : MAX_PLAIN;
		if (seal(r, (const unsigned char *)buf + off, chunk, CT_APPDATA))
			return -EPROTO;
	}
	r->out_taken = take;
	int err = flush(r, want);
	if (err)
		return err;
	r->out_taken = 0;
	return (ssize_t)take;
}

void tls_record_close(struct tls_record *r)
{
	static const unsigned char close_notify[] = { 1, 0 };
	if (r->failed || r->out_off < r->out_len)
		return;
	r->out_off = r->out_len = 0;
	if (seal(r, close_notify, sizeof(close_notify), CT_ALERT))
		return;
	ssize_t k;
	do
		k = send(r->fd, r->out, r->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (k < 0 && errno == EINTR);
	r->out_off = r->out_len = 0;
}
