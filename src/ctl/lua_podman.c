/* lua_podman.c - the `lnst.podman_core` Lua module: the Podman REST client
 * (src/podman/podman.h), CNI conflists and the machine's CNI bridges
 * (src/podman/cni.h), as the podman provisioner (lua/lnst/podman.lua), the
 * image builder and `lnst cleanup` use them.
 *
 * Requests block the controller while they run (the event loop is not
 * turned), bounded by their timeout; a signal aborts them and raises the
 * usual "interrupted by SIGxxx" error, except during cleanup, when lnst.core
 * holds signals back (core.guard). A watch on the service (client:watch)
 * lives in the controller's event loop instead: the service's going ends
 * the run's waits.
 */
#include "lua_podman.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentconn.h"
#include "cni.h"
#include "loop.h"
#include "lua_core.h"
#include "lua_json.h"
#include "podman.h"

#define CLIENT_MT "lnst.podman_core.client"
#define LOCK_MT "lnst.podman_core.lock"
#define WATCH_MT "lnst.podman_core.watch"

struct lclient {
	struct podman *p;
};

static struct podman *check_client(lua_State *L)
{
	struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
	if (!c->p)
		luaL_error(L, "the Podman client is closed");
	return c->p;
}

/* pc.client(uri, timeout_s) -> client; a malformed URI raises. */
static int l_client(lua_State *L)
{
	const char *uri = luaL_optstring(L, 1, PODMAN_URI_DEFAULT);
	double timeout = luaL_optnumber(L, 2, 30);
	struct lclient *c = lua_newuserdata(L, sizeof(*c));
	c->p = NULL;
	luaL_getmetatable(L, CLIENT_MT);
	lua_setmetatable(L, -2);
	char err[512];
	if (podman_open(&c->p, uri, (int)(timeout * 1000), err, sizeof(err)))
		return luaL_error(L, "%s", err);
	podman_set_stop(c->p, &ctl_interrupted);
	return 1;
}

/* Reads a request description { method, path, body, timeout, upload } from
 * the table at idx; body is a table (sent as JSON) or a string. The JSON
 * text is left on the stack (it must live until the request is done). */
static void read_req(lua_State *L, int idx, struct podman_req *r)
{
	memset(r, 0, sizeof(*r));
	luaL_checkstack(L, 4, "too many Podman requests at once");
	lua_rawgeti(L, idx, 1);
	lua_rawgeti(L, idx, 2);
	if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "a Podman request is { method, path, body = ... }");
	r->method = lua_tostring(L, -2);
	r->path = lua_tostring(L, -1);
	lua_pop(L, 2); /* the strings stay alive in the table */
	lua_getfield(L, idx, "timeout");
	if (lua_isnumber(L, -1))
		r->timeout_ms = (int)(lua_tonumber(L, -1) * 1000);
	lua_pop(L, 1);
	lua_getfield(L, idx, "upload");
	r->upload = lua_tostring(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, idx, "body");
	if (lua_istable(L, -1)) {
		char err[256];
		cJSON *j = lj_to_json(L, lua_gettop(L), err, sizeof(err));
		if (!j)
			luaL_error(L, "podman %s %s: bad body: %s", r->method, r->path, err);
		char *s = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
		lua_pop(L, 1);
		lua_pushstring(L, s ? s : "");
		cJSON_free(s);
	}
	r->body = lua_tostring(L, -1); /* kept on the stack */
}

/* Pushes an answer's body: decoded JSON, or the raw bytes. */
static void push_body(lua_State *L, const struct podman_req *r)
{
	if (!r->reply) {
		lua_pushnil(L);
		return;
	}
	const char *s = r->reply;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	if (*s == '{' || *s == '[' || *s == '"') {
		cJSON *j = cJSON_ParseWithLength(r->reply, r->reply_len);
		if (j) {
			lj_push(L, j);
			cJSON_Delete(j);
			return;
		}
	}
	lua_pushlstring(L, r->reply, r->reply_len);
}

static int raise_stop(lua_State *L, struct podman_req *reqs, size_t n)
{
	podman_req_clear(reqs, n);
	free(reqs);
	const char *lost = agentconn_abort_reason();
	if (ctl_interrupted < 0 && lost) /* a run's agent was lost (agentconn.h) */
		return luaL_error(L, "%s", lost);
	return luaL_error(L, "interrupted by SIG%s", sigabbrev_np(ctl_interrupted) ?: "?");
}

/* client:batch({ {method, path, body=, timeout=, upload=}, ... }) ->
 * { {status=, body=, err=, version=}, ... } in the same order; the requests
 * run at once. status is 0 (and err says why) when no answer came; version
 * is the service's Libpod-API-Version header. */
