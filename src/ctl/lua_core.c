/* lua_core.c - bindings of the `lnst.core` module (lua_core.h).
 *
 * This is the only place where Lua meets the controller engine. Blocking
 * calls (waiting for a reply, sleeping) run the event loop, so events from
 * every agent are delivered to their Lua handlers meanwhile; handlers must not
 * block, and an attempt to is an error. Every error raised here names the host
 * and what failed.
 */
#include "lua_core.h"

#include <errno.h>
#include <lauxlib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentconn.h"
#include "fabric.h"
#include "literal.h"
#include "lua_json.h"
#include "lua_remote.h"
#include "repl.h"
#include "spawn.h"

#define CONN_MT "lnst.core.conn"
#define FABRIC_MT "lnst.core.fabric"

struct core_ctx {
	struct loop *loop;
	lua_State *L;
	int in_event;
	int guard;         /* cleanup in progress: signals are only counted */
	int guard_signals;
	int last_signal;
};

static struct core_ctx ctx;

struct lconn {
	struct agentconn ac;
	pid_t pid;
	int open;
	int handler; /* registry ref of the event handler, or LUA_NOREF */
	struct remote *remote; /* TCP agents (connect_agent), else NULL */
	int exec_fd; /* local agents: tells whether the exec failed, or -1 */
};

struct loop *core_loop(void)
{
	return ctx.loop;
}

/* ---- signals ---------------------------------------------------------- */

/* A signal, or the loss of a run's agent (agentconn_set_critical). Raised
 * without a position: it happened to the run, not at the Lua line that
 * was waiting (the traceback has that). */
static void interrupt_error(lua_State *L)
{
	const char *lost = agentconn_abort_reason();
	if (lost && !ctx.last_signal)
		lua_pushstring(L, lost);
	else
		lua_pushfstring(L, "interrupted by SIG%s", sigabbrev_np(ctx.last_signal) ?: "?");
	lua_error(L);
}

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	interrupt_error(L);
}

