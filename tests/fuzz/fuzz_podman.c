/* fuzz_podman.c - fuzz target: what a Podman service answers.
 *
 * The input is sent verbatim, as the whole HTTP answer, by a fake service
 * (a thread on a Unix socket of a private directory) to a real request of
 * the client (src/podman/podman.c through libcurl: status line, headers,
 * Libpod-API-Version, chunked or sized bodies). The body it hands back is
 * then decoded as the podman provisioner sees it (lua_podman.c: JSON
 * through cJSON, pushed into Lua by lua_json.c) and converted back. The
 * client must give an answer or a transport error, never crash, hang or
 * read past the body. Built as a libFuzzer target (scripts/fuzz.sh) and as
 * a replay binary for ctest.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lua_json.h"
#include "podman.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[40], sock[80];
static int lfd = -1;
static struct podman *client;
static lua_State *L;

struct answer {
	const uint8_t *data;
	size_t size;
};

/* Serves one connection: reads the request head, answers, closes. */
static void *serve(void *ud)
{
	struct answer *a = ud;
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	char req[8192];
	size_t got = 0;
	while (got < sizeof(req) - 1) {
		ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	for (size_t off = 0; off < a->size;) {
		ssize_t n = write(c, a->data + off, a->size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(c);
	return NULL;
}

static void cleanup(void)
{
	if (client)
		podman_close(client);
	if (L)
		lua_close(L);
	unlink(sock);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lnst-fuzz-podman.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(sock, sizeof(sock), "%.39s/podman.sock", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		abort();
	char uri[160], err[256];
	snprintf(uri, sizeof(uri), "unix://%s", sock);
	if (podman_open(&client, uri, 2000, err, sizeof(err)))
		abort();
	L = luaL_newstate();
	if (!L)
		abort();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!client)
		setup();
	struct answer a = { data, size };
	pthread_t th;
	if (pthread_create(&th, NULL, serve, &a))
		abort();
	struct podman_req r = { .method = "GET", .path = "/containers/json" };
	int err = podman_batch(client, &r, 1);
	pthread_join(th, NULL);
	if (err)
		abort(); /* only a stop flag or ENOMEM end a batch early */
	if (memchr(r.version, 0, sizeof(r.version)) == NULL)
		abort();
	if (r.reply) {
		if (r.reply[r.reply_len] != 0)
			abort();
		cJSON *j = cJSON_ParseWithLength(r.reply, r.reply_len);
		if (j) {
			lj_push(L, j);
			char why[256];
			cJSON *back = lj_to_json(L, -1, why, sizeof(why));
			cJSON_Delete(back);
			lua_settop(L, 0);
			cJSON_Delete(j);
		}
	} else if (r.status && r.reply_len) {
		abort();
	}
	podman_req_clear(&r, 1);
	return 0;
}
