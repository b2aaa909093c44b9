/* module_api.c - the forked child of a module job: a fresh LuaJIT state,
 * the module's source, and the small API it gets as `api` (module.h).
 *
 * This file runs only in the child process made by job.c for a module job,
 * never in the agent itself, so its process-wide state (the stop flag set by
 * SIGINT/SIGTERM, the report fd) is the child's own. The API, documented in
 * docs/test-modules.md:
 *   api.run(argv, {timeout=, env=, stdin=}) -> {exit_code, signal, stdout,
 *       stderr, duration, timed_out} | nil, why      (argv, never a shell)
 *   api.spawn(argv, {env=, stdin=}) -> proc: proc.pid, proc:wait(timeout) ->
 *       result | nil (still running), proc:kill(sig), proc:output() -> out, err
 *   api.sleep(s) -> stopped?    api.wait_stop(timeout) -> stopped?
 *   api.stop_requested()        api.time(), api.monotonic(), api.cpu_times()
 *   api.read_file(path) -> text | nil, why          api.which(tool) -> path | nil
 *   api.json_decode(text, init) -> value, next | nil, why
 *   api.notice(table), api.ready()                  api.skip(reason) (raises)
 *   api.host (the agent's host name)
 * Sockets are LuaJIT FFI (modules may use `ffi`; lnst.tests.sock helps).
 * Subprocesses stay in the job's process group (the agent's kill reaches
 * them) and die with the child (PR_SET_PDEATHSIG); their output goes to
 * memfds, so a long-running tcpdump cannot block on a full pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lua_json.h"
#include "module.h"

#define PROC_MT "lnst.module.proc"
#define CAPTURE_MAX (64u << 20)
#define SKIP_KEY "lnst_skip"

static volatile sig_atomic_t stop_flag;
static int report_fd = -1;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One report line: the object printed compactly, then '\n'. Frees obj. */
static void report_line(cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!s)
		return;
	write_all(report_fd, s, strlen(s));
	write_all(report_fd, "\n", 1);
	cJSON_free(s);
}

/* ---- processes --------------------------------------------------------- */

struct proc {
	pid_t pid;
	int pidfd;
	int out, err; /* memfds holding the output */
	int done;
	int status;
	double started, duration;
};

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
};

static int check_signal(lua_State *L, int idx, int dflt)
{
	if (lua_isnoneornil(L, idx))
		return dflt;
	if (lua_type(L, idx) == LUA_TNUMBER)
		return (int)lua_tointeger(L, idx);
	const char *s = luaL_checkstring(L, idx);
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcmp(signals[i].name, s) == 0)
			return signals[i].sig;
	return luaL_error(L, "unknown signal '%s'", s);
}