static void on_signal(int sig)
{
	ctx.last_signal = sig;
	if (ctx.guard) {
		if (++ctx.guard_signals >= 2) {
			/* Second signal while cleaning up: leave it to the kernel
			 * (agents die with us, namespaces with them). */
			static const char msg[] = "lnst: interrupted twice during cleanup, exiting\n";
			if (write(2, msg, sizeof(msg) - 1) < 0)
				_exit(2);
			_exit(2);
		}
		return;
	}
	ctl_interrupted = sig;
	if (ctx.L && !ctx.in_event)
		lua_sethook(ctx.L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void core_signals_install(lua_State *L)
{
	ctx.L = L;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void core_interrupt_clear(lua_State *L)
{
	ctl_interrupted = 0;
	ctx.last_signal = 0;
	agentconn_abort_clear();
	lua_sethook(L, NULL, 0, 0);
}

static void raise_interrupt(lua_State *L)
{
	lua_sethook(L, NULL, 0, 0);
	interrupt_error(L);
}

/* core.guard(on): while on, signals do not interrupt (cleanup). */
static int l_guard(lua_State *L)
{
	ctx.guard = lua_toboolean(L, 1);
	ctx.guard_signals = 0;
	ctl_interrupted = 0;
	agentconn_abort_clear();
	lua_sethook(L, NULL, 0, 0);
	return 0;
}

/* core.interrupted() -> "SIGINT" | nil: the last signal received. */
static int l_interrupted(lua_State *L)
{
	if (!ctx.last_signal)
		return 0;
	lua_pushfstring(L, "SIG%s", sigabbrev_np(ctx.last_signal) ?: "?");
	return 1;
}

/* ---- connections -------------------------------------------------------- */

static struct lconn *check_conn(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, CONN_MT);
}

static void on_agent_event(struct agentconn *ac, cJSON *ev, void *ud)
{
	struct lconn *c = ud;
	(void)ac;
	lua_State *L = ctx.L;
	if (c->handler == LUA_NOREF)
		return;
	lua_rawgeti(L, LUA_REGISTRYINDEX, c->handler);
	lj_push(L, ev);
	/* A pending interrupt must not fire inside the handler (the event
	 * would be lost): it fires once the handler is done. */
	lua_sethook(L, NULL, 0, 0);
	ctx.in_event++;
	if (lua_pcall(L, 1, 0, 0)) {
		fprintf(stderr, "lnst: error in event handler of %s: %s\n", c->ac.name,
			lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	ctx.in_event--;
	if (ctl_interrupted && !ctx.guard && !ctx.in_event)
		lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* core.spawn_agent(name, debug) -> conn: a fresh local host. */
static int l_spawn_agent(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int debug = lua_toboolean(L, 2);
	struct lconn *c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->exec_fd = -1;
	c->handler = LUA_NOREF;
	luaL_getmetatable(L, CONN_MT);
	lua_setmetatable(L, -2);
	c->exec_fd = -1;
	char err[512];
	int fd;
	if (spawn_local_agent_async(name, debug, &c->pid, &fd, &c->exec_fd, err, sizeof(err)))
		return luaL_error(L, "%s", err);
	if (agentconn_open(&c->ac, ctx.loop, fd, name, on_agent_event, c)) {
		kill(c->pid, SIGKILL);
		spawn_reap(c->pid, 1000);
		return luaL_error(L, "host %s: cannot watch the agent connection", name);
	}
	c->open = 1;
	return 1;
}

/* core.connect_agent{ name=, host=, port=, security=, psk_file=, cert=,
 * key=, trust=, timeout= } -> conn: a TCP agent (lua_remote.h). Returns at
 * once; the connection and handshake proceed while the caller waits for a
 * reply, and their failure is the connection's lost reason. */
static int l_connect_agent(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct lconn *c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->exec_fd = -1;
	c->handler = LUA_NOREF;
	luaL_getmetatable(L, CONN_MT);
	lua_setmetatable(L, -2);
	lremote_open(L, 1, &c->remote, &c->ac, ctx.loop, on_agent_event, c);
	c->open = 1;
	return 1;
}

/* conn:critical(on): whether losing this agent ends every wait, whichever
 * host it waits on (a run's hosts while its test body runs). */
static int l_conn_critical(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	agentconn_set_critical(&c->ac, lua_toboolean(L, 2));
	return 0;
}

/* conn:peer() -> the identity a TCP agent authenticated with, or "" */
static int l_conn_peer(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	lua_pushstring(L, c->remote && c->open ? remote_peer(c->remote) : "");
	return 1;
}

/* ---- Unix-socket agents (container hosts: lnst-agent --listen unix:/PATH) ---- */

/* core.connect_unix(path, name) -> conn | nil, "ENOENT", message: the
 * agent listening on the Unix socket at path. Returns nil (with the errno
 * name) while nobody listens there yet (ENOENT, ECONNREFUSED), so callers
 * can retry while the agent starts. */
static int l_connect_unix(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(su.sun_path))
		return luaL_error(L, "host %s: socket path %s is longer than %d bytes", name, path,
				  (int)sizeof(su.sun_path) - 1);
	memcpy(su.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return luaL_error(L, "host %s: cannot make a socket: %s", name, strerror(errno));
	if (connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		int e = errno;
		close(fd);
		lua_pushnil(L);
		lua_pushstring(L, strerrorname_np(e) ?: "EIO");
		lua_pushfstring(L, "%s: %s", path, strerror(e));
		return 3;
	}
	struct lconn *c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->exec_fd = -1;
	c->handler = LUA_NOREF;
	luaL_getmetatable(L, CONN_MT);
	lua_setmetatable(L, -2);
	if (agentconn_open(&c->ac, ctx.loop, fd, name, on_agent_event, c)) {
		close(fd);
		return luaL_error(L, "host %s: cannot watch the agent connection", name);
	}
	c->open = 1;
	return 1;
}

/* core.adopt_agent(fd, name) -> conn: an agent behind a socket that is
 * already connected (a VM's channel, lua_vm.c). Its pid() is 0: nothing
 * is ever signalled through it. */
static int l_adopt_agent(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct lconn *c = lua_newuserdata(L, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->exec_fd = -1;
	c->handler = LUA_NOREF;
	luaL_getmetatable(L, CONN_MT);
	lua_setmetatable(L, -2);
	if (agentconn_open(&c->ac, ctx.loop, fd, name, on_agent_event, c)) {
		close(fd);
		return luaL_error(L, "host %s: cannot watch the agent connection", name);
	}
	c->open = 1;
	return 1;
}

/* Raises the loss of a connection; a local agent that never ran says why. */
static int raise_lost(lua_State *L, struct lconn *c, int err)
{
	if (c->exec_fd >= 0) {
		char why[512];
		int e = spawn_exec_error(c->exec_fd, c->ac.name, why, sizeof(why));
		close(c->exec_fd);
		c->exec_fd = -1;
		if (e)
			return luaL_error(L, "%s", why);
	}
	return luaL_error(L, "host %s: agent connection lost (%s)", c->ac.name,
			  c->ac.lost ? c->ac.lost_reason : strerror(-err));
}

static int l_conn_send(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	const char *method = luaL_checkstring(L, 2);
	const char *netns = luaL_optstring(L, 4, NULL);
	cJSON *params = NULL;
	char err[256];
	if (!lua_isnoneornil(L, 3)) {
		params = lj_to_json(L, 3, err, sizeof(err));
		if (!params)
			return luaL_error(L, "host %s: %s: bad params: %s", c->ac.name, method, err);
		if (!cJSON_IsObject(params)) {
			cJSON_Delete(params);
			return luaL_error(L, "host %s: %s: params must be a table with named fields",
					  c->ac.name, method);
		}
	}
	if (!c->open)
		return luaL_error(L, "host %s: connection is closed", c->ac.name);
	int64_t id = agentconn_send(&c->ac, method, netns, params);
	if (id < 0)
		return raise_lost(L, c, (int)id);
	lua_pushnumber(L, (lua_Number)id);
	return 1;
}

/* conn:wait(id, timeout_s) -> true, result | false, code, message.
 * Connection loss, timeouts and interrupts raise errors. */
static int l_conn_wait(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	int64_t id = (int64_t)luaL_checknumber(L, 2);
	double timeout = luaL_optnumber(L, 3, 60);
	if (ctx.in_event)
		return luaL_error(L, "host %s: cannot wait for a reply inside an event handler", c->ac.name);
	cJSON *reply;
	int err = agentconn_wait(&c->ac, id, timeout < 0 ? -1 : (int)(timeout * 1000), &reply);
	if (err == -EINTR)
		raise_interrupt(L);
	if (err == -ETIMEDOUT)
		return luaL_error(L, "host %s: no reply from the agent within %.1f s", c->ac.name, timeout);
	if (err)
		return raise_lost(L, c, err);
	if (c->exec_fd >= 0) {
		/* it answered, so it runs: the exec check is over */
		close(c->exec_fd);
		c->exec_fd = -1;
	}
	cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	if (e) {
		lua_pushboolean(L, 0);
		lua_pushstring(L, cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring);
		lua_pushstring(L, cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring);
		cJSON_Delete(reply);
		return 3;
	}
	lua_pushboolean(L, 1);
	lj_push(L, cJSON_GetObjectItemCaseSensitive(reply, "result"));
	cJSON_Delete(reply);
	return 2;
}

static int l_conn_on_event(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (c->handler != LUA_NOREF)
		luaL_unref(L, LUA_REGISTRYINDEX, c->handler);
	lua_pushvalue(L, 2);
	c->handler = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

static int l_conn_pid(lua_State *L)
{
	lua_pushinteger(L, check_conn(L, 1)->pid);
	return 1;
}

/* conn:lost() -> reason | nil */
/* conn:exec_error(timeout_s) -> message | nil: for a local agent, why its
 * exec failed, if it did (waits at most timeout for the exec to be over). */
static int l_conn_exec_error(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	if (c->exec_fd < 0)
		return 0;
	struct pollfd pf = { .fd = c->exec_fd, .events = POLLIN };
	if (poll(&pf, 1, (int)(luaL_optnumber(L, 2, 1) * 1000)) <= 0)
		return 0;
	char why[512];
	int e = spawn_exec_error(c->exec_fd, c->ac.name, why, sizeof(why));
	close(c->exec_fd);
	c->exec_fd = -1;
	if (!e)
		return 0;
	lua_pushstring(L, why);
	return 1;
}

static int l_conn_lost(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	if (!c->ac.lost)
		return 0;
	lua_pushstring(L, c->ac.lost_reason);
	return 1;
}

static int l_conn_close(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	if (c->exec_fd >= 0) {
		close(c->exec_fd);
		c->exec_fd = -1;
	}
	if (c->open) {
		agentconn_close(&c->ac);
		c->open = 0;
	}
	remote_free(c->remote);
	c->remote = NULL;
	if (c->handler != LUA_NOREF) {
		luaL_unref(L, LUA_REGISTRYINDEX, c->handler);
		c->handler = LUA_NOREF;
	}
	return 0;
}

static int l_conn_gc(lua_State *L)
{
	struct lconn *c = check_conn(L, 1);
	l_conn_close(L);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		spawn_reap(c->pid, 1000);
		c->pid = 0;
	}
	return 0;
}

/* core.reap(pid, timeout_s) -> "exited 0" | "killed by SIGKILL" */
static int l_reap(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	int st = spawn_reap(pid, (int)(luaL_optnumber(L, 2, 5) * 1000));
	if (st < 0)
		lua_pushfstring(L, "not reaped: %s", strerror(-st));
	else if (WIFEXITED(st))
		lua_pushfstring(L, "exited %d", WEXITSTATUS(st));
	else
		lua_pushfstring(L, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ?: "?");
	return 1;
}

static int l_kill(lua_State *L)
{
	int r = kill((pid_t)luaL_checkinteger(L, 1), (int)luaL_optinteger(L, 2, SIGKILL));
	lua_pushboolean(L, r == 0);
	return 1;
}

/* ---- loop and time ------------------------------------------------------ */

/* core.poll(timeout_s): delivers pending events, waiting at most timeout. */
static int l_poll(lua_State *L)
{
	double t = luaL_optnumber(L, 1, 0);
	if (ctx.in_event)
		return 0;
	loop_run_once(ctx.loop, (int)(t * 1000));
	if (ctl_interrupted)
		raise_interrupt(L);
	return 0;
}

/* core.sleep(s): waits while delivering events; interruptible. */
static int l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	if (ctx.in_event)
		return luaL_error(L, "cannot sleep inside an event handler");
	int64_t end = loop_now_ms() + (int64_t)(s * 1000);
	for (;;) {
		if (ctl_interrupted)
			raise_interrupt(L);
		int64_t left = end - loop_now_ms();
		if (left <= 0)
			break;
		loop_run_once(ctx.loop, (int)left);
	}
	return 0;
}

static int l_now(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + ts.tv_nsec / 1e9);
	return 1;
}

static int l_time(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + ts.tv_nsec / 1e9);
	return 1;
}

/* ---- fabric ---------------------------------------------------------------- */

static int l_fabric(lua_State *L)
{
	struct fabric *f = lua_newuserdata(L, sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->nsfd = -1;
	luaL_getmetatable(L, FABRIC_MT);
	lua_setmetatable(L, -2);
	char err[256];
	if (fabric_open(f, err, sizeof(err)))
		return luaL_error(L, "%s", err);
	return 1;
}

static struct fabric *check_fabric(lua_State *L)
{
	struct fabric *f = luaL_checkudata(L, 1, FABRIC_MT);
	if (f->nsfd < 0)
		luaL_error(L, "the fabric is closed");
	return f;
}

static int l_fabric_bridge(lua_State *L)
{
	struct fabric *f = check_fabric(L);
	char err[256];
	int ifindex;
	if (fabric_bridge_add(f, luaL_checkstring(L, 2), &ifindex, err, sizeof(err)))
		return luaL_error(L, "%s", err);
	lua_pushinteger(L, ifindex);
	return 1;
}

static int l_fabric_veth(lua_State *L)
{
	struct fabric *f = check_fabric(L);
	char err[256];
	if (fabric_veth_add(f, luaL_checkstring(L, 2), (int)luaL_checkinteger(L, 3),
			    (pid_t)luaL_checkinteger(L, 4), luaL_checkstring(L, 5), err, sizeof(err)))
		return luaL_error(L, "%s", err);
	return 0;
}

static int l_fabric_mtu(lua_State *L)
{
	struct fabric *f = check_fabric(L);
	char err[256];
	if (fabric_set_mtu(f, luaL_checkstring(L, 2), (int)luaL_checkinteger(L, 3), err, sizeof(err)))
		return luaL_error(L, "%s", err);
	return 0;
}

static int l_fabric_close(lua_State *L)
{
	fabric_close(luaL_checkudata(L, 1, FABRIC_MT));
	return 0;
}

/* ---- data ------------------------------------------------------------------- */

static int l_json_encode(lua_State *L)
{
	char err[256];
	cJSON *j = lj_to_json(L, 1, err, sizeof(err));
	if (!j)
		return luaL_error(L, "json_encode: %s", err);
	char *s = lua_toboolean(L, 2) ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	lua_pushstring(L, s);
	cJSON_free(s);
	return 1;
}

static int l_json_decode(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	cJSON *j = cJSON_ParseWithLength(s, n);
	if (!j) {
		lua_pushnil(L);
		lua_pushstring(L, "not valid JSON");
		return 2;
	}
	lj_push(L, j);
	cJSON_Delete(j);
	return 1;
}

/* A string argument without NUL bytes (C parsers would stop at one). */
static const char *check_text(lua_State *L, int idx)
{
	size_t n;
	const char *s = luaL_checklstring(L, idx, &n);
	if (strlen(s) != n)
		luaL_argerror(L, idx, "text contains a NUL byte");
	return s;
}

/* Pushes a parsed value (taking it) or nil and the parser's error. */
static int push_parsed(lua_State *L, int rc, cJSON *v, const char *err)
{
	if (rc) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lj_push(L, v);
	cJSON_Delete(v);
	return 1;
}

/* core.literal(text) -> value | nil, err */
static int l_literal(lua_State *L)
{
	char err[256];
	cJSON *v = NULL;
	int rc = literal_parse(check_text(L, 1), &v, err, sizeof(err));
	return push_parsed(L, rc, v, err);
}

/* core.assignment("k=v") -> key, value | nil, err */
static int l_assignment(lua_State *L)
{
	char err[256], *key = NULL;
	cJSON *v = NULL;
	int rc = literal_parse_assignment(check_text(L, 1), &key, &v, err, sizeof(err));
	if (!rc)
		lua_pushstring(L, key);
	free(key);
	return rc ? push_parsed(L, rc, v, err) : 1 + push_parsed(L, rc, v, err);
}

/* core.assignments("a=1;b=2", ";") -> table | nil, err */
static int l_assignments(lua_State *L)
{
	char err[256];
	cJSON *v = NULL;
	const char *sep = luaL_optstring(L, 2, ";");
	int rc = literal_parse_assignments(check_text(L, 1), sep[0], &v, err, sizeof(err));
	return push_parsed(L, rc, v, err);
}

static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, 1)));
	return 1;
}

