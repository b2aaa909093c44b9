/* podman.c - the Podman REST client (podman.h). */
#include "podman.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

struct podman {
	char *uri;
	char *base;      /* http://HOST:PORT, or http://d for a Unix socket */
	char *sock;      /* Unix socket path, or NULL */
	char *host;      /* tcp host ("" for Unix sockets) */
	int timeout_ms;
	CURLM *multi;    /* holds the connection cache between batches */
	volatile sig_atomic_t *stop;
};

struct transfer {
	struct podman_req *req;
	CURL *easy;
	struct curl_slist *headers;
	FILE *in;
	char *buf;
	size_t len, cap;
	char curl_err[CURL_ERROR_SIZE];
};

static int curl_ready;

static int set_err(char *err, size_t errlen, int code, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return code;
}

/* tcp://HOST:PORT, HOST may be [IPv6]. */
static int parse_tcp(struct podman *p, const char *rest, char *err, size_t errlen)
{
	const char *colon = rest[0] == '[' ? strstr(rest, "]:") : strrchr(rest, ':');
	if (colon && rest[0] == '[')
		colon++;
	if (!colon || colon == rest || !colon[1] || strchr(colon + 1, '/'))
		return set_err(err, errlen, -EINVAL, "Podman URI tcp://%s: give tcp://HOST:PORT", rest);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return set_err(err, errlen, -EINVAL, "Podman URI tcp://%s: the port must be 1-65535", rest);
	size_t n = strlen(rest) + 8;
	p->base = malloc(n);
	p->host = strndup(rest[0] == '[' ? rest + 1 : rest,
			  (size_t)(colon - rest) - (rest[0] == '[' ? 2 : 0));
	if (!p->base || !p->host)
		return -ENOMEM;
	snprintf(p->base, n, "http://%s", rest);
	return 0;
}

int podman_open(struct podman **out, const char *uri, int timeout_ms, char *err, size_t errlen)
{
	int r = -ENOMEM;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return set_err(err, errlen, -EIO, "%s", "cannot initialise libcurl");
		curl_ready = 1;
	}
	struct podman *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	p->uri = strdup(uri);
	if (!p->uri)
		goto fail;
	if (strncmp(uri, "unix://", 7) == 0 || strncmp(uri, "unix:/", 6) == 0) {
		const char *path = uri[5] == '/' && uri[6] == '/' ? uri + 7 : uri + 5;
		if (path[0] != '/') {
			r = set_err(err, errlen, -EINVAL,
				    "Podman URI %s: a Unix socket needs an absolute path (unix:///run/podman/podman.sock)", uri);
			goto fail;
		}
		p->sock = strdup(path);
		p->base = strdup("http://d");
		p->host = strdup("");
		if (!p->sock || !p->base || !p->host)
			goto fail;
	} else if (strncmp(uri, "tcp://", 6) == 0) {
		r = parse_tcp(p, uri + 6, err, errlen);
		if (r)
			goto fail;
	} else {
		r = set_err(err, errlen, -EINVAL,
			    "Podman URI '%s': give unix:///PATH (the service's socket) or tcp://HOST:PORT", uri);
		goto fail;
	}
	p->multi = curl_multi_init();
	if (!p->multi)
		goto fail;
	*out = p;
	return 0;
fail:
	if (r == -ENOMEM)
		set_err(err, errlen, r, "%s", "out of memory");
	podman_close(p);
	return r;
}

void podman_set_stop(struct podman *p, volatile sig_atomic_t *stop)
{
	p->stop = stop;
}

const char *podman_uri(const struct podman *p)
{
	return p->uri;
}

int podman_is_unix(const struct podman *p)
{
	return p->sock != NULL;
}

const char *podman_host(const struct podman *p)
{
	return p->host;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	size_t n = size * nmemb;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *nb = realloc(t->buf, cap);
		if (!nb)
			return 0; /* curl reports a write error */
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = 0;
	return n;
}