static int data_memfd(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (len && write_all(fd, data, len)) {
		close(fd);
		return -EIO;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The child side of spawn: never returns. */
static void exec_child(char **argv, lua_State *L, int env_idx, int in, int out, int err, int st)
{
	sigset_t none;
	sigemptyset(&none);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (env_idx) {
		lua_pushnil(L);
		while (lua_next(L, env_idx)) {
			if (lua_type(L, -2) == LUA_TSTRING && lua_isstring(L, -1))
				setenv(lua_tostring(L, -2), lua_tostring(L, -1), 1);
			lua_pop(L, 1);
		}
	}
	execvp(argv[0], argv);
	int e = errno;
	if (write(st, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* spawn(argv, opts): pushes a proc, or nil and why. */
static int spawn(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = (int)lua_objlen(L, 1);
	if (n < 1)
		return luaL_error(L, "argv must be a non-empty array like {\"ping\", \"-c\", 1, addr}");
	int env_idx = 0;
	size_t in_len = 0;
	const char *in_data = NULL;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "env");
		if (lua_istable(L, -1))
			env_idx = lua_gettop(L);
		else
			lua_pop(L, 1);
		lua_getfield(L, 2, "stdin");
		in_data = lua_tolstring(L, -1, &in_len);
		lua_pop(L, 1);
	}
	char **argv = lua_newuserdata(L, sizeof(char *) * ((size_t)n + 1));
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		if (!lua_isstring(L, -1))
			return luaL_error(L, "argv item %d is a %s, not a string or number", i, luaL_typename(L, -1));
		argv[i - 1] = (char *)lua_tostring(L, -1);
		lua_pop(L, 1); /* the string stays reachable from the argv table */
	}
	argv[n] = NULL;
	struct proc *p = lua_newuserdata(L, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->pidfd = p->out = p->err = -1;
	p->done = 1;
	luaL_getmetatable(L, PROC_MT);
	lua_setmetatable(L, -2);
	int in = data_memfd("stdin", in_data, in_len);
	p->out = memfd_create("stdout", MFD_CLOEXEC);
	p->err = memfd_create("stderr", MFD_CLOEXEC);
	int st[2];
	if (in < 0 || p->out < 0 || p->err < 0 || pipe2(st, O_CLOEXEC) < 0) {
		int e = errno;
		if (in >= 0)
			close(in);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot run '%s': %s", argv[0], strerror(e));
		return 2;
	}
	p->started = clock_s(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid == 0)
		exec_child(argv, L, env_idx, in, p->out, p->err, st[1]);
	close(in);
	close(st[1]);
	if (pid < 0) {
		int e = errno;
		close(st[0]);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot run '%s': fork: %s", argv[0], strerror(e));
		return 2;
	}
	int cerr = 0;
	ssize_t r;
	while ((r = read(st[0], &cerr, sizeof(cerr))) < 0 && errno == EINTR)
		;
	close(st[0]);
	if (r == sizeof(cerr)) {
		waitpid(pid, NULL, 0);
		lua_pushnil(L);
		lua_pushfstring(L, "cannot run '%s': %s", argv[0], strerror(cerr));
		return 2;
	}
	p->pid = pid;
	p->done = 0;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return 1;
}

static void push_capture(lua_State *L, int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		lua_pushliteral(L, "");
		return;
	}
	size_t len = (size_t)st.st_size < CAPTURE_MAX ? (size_t)st.st_size : CAPTURE_MAX;
	char *buf = malloc(len);
	size_t got = 0;
	while (buf && got < len) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	lua_pushlstring(L, buf ? buf : "", got);
	free(buf);
}

/* Waits up to timeout seconds (< 0: forever); 1 when the process ended. */
static int proc_wait(struct proc *p, double timeout)
{
	double deadline = timeout >= 0 ? clock_s(CLOCK_MONOTONIC) + timeout : -1;
	while (!p->done) {
		int status;
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->done = 1;
			p->status = r == p->pid ? status : 0;
			p->duration = clock_s(CLOCK_MONOTONIC) - p->started;
			break;
		}
		int ms = 1000;
		if (deadline >= 0) {
			double left = deadline - clock_s(CLOCK_MONOTONIC);
			if (left <= 0)
				return 0;
			if (left < 1.0)
				ms = (int)(left * 1000) + 1;
		}
		if (p->pidfd >= 0) {
			struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
			poll(&pfd, 1, ms);
		} else {
			usleep(ms < 10 ? (useconds_t)ms * 1000 : 10000);
		}
	}
	return 1;
}

static void push_result(lua_State *L, struct proc *p, int timed_out)
{
	lua_createtable(L, 0, 7);
	if (WIFEXITED(p->status)) {
		lua_pushinteger(L, WEXITSTATUS(p->status));
		lua_setfield(L, -2, "exit_code");
	} else if (WIFSIGNALED(p->status)) {
		const char *name = sigabbrev_np(WTERMSIG(p->status));
		lua_pushstring(L, name ? name : "?");
		lua_setfield(L, -2, "signal");
	}
	push_capture(L, p->out);
	lua_setfield(L, -2, "stdout");
	push_capture(L, p->err);
	lua_setfield(L, -2, "stderr");
	lua_pushnumber(L, p->duration);
	lua_setfield(L, -2, "duration");
	lua_pushboolean(L, timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushinteger(L, p->pid);
	lua_setfield(L, -2, "pid");
}

static struct proc *check_proc(lua_State *L)
{
	return luaL_checkudata(L, 1, PROC_MT);
}

/* proc:wait(timeout) -> result | nil (still running) */
static int l_proc_wait(lua_State *L)
{
	struct proc *p = check_proc(L);
	double timeout = luaL_optnumber(L, 2, -1);
	if (!proc_wait(p, timeout))
		return 0;
	push_result(L, p, 0);
	return 1;
}

static int l_proc_kill(lua_State *L)
{
	struct proc *p = check_proc(L);
	int sig = check_signal(L, 2, SIGKILL);
	if (!p->done && kill(p->pid, sig) < 0 && errno != ESRCH)
		return luaL_error(L, "kill %d: %s", (int)p->pid, strerror(errno));
	return 0;
}

static int l_proc_output(lua_State *L)
{
	struct proc *p = check_proc(L);
	push_capture(L, p->out);
	push_capture(L, p->err);
	return 2;
}

static int l_proc_running(lua_State *L)
{
	struct proc *p = check_proc(L);
	lua_pushboolean(L, !proc_wait(p, 0));
	return 1;
}

static int l_proc_index(lua_State *L)
{
	struct proc *p = check_proc(L);
	const char *k = luaL_checkstring(L, 2);
	if (strcmp(k, "pid") == 0) {
		lua_pushinteger(L, p->pid);
		return 1;
	}
	luaL_getmetatable(L, PROC_MT);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

static int l_proc_gc(lua_State *L)
{
	struct proc *p = check_proc(L);
	if (!p->done) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->done = 1;
	}
	int *fds[] = { &p->pidfd, &p->out, &p->err };
	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	return 0;
}

/* api.run(argv, opts) -> result | nil, why */
static int l_run(lua_State *L)
{
	double timeout = -1;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "timeout");
		if (lua_isnumber(L, -1))
			timeout = lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	lua_settop(L, 2);
	int r = spawn(L);
	if (r == 2)
		return 2;
	struct proc *p = lua_touserdata(L, -1);
	int timed_out = 0;
	if (!proc_wait(p, timeout)) {
		timed_out = 1;
		kill(p->pid, SIGKILL);
		proc_wait(p, -1);
	}
	push_result(L, p, timed_out);
	return 1;
}

static int l_spawn(lua_State *L)
{
	lua_settop(L, 2);
	return spawn(L);
}

/* ---- time, stop requests ----------------------------------------------- */

/* Sleeps until the deadline (< 0: forever) or a stop request; returns
 * whether a stop was requested. Signals are blocked while the flag is
 * checked, and ppoll unblocks them atomically, so none is missed. */
static int sleep_until(double deadline)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!stop_flag) {
		struct timespec ts, *tsp = NULL;
		if (deadline >= 0) {
			double left = deadline - clock_s(CLOCK_MONOTONIC);
			if (left <= 0)
				break;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			tsp = &ts;
		}
		ppoll(NULL, 0, tsp, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return stop_flag;
}

static int l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);
	lua_pushboolean(L, sleep_until(clock_s(CLOCK_MONOTONIC) + (s > 0 ? s : 0)));
	return 1;
}