static int l_batch(lua_State *L)
{
	struct podman *p = check_client(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	size_t n = lua_objlen(L, 2);
	struct podman_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	if (!reqs)
		return luaL_error(L, "out of memory");
	int base = lua_gettop(L);
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, 2, (int)i + 1);
		luaL_checktype(L, -1, LUA_TTABLE);
		read_req(L, lua_gettop(L), &reqs[i]);
	}
	int r = podman_batch(p, reqs, n);
	if (r == -EINTR)
		return raise_stop(L, reqs, n);
	lua_settop(L, base);
	if (r) {
		podman_req_clear(reqs, n);
		free(reqs);
		return luaL_error(L, "podman: %s", strerror(-r));
	}
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, reqs[i].status);
		lua_setfield(L, -2, "status");
		push_body(L, &reqs[i]);
		lua_setfield(L, -2, "body");
		if (!reqs[i].status) {
			lua_pushstring(L, reqs[i].err);
			lua_setfield(L, -2, "err");
		}
		if (reqs[i].version[0]) {
			lua_pushstring(L, reqs[i].version);
			lua_setfield(L, -2, "version");
		}
		lua_rawseti(L, -2, (int)i + 1);
	}
	podman_req_clear(reqs, n);
	free(reqs);
	return 1;
}

/* client:request(method, path, body, opts) -> status, body, err, version
 * (status 0 and err when no answer came) */
static int l_request(lua_State *L)
{
	struct podman *p = check_client(L);
	lua_settop(L, 5);
	struct podman_req *r = calloc(1, sizeof(*r));
	if (!r)
		return luaL_error(L, "out of memory");
	lua_createtable(L, 2, 3);
	int t = lua_gettop(L);
	lua_pushvalue(L, 2);
	lua_rawseti(L, t, 1);
	lua_pushvalue(L, 3);
	lua_rawseti(L, t, 2);
	lua_pushvalue(L, 4);
	lua_setfield(L, t, "body");
	if (lua_istable(L, 5)) {
		lua_getfield(L, 5, "timeout");
		lua_setfield(L, t, "timeout");
		lua_getfield(L, 5, "upload");
		lua_setfield(L, t, "upload");
	}
	read_req(L, t, r);
	int e = podman_batch(p, r, 1);
	if (e == -EINTR)
		return raise_stop(L, r, 1);
	if (e) {
		free(r);
		return luaL_error(L, "podman: %s", strerror(-e));
	}
	lua_pushinteger(L, r->status);
	push_body(L, r);
	lua_pushstring(L, r->err);
	lua_pushstring(L, r->version);
	podman_req_clear(r, 1);
	free(r);
	return 4;
}

static int l_uri(lua_State *L)
{
	lua_pushstring(L, podman_uri(check_client(L)));
	return 1;
}

static int l_is_unix(lua_State *L)
{
	lua_pushboolean(L, podman_is_unix(check_client(L)));
	return 1;
}

static int l_host(lua_State *L)
{
	lua_pushstring(L, podman_host(check_client(L)));
	return 1;
}

static int l_close(lua_State *L)
{
	struct lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
	podman_close(c->p);
	c->p = NULL;
	return 0;
}

/* ---- watching the service ------------------------------------------------------ */

struct lwatch {
	struct podman_watch *w; /* NULL once closed */
	char what[256];         /* the error when the service goes */
	char gone[256];         /* how it went, "" while it lives */
};

/* The service's answer goes on, or ends: then the run ends with what. */
static void on_watch(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)events;
	struct lwatch *lw = ud;
	char msg[600];
	if (!podman_watch_drain(lw->w, lw->gone, sizeof(lw->gone)))
		return;
	loop_del(l, fd);
	snprintf(msg, sizeof(msg), "%s (%s)", lw->what, lw->gone);
	agentconn_abort(msg);
}

/* client:watch(path, what) -> watch | nil, err: a streaming GET (an event
 * stream) watched by the controller's event loop; when the service ends it,
 * every wait ends with the error "WHAT (how it ended)", as when a run's
 * agent is lost (agentconn_abort). */