/* Keeps the service's version from the Libpod-API-Version header. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct podman_req *r = ((struct transfer *)ud)->req;
	size_t n = size * nmemb;
	static const char name[] = "libpod-api-version:";
	if (n > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		const char *v = data + sizeof(name) - 1;
		size_t len = n - (sizeof(name) - 1);
		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		snprintf(r->version, sizeof(r->version), "%.*s", (int)len, v);
	}
	return n;
}

static int transfer_setup(struct podman *p, struct transfer *t)
{
	struct podman_req *r = t->req;
	char url[4096];
	if (snprintf(url, sizeof(url), "%s%s%s", p->base, PODMAN_API_PREFIX, r->path) >= (int)sizeof(url)) {
		snprintf(r->err, sizeof(r->err), "request path too long");
		return -EINVAL;
	}
	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	CURL *e = t->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (p->sock)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, p->sock);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms > 0 ? r->timeout_ms : p->timeout_ms));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_err);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	/* No 1 s wait for "100 Continue" before large bodies. */
	t->headers = curl_slist_append(NULL, "Expect:");
	if (r->upload) {
		struct stat st;
		t->in = fopen(r->upload, "rbe");
		if (!t->in || fstat(fileno(t->in), &st) < 0) {
			snprintf(r->err, sizeof(r->err), "cannot read %s: %s", r->upload, strerror(errno));
			return -errno;
		}
		t->headers = curl_slist_append(t->headers, "Content-Type: application/x-tar");
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READDATA, t->in);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (r->body) {
		t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	if (!t->headers)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	return 0;
}

static void transfer_done(struct podman *p, struct transfer *t, CURLcode code)
{
	struct podman_req *r = t->req;
	long oserr = 0;
	if (code == CURLE_OK) {
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
		r->reply = t->buf;
		r->reply_len = t->len;
		t->buf = NULL;
		r->err[0] = 0;
	} else if (r->err[0]) {
		/* set before the transfer started */
	} else if (p->sock && code == CURLE_COULDNT_CONNECT &&
		   curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr) {
		/* curl speaks of "d port 80"; say which socket */
		snprintf(r->err, sizeof(r->err), "cannot connect to %s: %s", p->sock, strerror((int)oserr));
	} else {
		snprintf(r->err, sizeof(r->err), "%s", t->curl_err[0] ? t->curl_err : curl_easy_strerror(code));
	}
}