static int l_wait_stop(lua_State *L)
{
	double t = luaL_optnumber(L, 1, -1);
	lua_pushboolean(L, sleep_until(t < 0 ? -1 : clock_s(CLOCK_MONOTONIC) + t));
	return 1;
}

static int l_stop_requested(lua_State *L)
{
	lua_pushboolean(L, stop_flag);
	return 1;
}

static int l_time(lua_State *L)
{
	lua_pushnumber(L, clock_s(CLOCK_REALTIME));
	return 1;
}

static int l_monotonic(lua_State *L)
{
	lua_pushnumber(L, clock_s(CLOCK_MONOTONIC));
	return 1;
}

/* api.cpu_times() -> user, system: CPU seconds of this process (not its children). */
static int l_cpu_times(lua_State *L)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	lua_pushnumber(L, (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6);
	lua_pushnumber(L, (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	return 2;
}

/* ---- files and tools ------------------------------------------------------ */

static int l_read_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		return 2;
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (;;) {
		char *dst = luaL_prepbuffer(&b);
		ssize_t n = read(fd, dst, LUAL_BUFFERSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			lua_pushnil(L);
			lua_pushfstring(L, "%s: %s", path, strerror(e));
			return 2;
		}
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	close(fd);
	luaL_pushresult(&b);
	return 1;
}

static int l_which(lua_State *L)
{
	const char *tool = luaL_checkstring(L, 1);
	if (strchr(tool, '/')) {
		if (access(tool, X_OK) == 0) {
			lua_pushstring(L, tool);
			return 1;
		}
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[4096];
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, tool);
		if (n && access(buf, X_OK) == 0) {
			lua_pushstring(L, buf);
			return 1;
		}
		p += n + (e ? 1 : 0);
	}
	return 0;
}

/* api.json_decode(text, init) -> value, next index | nil, why: one JSON value
 * starting at byte init (default 1); tools like iperf3 print several. */
static int l_json_decode(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	lua_Integer init = luaL_optinteger(L, 2, 1);
	if (init < 1 || (size_t)init > n + 1)
		return luaL_argerror(L, 2, "start index out of range");
	const char *end = NULL;
	size_t off = (size_t)init - 1;
	cJSON *v = cJSON_ParseWithLengthOpts(s + off, n - off, &end, 0);
	if (!v) {
		lua_pushnil(L);
		lua_pushfstring(L, "not valid JSON at byte %d", (int)((end ? end : s + off) - s) + 1);
		return 2;
	}
	lj_push(L, v);
	cJSON_Delete(v);
	lua_pushinteger(L, (lua_Integer)(end - s) + 1);
	return 2;
}

/* ---- talking to the controller ---------------------------------------------- */

static int l_notice(lua_State *L)
{
	char err[256];
	luaL_checktype(L, 1, LUA_TTABLE);
	cJSON *v = lj_to_json(L, 1, err, sizeof(err));
	if (!v)
		return luaL_error(L, "api.notice: %s", err);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "notice", v);
	report_line(o);
	return 0;
}

