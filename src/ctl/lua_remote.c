/* lua_remote.c - the remote-agent part of `lnst.core` (lua_remote.h):
 * pools, configuration files, key fingerprints and the options of a TCP
 * connection to an agent. lua_core.c owns the connection objects and calls
 * lremote_open for core.connect_agent. */
#include "lua_remote.h"

#include <errno.h>
#include <lauxlib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "msg.h"
#include "pool.h"

static const char *opt_str(lua_State *L, int idx, const char *k);

static void set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void push_params(lua_State *L, const struct pool_param *p, size_t n)
{
	lua_createtable(L, 0, (int)n);
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, p[i].value);
		lua_setfield(L, -2, p[i].name);
	}
}

/* core.pool_load(dir) -> { dir, machines = { {id, file, hostname, port,
 * params, interfaces = { {id, label, hwaddr, params} }, security = {mode,
 * psk_file, pubkey}} } } sorted by id | nil, "FILE:LINE: ..." */
static int l_pool_load(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	struct pool p;
	char err[8192];
	if (pool_load(&p, dir, err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_newtable(L);
	set_str(L, "dir", p.dir);
	lua_createtable(L, (int)p.n, 0);
	for (size_t i = 0; i < p.n; i++) {
		const struct pool_machine *m = &p.machines[i];
		lua_newtable(L);
		set_str(L, "id", m->id);
		set_str(L, "file", m->file);
		set_str(L, "hostname", m->hostname);
		lua_pushinteger(L, m->port);
		lua_setfield(L, -2, "port");
		push_params(L, m->params, m->nparams);
		lua_setfield(L, -2, "params");
		lua_createtable(L, (int)m->nifaces, 0);
		for (size_t j = 0; j < m->nifaces; j++) {
			const struct pool_iface *f = &m->ifaces[j];
			lua_newtable(L);
			set_str(L, "id", f->id);
			set_str(L, "label", f->label);
			set_str(L, "hwaddr", f->hwaddr);
			push_params(L, f->params, f->nparams);
			lua_setfield(L, -2, "params");
			lua_rawseti(L, -2, (int)j + 1);
		}
		lua_setfield(L, -2, "interfaces");
		lua_newtable(L);
		set_str(L, "mode", tls_mode_name(m->mode));
		set_str(L, "psk_file", m->psk_file);
		set_str(L, "pubkey", m->pubkey);
		lua_setfield(L, -2, "security");
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "machines");
	pool_free(&p);
	return 1;
}

/* core.config_load(path, "controller"|"agent") -> { section = { name =
 * value } } with paths absolute, integers as numbers, booleans as booleans;
 * [pools] is a list { {name, dir, line} } in file order. | nil, "FILE:LINE: ..." */
static int l_config_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *kind = luaL_optstring(L, 2, "controller");
	const struct config_key *keys = !strcmp(kind, "agent") ? config_agent_keys : config_controller_keys;
	struct config c;
	char err[1024], buf[4096];
	if (config_load(&c, path, keys, err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_newtable(L);
	set_str(L, "file", c.path);
	for (size_t i = 0; i < c.n; i++) {
		const struct config_entry *e = &c.e[i];
		lua_getfield(L, -1, e->section);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, e->section);
		}
		const struct config_key *k = keys;
		while (k->section && (strcmp(k->section, e->section) ||
				      (strcmp(k->name, "*") && strcmp(k->name, e->name))))
			k++;
		if (!strcmp(e->section, "pools")) {
			lua_newtable(L);
			set_str(L, "name", e->name);
			set_str(L, "dir", config_path(&c, e->value, buf, sizeof(buf)));
			lua_pushinteger(L, e->line);
			lua_setfield(L, -2, "line");
			lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
		} else {
			int b;
			switch (k->type) {
			case CONFIG_INT: lua_pushinteger(L, atoi(e->value)); break;
			case CONFIG_BOOL: config_bool(e->value, &b); lua_pushboolean(L, b); break;
			case CONFIG_PATH: lua_pushstring(L, config_path(&c, e->value, buf, sizeof(buf))); break;
			default: lua_pushstring(L, e->value); break;
			}
			lua_setfield(L, -2, e->name);
		}
		lua_pop(L, 1);
	}
	config_free(&c);
	return 1;
}

/* core.key_fingerprint(path) -> "sha256:..." | nil, err */
static int l_key_fingerprint(lua_State *L)
{
	char out[128], err[512];
	if (tls_key_fingerprint(luaL_checkstring(L, 1), out, sizeof(out), err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushstring(L, out);
	return 1;
}

/* core.tcp_probe({ {host, port}, ... }, timeout_s) -> { true | "reason", ... }:
 * whether a TCP connection can be made to each, all tried at once. Nothing
 * is sent; the connections are closed at once. */
static int l_tcp_probe(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = (int)lua_objlen(L, 1), timeout = (int)(luaL_optnumber(L, 2, 3) * 1000);
	struct pollfd *pf = calloc((size_t)n + 1, sizeof(*pf));
	char (*why)[160] = calloc((size_t)n + 1, sizeof(*why));
	char *done = calloc((size_t)n + 1, 1);
	if (!pf || !why || !done) {
		free(pf);
		free(why);
		free(done);
		return luaL_error(L, "tcp_probe: out of memory");
	}
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, 1, i + 1);
		const char *host = opt_str(L, -1, "host");
		lua_getfield(L, -1, "port");
		char port[16];
		snprintf(port, sizeof(port), "%d", (int)lua_tointeger(L, -1));
		lua_pop(L, 2);
		pf[i].fd = -1;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
		int r = host ? getaddrinfo(host, port, &hints, &ai) : EAI_NONAME;
		if (r) {
			snprintf(why[i], sizeof(why[i]), "cannot resolve '%s': %s", host ? host : "?", gai_strerror(r));
			continue;
		}
		pf[i].fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		pf[i].events = POLLOUT;
		if (pf[i].fd < 0 || (connect(pf[i].fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
			snprintf(why[i], sizeof(why[i]), "%s", strerror(errno));
			if (pf[i].fd >= 0)
				close(pf[i].fd);
			pf[i].fd = -1;
		}
		freeaddrinfo(ai);
	}
	/* poll() rewrites revents each call: a finished socket leaves the set
	 * (negative fd) and keeps its result in done. */
	int64_t end = loop_now_ms() + timeout;
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < n; i++)
			waiting += pf[i].fd >= 0;
		int64_t left = end - loop_now_ms();
		if (!waiting || left <= 0)
			break;
		if (poll(pf, (nfds_t)n, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (pf[i].fd >= 0 && pf[i].revents) {
				done[i] = 1;
				pf[i].fd = -pf[i].fd - 1;
			}
		}
	}
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		int fd = done[i] ? -pf[i].fd - 1 : pf[i].fd;
		if (fd >= 0) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (!done[i])
				snprintf(why[i], sizeof(why[i]), "no answer within %.1f s", timeout / 1000.0);
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)
				snprintf(why[i], sizeof(why[i]), "%s", strerror(soerr ? soerr : errno));
			close(fd);
		}
		if (why[i][0])
			lua_pushstring(L, why[i]);
		else
			lua_pushboolean(L, 1);
		lua_rawseti(L, -2, i + 1);
	}
	free(pf);
	free(why);
	free(done);
	return 1;
}