static int l_watch(lua_State *L)
{
	struct podman *p = check_client(L);
	const char *path = luaL_checkstring(L, 2), *what = luaL_checkstring(L, 3);
	struct lwatch *lw = lua_newuserdata(L, sizeof(*lw));
	memset(lw, 0, sizeof(*lw));
	luaL_getmetatable(L, WATCH_MT);
	lua_setmetatable(L, -2);
	snprintf(lw->what, sizeof(lw->what), "%s", what);
	char err[512];
	if (podman_watch_open(p, path, &lw->w, err, sizeof(err))) {
		lw->w = NULL;
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (loop_add(core_loop(), podman_watch_fd(lw->w), EPOLLIN, on_watch, lw)) {
		podman_watch_close(lw->w);
		lw->w = NULL;
		lua_pushnil(L);
		lua_pushstring(L, "cannot add the watch to the event loop");
		return 2;
	}
	return 1;
}

/* watch:gone() -> how the service's answer ended | nil while it goes on */
static int l_watch_gone(lua_State *L)
{
	struct lwatch *lw = luaL_checkudata(L, 1, WATCH_MT);
	if (!lw->gone[0])
		return 0;
	lua_pushstring(L, lw->gone);
	return 1;
}

static int l_watch_close(lua_State *L)
{
	struct lwatch *lw = luaL_checkudata(L, 1, WATCH_MT);
	if (!lw->w)
		return 0;
	if (!lw->gone[0])
		loop_del(core_loop(), podman_watch_fd(lw->w));
	podman_watch_close(lw->w);
	lw->w = NULL;
	return 0;
}

/* ---- CNI and bridges ---------------------------------------------------------- */

static int fail(lua_State *L, const char *err, int code)
{
	lua_pushnil(L);
	lua_pushstring(L, err);
	lua_pushstring(L, strerrorname_np(-code) ?: "EIO");
	return 3;
}

/* pc.cni_write(dir, name, bridge, labels) -> true | nil, err, "EEXIST" */
static int l_cni_write(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
	const char *bridge = luaL_checkstring(L, 3);
	char err[512];
	cJSON *labels = NULL;
	if (!lua_isnoneornil(L, 4)) {
		labels = lj_to_json(L, 4, err, sizeof(err));
		if (!labels)
			return luaL_error(L, "CNI network %s: bad labels: %s", name, err);
	}
	int r = cni_write(dir, name, bridge, labels, err, sizeof(err));
	cJSON_Delete(labels);
	if (r)
		return fail(L, err, r);
	lua_pushboolean(L, 1);
	return 1;
}

/* pc.cni_read(dir, name) -> { bridge=, labels= } | nil, err */
static int l_cni_read(lua_State *L)
{
	char err[512], *bridge;
	cJSON *labels;
	int r = cni_read(luaL_checkstring(L, 1), luaL_checkstring(L, 2), &bridge, &labels, err, sizeof(err));
	if (r)
		return fail(L, err, r);
	lua_createtable(L, 0, 2);
	if (bridge) {
		lua_pushstring(L, bridge);
		lua_setfield(L, -2, "bridge");
	}
	if (labels) {
		lj_push(L, labels);
		lua_setfield(L, -2, "labels");
	}
	free(bridge);
	cJSON_Delete(labels);
	return 1;
}

static int l_cni_remove(lua_State *L)
{
	char err[512];
	int r = cni_remove(luaL_checkstring(L, 1), luaL_checkstring(L, 2), err, sizeof(err));
	if (r)
		return fail(L, err, r);
	lua_pushboolean(L, 1);
	return 1;
}

static int push_list(lua_State *L, cJSON *list, const char *err)
{
	if (!list)
		return fail(L, err, -EIO);
	lj_push(L, list);
	cJSON_Delete(list);
	return 1;
}

/* pc.cni_list(dir, prefix) -> { name, ... } | nil, err */
static int l_cni_list(lua_State *L)
{
	char err[512];
	lua_settop(L, 2);
	cJSON *l = cni_list(luaL_checkstring(L, 1), luaL_optstring(L, 2, ""), err, sizeof(err));
	if (l && cJSON_GetArraySize(l) == 0) {
		cJSON_Delete(l);
		lua_newtable(L);
		return 1;
	}
	return push_list(L, l, err);
}

/* pc.bridge_del(name) -> true | nil, err, "ENODEV" */
static int l_bridge_del(lua_State *L)
{
	char err[512];
	int r = cni_bridge_del(luaL_checkstring(L, 1), err, sizeof(err));
	if (r)
		return fail(L, err, r);
	lua_pushboolean(L, 1);
	return 1;
}

/* pc.links(prefix) -> { name, ... } | nil, err: this namespace's links */
static int l_links(lua_State *L)
{
	char err[512];
	cJSON *l = cni_links(luaL_optstring(L, 1, ""), err, sizeof(err));
	if (l && cJSON_GetArraySize(l) == 0) {
		cJSON_Delete(l);
		lua_newtable(L);
		return 1;
	}
	return push_list(L, l, err);
}

/* ---- run locks: a run holds its lock file while it lives ------------------------- */

struct llock {
	int fd;
};

/* pc.lock(path) -> lock | nil, err: creates path and holds an exclusive
 * flock on it until lock:release() (or the process ends, however). */
static int l_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot lock %s: %s", path, strerror(e));
		return 2;
	}
	struct llock *k = lua_newuserdata(L, sizeof(*k));
	k->fd = fd;
	luaL_getmetatable(L, LOCK_MT);
	lua_setmetatable(L, -2);
	return 1;
}

