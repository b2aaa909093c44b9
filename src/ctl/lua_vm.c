/* lua_vm.c - bindings of the `lnst.vm_core` module (lua_vm.h): the engine of
 * the VM provisioner (lua/lnst/vm.lua) as seen from Lua.
 *
 *   vm_core.start{ name=, kernel=, initrd=, append=, rundir=, memory=, smp=,
 *                  kvm=, qemu=, extra={...}, hang_timeout= } -> vm
 *   vm:channel(n) -> fd        a socket carrying channel n of the guest; hand
 *                              it to core.adopt_agent
 *   vm:lost() -> reason | nil  why the guest is gone (panic, hang, exit)
 *   vm:stop(timeout_s) -> "exited 0" | "killed by SIGKILL"
 *   vm:kill(), vm:pid(), vm:console(), vm:heard()
 *   vm_core.kvm_available() -> true | false, why
 *   vm_core.kernel_info(path) -> {format=, pvh=, release=} | nil, err
 *   vm_core.extract_vmlinux(bzimage, out) -> true | nil, err
 *   vm_core.lock(path) -> lock (lock:unlock())
 *   vm_core.stat(path) -> {size=, mtime=, dir=} | nil, err
 *   vm_core.programs() -> {agent=, guest=, init=}   absolute paths of our binaries
 *   vm_core.guest_path() -> "DIR:DIR..."   the PATH a guest gives its agents
 *   vm_core.leftovers(dry_run) -> { {name=, qemu_pid=, controller_pid=}... }
 *
 * A hang is a guest that sent nothing for hang_timeout seconds although it
 * sends a heartbeat every second: qemu is then killed, which ends every
 * channel, and lost() says why. Time the controller spends away from its
 * event loop does not count against the guest.
 */
#include "lua_vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lauxlib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentconn.h"
#include "lua_core.h"
#include "vmkernel.h"
#include "vmmux.h"
#include "vmqemu.h"

#define VM_MT "lnst.vm_core.vm"
#define LOCK_MT "lnst.vm_core.lock"
#define TICK_MS 1000

struct lvm {
	struct vmqemu q;
	struct vmmux *mux;
	struct loop *loop;
	int64_t timer;
	int64_t last_tick;
	int64_t alive;   /* last sign of life, or a grace point */
	int hang_ms;
	int stopped;
	char why[512];   /* set when the controller killed the guest */
	char lost[PATH_MAX + 600]; /* lost() text, once known */
};

static void tick(struct loop *l, void *ud)
{
	struct lvm *v = ud;
	v->timer = 0;
	if (v->stopped || vmmux_ended(v->mux) || vmqemu_poll(&v->q))
		return;
	int64_t now = loop_now_ms(), rx = vmmux_last_rx(v->mux);
	if (now - v->last_tick > 2 * TICK_MS)
		v->alive = now; /* we were away from the loop: not the guest's fault */
	v->last_tick = now;
	if (rx > v->alive)
		v->alive = rx;
	if (rx && now - v->alive >= v->hang_ms) {
		snprintf(v->why, sizeof(v->why),
			 "the guest stopped answering: nothing from it for %d s although it sends a heartbeat "
			 "every second (hung or stalled kernel); qemu was killed",
			 v->hang_ms / 1000);
		kill(v->q.pid, SIGKILL);
		return;
	}
	v->timer = loop_timer_add(l, TICK_MS, tick, v);
}

static struct lvm *check_vm(lua_State *L)
{
	return luaL_checkudata(L, 1, VM_MT);
}

static const char *opt_field(lua_State *L, int t, const char *k, const char *dflt)
{
	lua_getfield(L, t, k);
	const char *s = lua_isnil(L, -1) ? dflt : lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays referenced by the table */
	return s;
}