/* core.mkdir(path) -> true | nil, err: creates path and its parents (0755). */
static int l_mkdir(lua_State *L)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", luaL_checkstring(L, 1));
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			lua_pushnil(L);
			lua_pushfstring(L, "cannot create %s: %s", p, strerror(errno));
			return 2;
		}
		*s = c;
		if (!c)
			break;
	}
	lua_pushboolean(L, 1);
	return 1;
}

void lremote_register(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "pool_load", l_pool_load },
		{ "config_load", l_config_load },
		{ "key_fingerprint", l_key_fingerprint },
		{ "tcp_probe", l_tcp_probe },
		{ "mkdir", l_mkdir },
		{ NULL, NULL },
	};
	luaL_register(L, NULL, funcs);
	lua_pushinteger(L, PROTO_VERSION);
	lua_setfield(L, -2, "PROTOCOL");
}

static const char *opt_str(lua_State *L, int idx, const char *k)
{
	lua_getfield(L, idx, k);
	const char *v = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
	lua_pop(L, 1); /* the table keeps the string alive */
	return v;
}

int lremote_open(lua_State *L, int idx, struct remote **out, struct agentconn *ac, struct loop *loop,
		 agentconn_event_cb cb, void *ud)
{
	struct remote_opts o = { 0 };
	char err[1024];
	o.name = opt_str(L, idx, "name");
	o.host = opt_str(L, idx, "host");
	o.what = opt_str(L, idx, "what");
	if (!o.name || !o.host)
		return luaL_error(L, "connect_agent: 'name' and 'host' are required");
	lua_getfield(L, idx, "port");
	o.port = lua_isnil(L, -1) ? 9999 : (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_getfield(L, idx, "timeout");
	o.timeout_ms = lua_isnil(L, -1) ? 0 : (int)(lua_tonumber(L, -1) * 1000);
	lua_pop(L, 1);
	const char *mode = opt_str(L, idx, "security");
	if (mode && tls_mode_parse(mode, &o.mode))
		return luaL_error(L, "%s: unknown security mode '%s' (known: none, psk, cert)", o.name, mode);
	o.psk_file = opt_str(L, idx, "psk_file");
	o.cert = opt_str(L, idx, "cert");
	o.key = opt_str(L, idx, "key");
	o.trust = opt_str(L, idx, "trust");
	if (o.port < 1 || o.port > 65535)
		return luaL_error(L, "%s: port %d is not a port number", o.name, o.port);
	if (remote_open(out, ac, loop, &o, cb, ud, err, sizeof(err)))
		return luaL_error(L, "%s", err);
	return 0;
}