static void transfer_free(struct podman *p, struct transfer *t)
{
	if (t->easy) {
		curl_multi_remove_handle(p->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	curl_slist_free_all(t->headers);
	if (t->in)
		fclose(t->in);
	free(t->buf);
}

void podman_req_clear(struct podman_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(reqs[i].reply);
		reqs[i].reply = NULL;
		reqs[i].reply_len = 0;
		reqs[i].status = 0;
		reqs[i].err[0] = 0;
	}
}

int podman_batch(struct podman *p, struct podman_req *reqs, size_t n)
{
	struct transfer *ts = calloc(n ? n : 1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	int ret = 0, running = 0;
	for (size_t i = 0; i < n; i++) {
		ts[i].req = &reqs[i];
		reqs[i].status = 0;
		reqs[i].reply = NULL;
		reqs[i].reply_len = 0;
		reqs[i].err[0] = 0;
		reqs[i].version[0] = 0;
		int e = transfer_setup(p, &ts[i]);
		if (e == -ENOMEM) {
			ret = -ENOMEM;
			goto out;
		}
		if (e)
			continue; /* its err says why */
		if (curl_multi_add_handle(p->multi, ts[i].easy) != CURLM_OK) {
			ret = -ENOMEM;
			goto out;
		}
	}
	do {
		if (curl_multi_perform(p->multi, &running) != CURLM_OK) {
			ret = -EIO;
			break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(p->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct transfer *t;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			transfer_done(p, t, m->data.result);
		}
		if (!running)
			break;
		if (p->stop && *p->stop) {
			ret = -EINTR;
			break;
		}
		curl_multi_poll(p->multi, NULL, 0, 100, NULL);
	} while (1);
out:
	for (size_t i = 0; i < n; i++) {
		if (ret && !reqs[i].status && !reqs[i].err[0])
			snprintf(reqs[i].err, sizeof(reqs[i].err), "%s",
				 ret == -EINTR ? "interrupted" : strerror(-ret));
		transfer_free(p, &ts[i]);
	}
	free(ts);
	return ret;
}

void podman_close(struct podman *p)
{
	if (!p)
		return;
	if (p->multi)
		curl_multi_cleanup(p->multi);
	free(p->uri);
	free(p->base);
	free(p->sock);
	free(p->host);
	free(p);
}

/* ---- watches (podman_watch_open) ---- */

struct podman_watch {
	CURL *easy; /* a connect-only handle: owns the socket */
	curl_socket_t fd;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events: 0, -ETIMEDOUT past the deadline. */
static int wait_fd(curl_socket_t fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = { .fd = fd, .events = events };
		int r = poll(&pf, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Sends the request and reads the answer's headers: 0 when it is a 200. */
static int watch_start(struct podman *p, struct podman_watch *w, const char *req, size_t n, char *err,
		       size_t errlen)
{
	int64_t deadline = now_ms() + p->timeout_ms;
	char head[4096];
	size_t sent = 0, len = 0, k;
	CURLcode c;
	int r;
	while (sent < n) {
		c = curl_easy_send(w->easy, req + sent, n - sent, &k);
		if (c == CURLE_AGAIN) {
			if ((r = wait_fd(w->fd, POLLOUT, deadline)))
				return set_err(err, errlen, r, "cannot send the request: %s", strerror(-r));
			continue;
		}
		if (c != CURLE_OK)
			return set_err(err, errlen, -EIO, "cannot send the request: %s", curl_easy_strerror(c));
		sent += k;
	}
	for (;;) {
		c = curl_easy_recv(w->easy, head + len, sizeof(head) - 1 - len, &k);
		if (c == CURLE_AGAIN) {
			if ((r = wait_fd(w->fd, POLLIN, deadline)))
				return set_err(err, errlen, r, "no answer: %s", strerror(-r));
			continue;
		}
		if (c != CURLE_OK)
			return set_err(err, errlen, -EIO, "no answer: %s", curl_easy_strerror(c));
		if (k == 0)
			return set_err(err, errlen, -ECONNRESET, "%s", "the service closed the connection without an answer");
		len += k;
		head[len] = 0;
		if (strstr(head, "\r\n\r\n"))
			break;
		if (len == sizeof(head) - 1)
			return set_err(err, errlen, -EPROTO, "%s", "the answer's headers are too long");
	}
	int status = 0;
	if (sscanf(head, "HTTP/%*d.%*d %d", &status) == 1 && status == 200)
		return 0;
	head[strcspn(head, "\r\n")] = 0;
	return set_err(err, errlen, -EPROTO, "the service answered '%.200s'", head);
}

int podman_watch_open(struct podman *p, const char *path, struct podman_watch **out, char *err, size_t errlen)
{
	char url[4096], req[4400], curl_err[CURL_ERROR_SIZE] = "";
	int r = -ENOMEM;
	struct podman_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return set_err(err, errlen, -ENOMEM, "%s", "out of memory");
	w->fd = CURL_SOCKET_BAD;
	int n = snprintf(req, sizeof(req), "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lnst\r\n\r\n",
			 PODMAN_API_PREFIX, path, p->base + strlen("http://"));
	if (n >= (int)sizeof(req) ||
	    snprintf(url, sizeof(url), "%s%s%s", p->base, PODMAN_API_PREFIX, path) >= (int)sizeof(url)) {
		r = set_err(err, errlen, -EINVAL, "%s", "request path too long");
		goto fail;
	}
	w->easy = curl_easy_init();
	if (!w->easy) {
		set_err(err, errlen, r, "%s", "out of memory");
		goto fail;
	}
	curl_easy_setopt(w->easy, CURLOPT_URL, url);
	if (p->sock)
		curl_easy_setopt(w->easy, CURLOPT_UNIX_SOCKET_PATH, p->sock);
	curl_easy_setopt(w->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "http");
	CURLcode c = curl_easy_perform(w->easy);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, NULL); /* curl_err goes out of scope */
	long oserr = 0;
	if (c != CURLE_OK) {
		r = -ECONNREFUSED;
		if (p->sock && c == CURLE_COULDNT_CONNECT &&
		    curl_easy_getinfo(w->easy, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr)
			snprintf(err, errlen, "cannot connect to %s: %s", p->sock, strerror((int)oserr));
		else
			snprintf(err, errlen, "%s", curl_err[0] ? curl_err : curl_easy_strerror(c));
		goto fail;
	}
	if (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &w->fd) != CURLE_OK || w->fd == CURL_SOCKET_BAD) {
		r = set_err(err, errlen, -EIO, "%s", "libcurl gave no socket");
		goto fail;
	}
	if ((r = watch_start(p, w, req, (size_t)n, err, errlen)))
		goto fail;
	*out = w;
	return 0;
fail:
	podman_watch_close(w);
	return r;
}

int podman_watch_fd(const struct podman_watch *w)
{
	return (int)w->fd;
}

int podman_watch_drain(struct podman_watch *w, char *why, size_t whylen)
{
	char buf[4096];
	for (;;) {
		size_t k = 0;
		CURLcode c = curl_easy_recv(w->easy, buf, sizeof(buf), &k);
		if (c == CURLE_AGAIN)
			return 0;
		if (c != CURLE_OK) {
			snprintf(why, whylen, "%s", curl_easy_strerror(c));
			return 1;
		}
		if (k == 0) {
			snprintf(why, whylen, "it closed the connection");
			return 1;
		}
	}
}

void podman_watch_close(struct podman_watch *w)
{
	if (!w)
		return;
	if (w->easy)
		curl_easy_cleanup(w->easy);
	free(w);
}
