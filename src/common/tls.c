/* tls.c - the TLS transport's front (tls.h): modes, the plain connect
 * transport, TCP keepalive, and the loader of the OpenSSL half.
 *
 * Everything that needs OpenSSL lives in lnst-tls.so (tls_openssl.c),
 * loaded here on first use: a local agent, which never speaks TLS, then
 * never maps libssl or libcrypto (about 2 MB of its memory). The plugin is
 * looked for in $LNST_TLS_PLUGIN, next to the running executable, and in
 * ../lib/lnst/ from it.
 */
#include "tls.h"
#include "tls_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int tls_mode_parse(const char *s, enum tls_mode *out)
{
	if (strcmp(s, "none") == 0)
		*out = TLS_NONE;
	else if (strcmp(s, "psk") == 0)
		*out = TLS_PSK;
	else if (strcmp(s, "cert") == 0)
		*out = TLS_CERT;
	else
		return -EINVAL;
	return 0;
}

const char *tls_mode_name(enum tls_mode m)
{
	return m == TLS_PSK ? "psk" : m == TLS_CERT ? "cert" : "none";
}

/* OpenSSL's last error as text, or dflt; clears the queue. */


/* ---- plain connect --------------------------------------------------------------------- */

struct plain_connect {
	int fd;
	char peer[160];
	char why[256];
};

void *tls_connect_new(int fd, const char *peer)
{
	struct plain_connect *p = calloc(1, sizeof(*p));
	if (p) {
		p->fd = fd;
		snprintf(p->peer, sizeof(p->peer), "%s", peer);
	}
	return p;
}

static int plain_handshake(void *ctx, uint32_t *want)
{
	struct plain_connect *p = ctx;
	int r = tls_connect_done(p->fd, p->peer, p->why, sizeof(p->why));
	if (r == -EAGAIN)
		*want = EPOLLOUT;
	return r;
}

static const char *plain_why(void *ctx)
{
	return ((struct plain_connect *)ctx)->why;
}

const struct conn_io tls_connect_io = {
	.handshake = plain_handshake,
	.why = plain_why,
	.free = free,
};

int tls_tcp_keepalive(int fd, int timeout_s)
{
	int on = 1, idle = timeout_s / 3, intvl = timeout_s / 6, cnt = 3;
	unsigned int user = (unsigned int)timeout_s * 1000;
	if (idle < 1)
		idle = 1;
	if (intvl < 1)
		intvl = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user, sizeof(user)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		return -errno;
	return 0;
}

/* ---- key material ------------------------------------------------------------------------ */

/* ---- the OpenSSL half ------------------------------------------------------------------- */

static const struct tls_plugin *plugin;

static const struct tls_plugin *plugin_load(char *err, size_t errlen)
{
	if (plugin)
		return plugin;
	char self[PATH_MAX], cand[3][PATH_MAX + 32];
	int n = 0;
	const char *env = getenv("LNST_TLS_PLUGIN");
	if (env && *env)
		snprintf(cand[n++], sizeof(cand[0]), "%s", env);
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(cand[n++], sizeof(cand[0]), "%s/lnst-tls.so", self);
			snprintf(cand[n++], sizeof(cand[0]), "%s/../lib/lnst/lnst-tls.so", self);
		}
	}
	char why[512] = "no location to look in";
	for (int i = 0; i < n; i++) {
		void *h = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			snprintf(why, sizeof(why), "%.500s", dlerror());
			continue;
		}
		plugin = dlsym(h, "lnst_tls_plugin");
		if (plugin)
			return plugin;
		snprintf(why, sizeof(why), "%.400s has no lnst_tls_plugin", cand[i]);
		dlclose(h);
	}
	if (err)
		snprintf(err, errlen, "TLS is not available: cannot load lnst-tls.so (%s)", why);
	return NULL;
}

int tls_ctx_new(struct tls_ctx **out, const struct tls_conf *conf, int server, char *err,
		size_t errlen)
{
	const struct tls_plugin *p = plugin_load(err, errlen);
	return p ? p->ctx_new(out, conf, server, err, errlen) : -ENOSYS;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (t && plugin)
		plugin->ctx_free(t);
}

int tls_session_new(struct tls_ctx *t, int fd, int connecting, const char *peer, void **out)
{
	/* A context exists, so the plugin is loaded. */
	return plugin ? plugin->session_new(t, fd, connecting, peer, out) : -ENOSYS;
}

const char *tls_session_peer(void *session)
{
	return plugin->session_peer(session);
}

const char *tls_session_why(void *session)
{
	return plugin->session_why(session);
}

void tls_session_free(void *session)
{
	plugin->session_free(session);
}

static int io_handshake(void *ctx, uint32_t *want)
{
	return plugin->io->handshake(ctx, want);
}

static ssize_t io_read(void *ctx, void *buf, size_t n, uint32_t *want)
{
	return plugin->io->read(ctx, buf, n, want);
}

static ssize_t io_write(void *ctx, const void *buf, size_t n, uint32_t *want)
{
	return plugin->io->write(ctx, buf, n, want);
}

static int io_pending(void *ctx)
{
	return plugin->io->pending(ctx);
}

const struct conn_io tls_io = {
	.handshake = io_handshake,
	.read = io_read,
	.write = io_write,
	.pending = io_pending,
	.why = tls_session_why,
	.free = tls_session_free,
};

int tls_keygen_psk(const char *path, const char *identity, char *err, size_t errlen)
{
	const struct tls_plugin *p = plugin_load(err, errlen);
	return p ? p->keygen_psk(path, identity, err, errlen) : -ENOSYS;
}

int tls_keygen_cert(const char *key_path, const char *cert_path, const char *cn, int days,
		    char *err, size_t errlen)
{
	const struct tls_plugin *p = plugin_load(err, errlen);
	return p ? p->keygen_cert(key_path, cert_path, cn, days, err, errlen) : -ENOSYS;
}

int tls_key_fingerprint(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	const struct tls_plugin *p = plugin_load(err, errlen);
	return p ? p->key_fingerprint(path, out, outlen, err, errlen) : -ENOSYS;
}