static int l_agent_path(lua_State *L)
{
	lua_pushstring(L, spawn_agent_path());
	return 1;
}

/* core.repl(prompt) -> "eof" | "quit" | "continue" | "abort": a REPL
 * session opened from Lua code (a paused run); sessions nest. */
static int l_repl(lua_State *L)
{
	if (ctx.in_event)
		return luaL_error(L, "cannot open the REPL inside an event handler");
	lua_pushstring(L, repl_session(L, luaL_optstring(L, 1, NULL)));
	return 1;
}

static int l_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

int luaopen_lnst_core(lua_State *L)
{
	static const luaL_Reg conn_methods[] = {
		{ "send", l_conn_send },     { "wait", l_conn_wait },   { "on_event", l_conn_on_event },
		{ "pid", l_conn_pid },       { "lost", l_conn_lost },   { "close", l_conn_close },
		{ "exec_error", l_conn_exec_error },
		{ "peer", l_conn_peer },     { "critical", l_conn_critical },
		{ NULL, NULL },
	};
	static const luaL_Reg fabric_methods[] = {
		{ "bridge", l_fabric_bridge }, { "veth", l_fabric_veth }, { "mtu", l_fabric_mtu },
		{ "close", l_fabric_close },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "spawn_agent", l_spawn_agent }, { "reap", l_reap },
		{ "connect_agent", l_connect_agent },
		{ "connect_unix", l_connect_unix },
		{ "adopt_agent", l_adopt_agent },
		{ "kill", l_kill },               { "poll", l_poll },
		{ "sleep", l_sleep },             { "now", l_now },
		{ "time", l_time },               { "fabric", l_fabric },
		{ "guard", l_guard },             { "interrupted", l_interrupted },
		{ "json_encode", l_json_encode }, { "json_decode", l_json_decode },
		{ "literal", l_literal },         { "assignment", l_assignment },
		{ "assignments", l_assignments }, { "isatty", l_isatty },
		{ "agent_path", l_agent_path },   { "getpid", l_getpid },
		{ "repl", l_repl },
		{ NULL, NULL },
	};
	if (!ctx.loop) {
		ctx.loop = loop_new();
		if (!ctx.loop)
			return luaL_error(L, "cannot create the event loop");
	}
	ctx.L = L;
	luaL_newmetatable(L, CONN_MT);
	lua_newtable(L);
	luaL_register(L, NULL, conn_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_conn_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, FABRIC_MT);
	lua_newtable(L);
	luaL_register(L, NULL, fabric_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_fabric_close);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_register(L, NULL, funcs);
	lremote_register(L);
	lua_pushlightuserdata(L, NULL);
	lua_setfield(L, -2, "null");
	return 1;
}