static int l_ready(lua_State *L)
{
	(void)L;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(o, "notice"), "ready", 1);
	report_line(o);
	return 0;
}

/* api.skip(reason): ends the module; the controller records a skip with it. */
static int l_skip(lua_State *L)
{
	const char *why = luaL_checkstring(L, 1);
	lua_createtable(L, 0, 1);
	lua_pushstring(L, why);
	lua_setfield(L, -2, SKIP_KEY);
	return lua_error(L);
}

static void push_api(lua_State *L, const char *host)
{
	static const luaL_Reg fns[] = {
		{ "run", l_run },
		{ "spawn", l_spawn },
		{ "sleep", l_sleep },
		{ "wait_stop", l_wait_stop },
		{ "stop_requested", l_stop_requested },
		{ "time", l_time },
		{ "monotonic", l_monotonic },
		{ "cpu_times", l_cpu_times },
		{ "read_file", l_read_file },
		{ "which", l_which },
		{ "json_decode", l_json_decode },
		{ "notice", l_notice },
		{ "ready", l_ready },
		{ "skip", l_skip },
		{ NULL, NULL },
	};
	static const luaL_Reg proc_methods[] = {
		{ "wait", l_proc_wait },     { "kill", l_proc_kill },
		{ "output", l_proc_output }, { "running", l_proc_running },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, PROC_MT);
	lua_pushcfunction(L, l_proc_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_proc_gc);
	lua_setfield(L, -2, "__gc");
	lua_newtable(L);
	luaL_register(L, NULL, proc_methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_register(L, NULL, fns);
	lua_pushstring(L, host);
	lua_setfield(L, -2, "host");
}

/* ---- running the module -------------------------------------------------------- */

/* xpcall handler: a skip passes through, anything else gets a traceback. */
static int on_error(lua_State *L)
{
	if (lua_istable(L, 1)) {
		lua_getfield(L, 1, SKIP_KEY);
		if (lua_isstring(L, -1)) {
			lua_pop(L, 1);
			return 1;
		}
		lua_pop(L, 1);
	}
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	lua_getglobal(L, "debug");
	lua_getfield(L, -1, "traceback");
	lua_pushstring(L, msg);
	lua_pushinteger(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

static void add_rusage(cJSON *o)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	cJSON *r = cJSON_AddObjectToObject(o, "rusage");
	cJSON_AddNumberToObject(r, "user", (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6);
	cJSON_AddNumberToObject(r, "system", (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

static void __attribute__((noreturn)) finish_error(const struct module_run *run, const char *text)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	const char *tb = strstr(text, "\nstack traceback:\n");
	if (tb) {
		char *msg = strndup(text, (size_t)(tb - text));
		cJSON_AddStringToObject(e, "message", msg ? msg : text);
		free(msg);
		cJSON_AddStringToObject(e, "traceback", tb + strlen("\nstack traceback:\n"));
	} else {
		cJSON_AddStringToObject(e, "message", text);
	}
	cJSON_AddStringToObject(e, "host", run->host);
	cJSON_AddStringToObject(e, "module", run->main.name);
	add_rusage(o);
	report_line(o);
	_exit(1);
}

static int load(lua_State *L, const struct module_src *src)
{
	char chunk[256];
	snprintf(chunk, sizeof(chunk), "@%s", src->file);
	return luaL_loadbuffer(L, src->text, src->len, chunk);
}

void module_api_run(const struct module_run *run, int fd)
{
	report_fd = fd;
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	lua_State *L = luaL_newstate();
	if (!L)
		finish_error(run, "cannot create a Lua state (out of memory)");
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "preload");
	for (int i = 0; i < run->ndeps; i++) {
		if (load(L, &run->deps[i]))
			finish_error(run, lua_tostring(L, -1));
		lua_setfield(L, -2, run->deps[i].name);
	}
	lua_settop(L, 0);

	lua_pushcfunction(L, on_error); /* 1 */
	if (load(L, &run->main))
		finish_error(run, lua_tostring(L, -1));
	if (lua_pcall(L, 0, 1, 1))
		finish_error(run, lua_tostring(L, -1));
	if (!lua_istable(L, -1)) {
		finish_error(run, lua_pushfstring(L, "%s: the module must return a table with a run function, it returned a %s",
						  run->main.file, luaL_typename(L, -1)));
	}
	lua_getfield(L, -1, "run");
	if (!lua_isfunction(L, -1))
		finish_error(run, lua_pushfstring(L, "%s: the module has no run(params, api) function", run->main.file));
	lj_push(L, run->params);
	push_api(L, run->host);
	if (lua_pcall(L, 2, 2, 1)) {
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, SKIP_KEY);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "skip", lua_tostring(L, -1));
			add_rusage(o);
			report_line(o);
			_exit(0);
		}
		finish_error(run, lua_tostring(L, -1));
	}
	if (!lua_isboolean(L, -1) || !(lua_istable(L, -2) || lua_isnil(L, -2))) {
		finish_error(run, lua_pushfstring(L, "%s: run() must return a result table and a boolean verdict, it returned %s, %s",
						  run->main.file, luaL_typename(L, -2), luaL_typename(L, -1)));
	}
	int passed = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
	}
	char err[256];
	cJSON *result = lj_to_json(L, -1, err, sizeof(err));
	if (!result)
		finish_error(run, lua_pushfstring(L, "%s: the result cannot be sent: %s", run->main.file, err));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "result", result);
	cJSON_AddBoolToObject(o, "passed", passed);
	add_rusage(o);
	report_line(o);
	lua_close(L);
	_exit(0);
}