static int int_field(lua_State *L, int t, const char *k, int dflt)
{
	lua_getfield(L, t, k);
	int v = lua_isnil(L, -1) ? dflt : (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	return v;
}

static int l_start(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct vmqemu_opts o = { 0 };
	o.name = opt_field(L, 1, "name", NULL);
	o.kernel = opt_field(L, 1, "kernel", NULL);
	o.initrd = opt_field(L, 1, "initrd", NULL);
	o.append = opt_field(L, 1, "append", "");
	o.rundir = opt_field(L, 1, "rundir", NULL);
	o.qemu = opt_field(L, 1, "qemu", NULL);
	o.memory_mb = int_field(L, 1, "memory", 512);
	o.smp = int_field(L, 1, "smp", 1);
	lua_getfield(L, 1, "kvm");
	o.kvm = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (!o.name || !o.kernel || !o.initrd || !o.rundir)
		return luaL_error(L, "vm_core.start: name, kernel, initrd and rundir are needed");
	const char *extra[32] = { 0 };
	lua_getfield(L, 1, "extra");
	if (lua_istable(L, -1)) {
		int n = (int)lua_objlen(L, -1);
		if (n > 30)
			return luaL_error(L, "vm_core.start: at most 30 extra qemu arguments");
		for (int i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			extra[i - 1] = lua_tostring(L, -1);
			lua_pop(L, 1);
			if (!extra[i - 1])
				return luaL_error(L, "vm_core.start: extra qemu arguments must be strings");
		}
		o.extra = extra;
	}
	lua_pop(L, 1);
	struct lvm *v = lua_newuserdata(L, sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->q.pid = -1;
	v->q.pidfd = -1;
	v->q.chan = -1;
	v->q.logfd = -1;
	v->stopped = 1;
	luaL_getmetatable(L, VM_MT);
	lua_setmetatable(L, -2);
	v->loop = core_loop();
	v->hang_ms = int_field(L, 1, "hang_timeout", 30) * 1000;
	char err[512];
	if (vmqemu_start(&v->q, &o, err, sizeof(err)))
		return luaL_error(L, "VM %s: %s", o.name, err);
	v->stopped = 0;
	int chan = v->q.chan;
	v->q.chan = -1; /* the mux owns it now */
	int e = vmmux_new(&v->mux, v->loop, chan, NULL, NULL);
	if (e) {
		vmqemu_stop(&v->q, 0);
		v->stopped = 1;
		return luaL_error(L, "VM %s: cannot watch its channel: %s", o.name, strerror(-e));
	}
	v->last_tick = v->alive = loop_now_ms();
	v->timer = loop_timer_add(v->loop, TICK_MS, tick, v);
	return 1;
}

static int l_channel(lua_State *L)
{
	struct lvm *v = check_vm(L);
	lua_Integer ch = luaL_checkinteger(L, 2);
	if (ch < 0 || ch > 0x7fffffff)
		return luaL_argerror(L, 2, "channel out of range");
	if (v->stopped || !v->mux)
		return luaL_error(L, "the VM is stopped");
	int fd;
	int e = vmmux_open(v->mux, (uint32_t)ch, &fd);
	if (e)
		return luaL_error(L, "VM channel %d: %s", (int)ch, strerror(-e));
	lua_pushinteger(L, fd);
	return 1;
}

/* The first line of the file fd containing one of pats, from its last
 * 256 KiB. */
static int find_line_fd(int fd, const char *const *pats, char *out, size_t n)
{
	static char buf[262144 + 1];
	struct stat st; /* not lseek: qemu shares the offset of its log's fd */
	if (fstat(fd, &st) < 0)
		return 0;
	off_t from = st.st_size > 262144 ? st.st_size - 262144 : 0;
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, from);
	if (got <= 0)
		return 0;
	buf[got] = 0;
	for (const char *const *p = pats; *p; p++) {
		char *hit = strstr(buf, *p);
		if (!hit)
			continue;
		size_t len = strcspn(hit, "\r\n");
		if (len >= n)
			len = n - 1;
		memcpy(out, hit, len);
		out[len] = 0;
		return 1;
	}
	return 0;
}

static int find_line(const char *path, const char *const *pats, char *out, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int found = find_line_fd(fd, pats, out, n);
	close(fd);
	return found;
}

/* Why the guest is gone, or NULL while it runs. */
static const char *lost_reason(struct lvm *v)
{
	if (v->lost[0])
		return v->lost;
	if (!v->mux)
		return NULL;
	int exited = vmqemu_poll(&v->q);
	if (!vmmux_ended(v->mux) && !exited)
		return NULL;
	if (!exited && v->q.pidfd >= 0) {
		/* The channel ended: qemu is on its way out; let it say why. */
		struct pollfd p = { .fd = v->q.pidfd, .events = POLLIN };
		poll(&p, 1, 2000);
		exited = vmqemu_poll(&v->q);
	}
	char what[512], line[300];
	static const char *const panic[] = { "Kernel panic - not syncing", NULL };
	static const char *const guest[] = { "lnst-vm: init: ", "lnst-vmguest: cannot", NULL };
	static const char *const qemu[] = { "qemu-system", "qemu", NULL };
	if (v->why[0]) {
		snprintf(what, sizeof(what), "%s", v->why);
	} else if (exited && find_line(v->q.console, panic, line, sizeof(line))) {
		snprintf(what, sizeof(what), "the guest kernel panicked (%s)", line);
	} else if (exited && find_line(v->q.console, guest, line, sizeof(line))) {
		snprintf(what, sizeof(what), "the guest failed to start (%s)", line);
	} else if (exited) {
		char st[64];
		vmqemu_status(v->q.status, st, sizeof(st));
		if (v->q.logfd >= 0 && find_line_fd(v->q.logfd, qemu, line, sizeof(line)))
			snprintf(what, sizeof(what), "qemu %s: %s", st, line);
		else if (WIFEXITED(v->q.status) && WEXITSTATUS(v->q.status) == 0)
			snprintf(what, sizeof(what), "the guest powered off");
		else
			snprintf(what, sizeof(what), "qemu %s", st);
	} else {
		snprintf(what, sizeof(what), "the channel to the guest ended (%s) while qemu still runs",
			 vmmux_ended(v->mux));
	}
	snprintf(v->lost, sizeof(v->lost), "%s; console log: %s", what, v->q.console);
	return v->lost;
}

static int l_lost(lua_State *L)
{
	struct lvm *v = check_vm(L);
	const char *r = lost_reason(v);
	if (!r)
		return 0;
	lua_pushstring(L, r);
	return 1;
}

/* vm:stop(timeout_s): the guest was asked to power off; waits for qemu,
 * SIGKILLs it after the timeout. */
static int l_stop(lua_State *L)
{
	struct lvm *v = check_vm(L);
	double t = luaL_optnumber(L, 2, 10);
	if (!v->stopped) {
		if (v->timer)
			loop_timer_cancel(v->loop, v->timer);
		v->timer = 0;
		vmqemu_stop(&v->q, (int)(t * 1000));
		if (v->mux)
			vmmux_shutdown(v->mux, "the VM was stopped");
		v->stopped = 1;
	}
	char st[64];
	lua_pushstring(L, v->q.pid > 0 ? vmqemu_status(v->q.status, st, sizeof(st)) : "not started");
	return 1;
}

static int l_kill(lua_State *L)
{
	struct lvm *v = check_vm(L);
	if (!v->stopped && v->q.pid > 0 && !vmqemu_poll(&v->q))
		kill(v->q.pid, SIGKILL);
	return 0;
}

static int l_pid(lua_State *L)
{
	lua_pushinteger(L, check_vm(L)->q.pid);
	return 1;
}

static int l_console(lua_State *L)
{
	lua_pushstring(L, check_vm(L)->q.console);
	return 1;
}

/* vm:heard() -> whether anything came from the guest yet */
static int l_heard(lua_State *L)
{
	struct lvm *v = check_vm(L);
	lua_pushboolean(L, v->mux && vmmux_last_rx(v->mux) > 0);
	return 1;
}

static int l_gc(lua_State *L)
{
	struct lvm *v = check_vm(L);
	if (!v->stopped) {
		if (v->timer)
			loop_timer_cancel(v->loop, v->timer);
		v->timer = 0;
		if (v->q.pid > 0 && !vmqemu_poll(&v->q))
			kill(v->q.pid, SIGKILL);
		vmqemu_stop(&v->q, 0);
		v->stopped = 1;
	}
	vmmux_free(v->mux);
	v->mux = NULL;
	return 0;
}

/* ---- kernels, locks, leftovers -------------------------------------------- */

static int l_kvm_available(lua_State *L)
{
	char why[256];
	int ok = vmqemu_kvm_available(why, sizeof(why));
	lua_pushboolean(L, ok);
	if (ok)
		return 1;
	lua_pushstring(L, why);
	return 2;
}

static int l_kernel_info(lua_State *L)
{
	struct vmkernel_info info;
	char err[512];
	if (vmkernel_info(luaL_checkstring(L, 1), &info, err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_createtable(L, 0, 3);
	lua_pushstring(L, info.format == VMKERNEL_BZIMAGE ? "bzImage" : "elf");
	lua_setfield(L, -2, "format");
	lua_pushboolean(L, info.pvh);
	lua_setfield(L, -2, "pvh");
	lua_pushstring(L, info.release);
	lua_setfield(L, -2, "release");
	return 1;
}

static int l_extract_vmlinux(lua_State *L)
{
	char err[512];
	if (vmkernel_extract(luaL_checkstring(L, 1), luaL_checkstring(L, 2), err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* vm_core.stat(path) -> {size=, mtime=, dir=} | nil, err */
static int l_stat(lua_State *L)
{
	struct stat st;
	const char *path = luaL_checkstring(L, 1);
	if (stat(path, &st) < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		return 2;
	}
	lua_createtable(L, 0, 3);
	lua_pushnumber(L, (lua_Number)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9);
	lua_setfield(L, -2, "mtime");
	lua_pushboolean(L, S_ISDIR(st.st_mode));
	lua_setfield(L, -2, "dir");
	return 1;
}

/* An absolute path for a program: $ENV if set, else next to this
 * executable, else the first match on PATH; NULL if none. */
static const char *program_path(const char *env, const char *prog, char *out, size_t n)
{
	const char *e = getenv(env);
	if (e && *e) {
		snprintf(out, n, "%s", e);
		return out;
	}
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, n, "%s/%s", self, prog);
			if (access(out, X_OK) == 0)
				return out;
		}
	}
	const char *path = getenv("PATH");
	while (path && *path) {
		size_t l = strcspn(path, ":");
		snprintf(out, n, "%.*s/%s", (int)l, path, prog);
		if (l && out[0] == '/' && access(out, X_OK) == 0)
			return out;
		path += l + (path[l] == ':');
	}
	return NULL;
}

/* vm_core.programs() -> {agent=, guest=, init=}: absolute paths (nil if
 * missing) of lnst-agent ($LNST_AGENT), lnst-vmguest ($LNST_VMGUEST) and
 * lnst-vminit ($LNST_VMINIT). The guest sees the host's file system, so the
 * first two run there under the same paths; the third goes in the initramfs. */
static int l_programs(lua_State *L)
{
	char buf[PATH_MAX + 64];
	lua_createtable(L, 0, 2);
	if (program_path("LNST_AGENT", "lnst-agent", buf, sizeof(buf))) {
		lua_pushstring(L, buf);
		lua_setfield(L, -2, "agent");
	}
	if (program_path("LNST_VMGUEST", "lnst-vmguest", buf, sizeof(buf))) {
		lua_pushstring(L, buf);
		lua_setfield(L, -2, "guest");
	}
	if (program_path("LNST_VMINIT", "lnst-vminit", buf, sizeof(buf))) {
		lua_pushstring(L, buf);
		lua_setfield(L, -2, "init");
	}
	return 1;
}

/* vm_core.guest_path() -> the PATH of a guest (and its agents): the
 * standard directories that exist and hold something, each once (on a
 * merged-/usr system /bin is /usr/bin). The guest does not cache 9p lookups
 * of names that do not exist, so each directory a command is looked up in
 * costs a round trip to the host, every time (the agents alone look up
 * fifteen tools as they start); its root is read-only, so what is left out
 * stays empty. */
static int l_guest_path(lua_State *L)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char path[256] = "", real[6][PATH_MAX];
	size_t len = 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int keep = realpath(dirs[i], real[i]) != NULL;
		for (size_t j = 0; keep && j < i; j++)
			keep = strcmp(real[i], real[j]) != 0;
		if (!keep) {
			real[i][0] = 0;
			continue;
		}
		DIR *d = opendir(real[i]);
		struct dirent *e;
		int empty = 1;
		while (d && empty && (e = readdir(d)))
			empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
		if (d)
			closedir(d);
		if (d && !empty && len < sizeof(path))
			len += (size_t)snprintf(path + len, sizeof(path) - len, "%s%s", len ? ":" : "", dirs[i]);
	}
	if (len == 0 || len >= sizeof(path))
		snprintf(path, sizeof(path), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	lua_pushstring(L, path);
	return 1;
}

static int l_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int *fd = lua_newuserdata(L, sizeof(int));
	*fd = -1;
	luaL_getmetatable(L, LOCK_MT);
	lua_setmetatable(L, -2);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return luaL_error(L, "cannot open lock file %s: %s", path, strerror(errno));
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR || ctl_interrupted)
			return luaL_error(L, "cannot lock %s: %s", path,
					  ctl_interrupted ? "interrupted" : strerror(errno));
	}
	return 1;
}