static int l_lock_release(lua_State *L)
{
	struct llock *k = luaL_checkudata(L, 1, LOCK_MT);
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	return 0;
}

/* pc.probe_lock(path) -> "held" | "free" | "missing" */
static int l_probe_lock(lua_State *L)
{
	int fd = open(luaL_checkstring(L, 1), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		lua_pushstring(L, "missing");
		return 1;
	}
	int held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	lua_pushstring(L, held ? "held" : "free");
	return 1;
}

/* pc.mkdir(path, mode) -> true | nil, err, "EEXIST" */
static int l_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	if (mkdir(path, (mode_t)luaL_optinteger(L, 2, 0700)) < 0) {
		int e = errno;
		lua_pushnil(L);
		lua_pushfstring(L, "cannot create %s: %s", path, strerror(e));
		lua_pushstring(L, strerrorname_np(e) ?: "EIO");
		return 3;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* pc.remove_tree(path) -> true | nil, err: removes a directory and what it
 * holds, without following symlinks or crossing into other file systems. */
static int l_remove_tree(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT) {
		int e = errno;
		lua_pushnil(L);
		lua_pushfstring(L, "cannot remove %s: %s", path, strerror(e));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* pc.list_dir(path) -> { name, ... } (sorted by the caller) | nil, err */
static int l_list_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	DIR *d = opendir(path);
	if (!d) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot list %s: %s", path, strerror(errno));
		return 2;
	}
	lua_newtable(L);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	return 1;
}

/* pc.write_private(path, text) -> true | nil, err: a new file of mode 0600
 * (key material; an existing file is an error). */
static int l_write_private(lua_State *L)
{
	size_t n;
	const char *path = luaL_checkstring(L, 1), *text = luaL_checklstring(L, 2, &n);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot write %s: %s", path, strerror(e));
		return 2;
	}
	close(fd);
	lua_pushboolean(L, 1);
	return 1;
}

/* pc.self_exe() -> the path of the running lnst binary (image builds copy it) */
static int l_self_exe(lua_State *L)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0)
		return luaL_error(L, "cannot read /proc/self/exe: %s", strerror(errno));
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

int luaopen_lnst_podman_core(lua_State *L)
{
	static const luaL_Reg client_methods[] = {
		{ "request", l_request }, { "batch", l_batch }, { "uri", l_uri },
		{ "is_unix", l_is_unix }, { "host", l_host },   { "close", l_close },
		{ "watch", l_watch },     { NULL, NULL },
	};
	static const luaL_Reg watch_methods[] = {
		{ "gone", l_watch_gone }, { "close", l_watch_close }, { NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "client", l_client },         { "cni_write", l_cni_write }, { "cni_read", l_cni_read },
		{ "cni_remove", l_cni_remove }, { "cni_list", l_cni_list },   { "bridge_del", l_bridge_del },
		{ "links", l_links },           { "lock", l_lock },           { "probe_lock", l_probe_lock },
		{ "self_exe", l_self_exe },     { "mkdir", l_mkdir },         { "remove_tree", l_remove_tree },
		{ "list_dir", l_list_dir },     { "write_private", l_write_private },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, CLIENT_MT);
	lua_newtable(L);
	luaL_register(L, NULL, client_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_close);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, WATCH_MT);
	lua_newtable(L);
	luaL_register(L, NULL, watch_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_watch_close);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, LOCK_MT);
	lua_newtable(L);
	lua_pushcfunction(L, l_lock_release);
	lua_setfield(L, -2, "release");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_lock_release);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_register(L, NULL, funcs);
	lua_pushstring(L, PODMAN_URI_DEFAULT);
	lua_setfield(L, -2, "URI_DEFAULT");
	lua_pushstring(L, CNI_DIR_DEFAULT);
	lua_setfield(L, -2, "CNI_DIR");
#ifdef LNST_SOURCE_DIR
	lua_pushstring(L, LNST_SOURCE_DIR);
	lua_setfield(L, -2, "SOURCE_DIR");
#endif
	return 1;
}