static int l_unlock(lua_State *L)
{
	int *fd = luaL_checkudata(L, 1, LOCK_MT);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

static void push_report(const char *name, int qemu_pid, int ctl_pid, void *ud)
{
	lua_State *L = ud;
	lua_createtable(L, 0, 3);
	lua_pushstring(L, name);
	lua_setfield(L, -2, "name");
	lua_pushinteger(L, qemu_pid);
	lua_setfield(L, -2, "qemu_pid");
	lua_pushinteger(L, ctl_pid);
	lua_setfield(L, -2, "controller_pid");
	lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
}

/* vm_core.leftovers(dry_run) -> { {name=, qemu_pid=, controller_pid=}, ... } */
static int l_leftovers(lua_State *L)
{
	int dry = lua_toboolean(L, 1);
	lua_newtable(L);
	int n = vmqemu_leftovers(dry, push_report, L);
	if (n < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot read %s: %s", VMQEMU_REGISTRY, strerror(-n));
		return 2;
	}
	return 1;
}

int luaopen_lnst_vm_core(lua_State *L)
{
	static const luaL_Reg vm_methods[] = {
		{ "channel", l_channel }, { "lost", l_lost }, { "stop", l_stop },   { "kill", l_kill },
		{ "pid", l_pid },         { "console", l_console }, { "heard", l_heard }, { NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "start", l_start },
		{ "kvm_available", l_kvm_available },
		{ "kernel_info", l_kernel_info },
		{ "extract_vmlinux", l_extract_vmlinux },
		{ "lock", l_lock },
		{ "stat", l_stat },
		{ "programs", l_programs },
		{ "guest_path", l_guest_path },
		{ "leftovers", l_leftovers },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, VM_MT);
	lua_newtable(L);
	luaL_register(L, NULL, vm_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, LOCK_MT);
	lua_newtable(L);
	lua_pushcfunction(L, l_unlock);
	lua_setfield(L, -2, "unlock");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_unlock);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_newtable(L);
	luaL_register(L, NULL, funcs);
	return 1;
}
