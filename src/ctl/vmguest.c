/* vmguest.c - lnst-vmguest: the guest side of a VM run (docs/vm.md).
 *
 * The guest's init (lua/lnst/vminit.lua, then lnst-vminit: src/ctl/vminit.c)
 * mounts the host's root over 9p and moves it onto / with this program as
 * PID 1, which first makes that root ready for the agents (vmsetup.h: /proc,
 * /sys, /dev, /run, /tmp, the run directory, on-demand modules). The
 * fabric's drivers may still be loading then (by lnst-vminit's child,
 * $LNST_VMLOADER): the first vm.fabric waits for it. It owns the
 * guest's end of the one channel to the host (the virtio-serial port named
 * VMGUEST_PORT) and multiplexes it (vmmux.h): channel 0 is a control
 * conversation in the agents' own wire protocol, every other channel is an
 * agent. On request it starts one lnst-agent per recipe host exactly as the
 * netns provisioner does on a real machine (spawn.c: fresh net, mount and PID
 * namespaces, the agent as their first process) and wires them with a fabric
 * namespace (fabric.c). It sends a heartbeat every second, so the host can
 * tell a hung guest from a busy one, and it powers the guest off when asked
 * or when the host goes away.
 *
 * The agents probe which link kinds the kernel accepts once per boot and
 * cache the answer in /run/lnst/kinds2-BOOT_ID (src/agent/link.c); probing
 * loads dozens of modules, seconds under TCG. That file is carried across
 * boots of the same kernel: the setup (vmsetup.c) puts the copy the host
 * keeps for the kernel in place, and at power-off it goes to the run directory
 * (kinds.cache), from where the host takes it. The agents check its key
 * (agent version, kernel release).
 *
 * Control methods (channel 0): vm.spawn {name, channel, debug} -> {pid}
 * (answered once the agent's exec succeeded; meanwhile the next requests
 * are served, so agents start side by side and the fabric is wired as
 * they start);
 * vm.fabric {bridges = [name...], veths = [{name, bridge, channel, peer}]};
 * vm.fabric_mtu {name, mtu}: a fabric end follows its NIC's MTU;
 * vm.reap {pid, timeout} -> {status}; vm.end_run (the fabric goes, and /tmp
 * and /run are emptied but for lnst's own files, so that the next run in a
 * guest kept running finds it as fresh as after a boot); vm.poweroff.
 * Events: vm.ready {kernel, uptime, agent, steps}, vm.heartbeat {uptime},
 * vm.exited {pid, channel, status}.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "dirwipe.h"
#include "fabric.h"
#include "loop.h"
#include "msg.h"
#include "spawn.h"
#include "vmmux.h"
#include "vmsetup.h"

#define VMGUEST_PORT "org.lnst.ctl"
#define MAX_CHILDREN 256

struct child {
	pid_t pid;
	uint32_t channel;
	char name[64];
	int exited;
	int status;
};

/* A vm.spawn answered once its agent's exec succeeded or failed (the
 * control conversation goes on meanwhile: the next spawn, the fabric). */
struct pending_spawn {
	struct guest *g;
	int64_t id;
	pid_t pid;
	char name[64];
};

struct reap {
	int64_t id;    /* request to answer */
	pid_t pid;
	int64_t timer; /* SIGKILL after the timeout */
	struct reap *next;
};

struct guest {
	struct loop *loop;
	struct vmmux *mux;
	struct conn ctl;
	struct fabric fabric;
	int fabric_open;
	struct child children[MAX_CHILDREN];
	int nchildren;
	struct reap *reaps;
	pid_t loader; /* lnst-vminit's child loading the fabric's drivers */
	int quit;
};

static double uptime(void)
{
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");
	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	return up;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "lnst-vmguest: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void emit(struct guest *g, cJSON *ev)
{
	if (!g->ctl.closed)
		conn_send(&g->ctl, ev);
	else
		cJSON_Delete(ev);
}

static const char *status_text(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by SIG%s", sigabbrev_np(WTERMSIG(st)) ?: "?");
	else
		snprintf(buf, n, "status %d", st);
	return buf;
}

static struct child *child_by(struct guest *g, pid_t pid, uint32_t channel)
{
	for (int i = 0; i < g->nchildren; i++) {
		struct child *c = &g->children[i];
		if ((pid && c->pid == pid) || (!pid && c->channel == channel))
			return c;
	}
	return NULL;
}

static void reply_reap(struct guest *g, struct reap *r, const struct child *c)
{
	char st[64];
	cJSON *res = cJSON_CreateObject();
	cJSON_AddStringToObject(res, "status", status_text(c->status, st, sizeof(st)));
	conn_send(&g->ctl, msg_reply(r->id, res));
	if (r->timer)
		loop_timer_cancel(g->loop, r->timer);
	for (struct reap **pp = &g->reaps; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	free(r);
}

/* Reaps every exited child (orphans of the guest land here too: PID 1). */
static void reap_children(struct guest *g)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == g->loader)
			g->loader = 0;
		struct child *c = child_by(g, pid, 0);
		if (!c)
			continue;
		c->exited = 1;
		c->status = st;
		char txt[64];
		cJSON *ev = msg_event("vm.exited");
		cJSON_AddNumberToObject(ev, "pid", pid);
		cJSON_AddNumberToObject(ev, "channel", c->channel);
		cJSON_AddStringToObject(ev, "status", status_text(st, txt, sizeof(txt)));
		emit(g, ev);
		for (struct reap *r = g->reaps, *next; r; r = next) {
			next = r->next;
			if (r->pid == pid)
				reply_reap(g, r, c);
		}
	}
}

/* The path of the agents' probe cache for this boot. */
static int kinds_path(char *out, size_t n)
{
	char boot[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return -1;
	if (!fgets(boot, sizeof(boot), f))
		boot[0] = 0;
	fclose(f);
	boot[strcspn(boot, "\n")] = 0;
	if (!boot[0])
		return -1;
	snprintf(out, n, VMSETUP_KINDS_PREFIX "%s", boot);
	return 0;
}

static void copy_file(const char *from, const char *to)
{
	char buf[8192], tmp[PATH_MAX + 8];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n = 0;
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (out < 0)
		return;
	if (close(out) == 0 && n == 0 && rename(tmp, to) == 0)
		return;
	unlink(tmp);
}

/* Whether the probe cache is there (check 1), or saves it to the run
 * directory (check 0). */
static int kinds_cache(int check)
{
	const char *run = getenv("lnst_run");
	char cache[PATH_MAX], kinds[128];
	if (kinds_path(kinds, sizeof(kinds)))
		return 0;
	if (check)
		return access(kinds, F_OK) == 0;
	if (!run)
		return 0;
	snprintf(cache, sizeof(cache), "%s/kinds.cache", run);
	copy_file(kinds, cache);
	return 0;
}

static void poweroff(struct guest *g, const char *why)
{
	say("powering off: %s", why);
	for (int i = 0; i < g->nchildren; i++)
		if (!g->children[i].exited)
			kill(g->children[i].pid, SIGKILL);
	/* Let what is queued reach the host (replies, the last events). */
	int64_t end = loop_now_ms() + 1000;
	while (g->mux && !vmmux_ended(g->mux) && loop_now_ms() < end) {
		int n = loop_run_once(g->loop, 20);
		if (n == 0 && g->ctl.wlen == 0 && vmmux_flush(g->mux, 100) == 0)
			break;
	}
	kinds_cache(0);
	sync();
	if (getpid() == 1) {
		reboot(RB_POWER_OFF);
		say("power-off failed: %s", strerror(errno));
	}
	g->quit = 1;
}

/* Empties directory path (the run directory, a 9p mount under /tmp, is
 * another file system and stays), sparing the names in keep. */
static void wipe_dir(const char *path, const char *const *keep)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	dirwipe(fd, st.st_dev, keep);
}

/* ---- control methods ------------------------------------------------------- */

static void spawn_done(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)events;
	struct pending_spawn *ps = ud;
	char err[512];
	loop_del(l, fd);
	if (spawn_exec_error(fd, ps->name, err, sizeof(err))) {
		conn_send(&ps->g->ctl, msg_error(ps->id, "EIO", "%s", err));
	} else {
		cJSON *res = cJSON_CreateObject();
		cJSON_AddNumberToObject(res, "pid", ps->pid);
		conn_send(&ps->g->ctl, msg_reply(ps->id, res));
	}
	close(fd);
	free(ps);
}

/* Starts the agent; the answer ({pid}) goes out once its exec succeeded
 * (spawn_done: *deferred set, NULL returned), without waiting for it here
 * when the loop can watch for that. */
static cJSON *do_spawn(struct guest *g, int64_t id, const cJSON *p, int *deferred, char *err, size_t errlen)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(p, "channel");
	if (!cJSON_IsString(name) || !cJSON_IsNumber(ch) || ch->valuedouble < 1 || ch->valuedouble > 1e9) {
		snprintf(err, errlen, "vm.spawn needs name (string) and channel (integer >= 1)");
		return NULL;
	}
	if (g->nchildren == MAX_CHILDREN) {
		snprintf(err, errlen, "too many agents in this guest (%d)", MAX_CHILDREN);
		return NULL;
	}
	pid_t pid;
	int fd, exec_fd;
	int debug = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "debug"));
	struct pending_spawn *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (spawn_local_agent_async(name->valuestring, debug, &pid, &fd, &exec_fd, err, errlen)) {
		free(ps);
		return NULL;
	}
	struct child *c = &g->children[g->nchildren++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->channel = (uint32_t)ch->valuedouble;
	snprintf(c->name, sizeof(c->name), "%s", name->valuestring);
	int e = vmmux_attach(g->mux, c->channel, fd);
	if (e) {
		kill(pid, SIGKILL);
		close(exec_fd);
		free(ps);
		snprintf(err, errlen, "host %s: cannot attach channel %u: %s", c->name, c->channel, strerror(-e));
		return NULL;
	}
	ps->g = g;
	ps->id = id;
	ps->pid = pid;
	snprintf(ps->name, sizeof(ps->name), "%s", name->valuestring);
	if (loop_add(g->loop, exec_fd, EPOLLIN, spawn_done, ps) == 0) {
		*deferred = 1;
		return NULL;
	}
	free(ps); /* no watch: wait for the exec here */
	e = spawn_exec_error(exec_fd, name->valuestring, err, errlen);
	close(exec_fd);
	if (e)
		return NULL;
	cJSON *res = cJSON_CreateObject();
	cJSON_AddNumberToObject(res, "pid", pid);
	return res;
}

static int bridge_index(const cJSON *names, const int *idx, const char *name)
{
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, names) {
		if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
			return idx[i];
		i++;
	}
	return -1;
}

static cJSON *do_fabric(struct guest *g, const cJSON *p, char *err, size_t errlen)
{
	const cJSON *bridges = cJSON_GetObjectItemCaseSensitive(p, "bridges");
	const cJSON *veths = cJSON_GetObjectItemCaseSensitive(p, "veths");
	if (!cJSON_IsArray(bridges) || !cJSON_IsArray(veths) || cJSON_GetArraySize(bridges) > 4096) {
		snprintf(err, errlen, "vm.fabric needs bridges and veths (arrays)");
		return NULL;
	}
	if (g->loader > 0) { /* the fabric's drivers: loaded by then */
		while (waitpid(g->loader, NULL, 0) < 0 && errno == EINTR) {
		}
		g->loader = 0;
	}
	if (!g->fabric_open) {
		if (fabric_open(&g->fabric, err, errlen))
			return NULL;
		g->fabric_open = 1;
	}
	int n = cJSON_GetArraySize(bridges), i = 0;
	int *idx = calloc((size_t)n + 1, sizeof(int));
	if (!idx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cJSON *res = NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, bridges) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen, "vm.fabric: bridge names must be strings");
			goto out;
		}
		if (fabric_bridge_add(&g->fabric, it->valuestring, &idx[i++], err, errlen))
			goto out;
	}
	cJSON_ArrayForEach(it, veths) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
		const char *br = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "bridge"));
		const char *peer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "peer"));
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(it, "channel");
		if (!name || !br || !peer || !cJSON_IsNumber(ch)) {
			snprintf(err, errlen, "vm.fabric: a veth needs name, bridge, channel and peer");
			goto out;
		}
		int master = bridge_index(bridges, idx, br);
		struct child *c = child_by(g, 0, (uint32_t)ch->valuedouble);
		if (master < 0 || !c || c->exited) {
			snprintf(err, errlen, "vm.fabric: veth %s: %s", name,
				 master < 0 ? "unknown bridge" : "no live agent on its channel");
			goto out;
		}
		if (fabric_veth_add(&g->fabric, name, master, c->pid, peer, err, errlen))
			goto out;
	}
	res = cJSON_CreateObject();
out:
	free(idx);
	return res;
}

/* vm.fabric_mtu {name, mtu}: a fabric end follows its NIC's MTU. */
static cJSON *do_fabric_mtu(struct guest *g, const cJSON *p, char *err, size_t errlen)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name"));
	const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(p, "mtu");
	if (!name || !cJSON_IsNumber(mtu) || mtu->valuedouble < 68 || mtu->valuedouble > 65535) {
		snprintf(err, errlen, "vm.fabric_mtu needs name and mtu (68 to 65535)");
		return NULL;
	}
	if (!g->fabric_open) {
		snprintf(err, errlen, "vm.fabric_mtu: there is no fabric");
		return NULL;
	}
	if (fabric_set_mtu(&g->fabric, name, (int)mtu->valuedouble, err, errlen))
		return NULL;
	return cJSON_CreateObject();
}

static void reap_timeout(struct loop *l, void *ud)
{
	(void)l;
	struct reap *r = ud;
	r->timer = 0;
	kill(r->pid, SIGKILL); /* answered when it is reaped */
}

/* Answers at once if the child is gone, else when it is (SIGKILL after
 * the timeout). Returns 1 when the answer is deferred. */
static int do_reap(struct guest *g, int64_t id, const cJSON *p, char *err, size_t errlen)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(p, "pid");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "timeout");
	struct child *c = cJSON_IsNumber(pid) ? child_by(g, (pid_t)pid->valuedouble, 0) : NULL;
	if (!c || !c->pid) {
		snprintf(err, errlen, "vm.reap: no agent with that pid");
		return -1;
	}
	struct reap *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->id = id;
	r->pid = c->pid;
	r->next = g->reaps;
	g->reaps = r;
	if (c->exited) {
		reply_reap(g, r, c);
		return 1;
	}
	double secs = cJSON_IsNumber(t) ? t->valuedouble : 5;
	r->timer = loop_timer_add(g->loop, (int64_t)(secs * 1000), reap_timeout, r);
	return 1;
}

static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	struct guest *g = ud;
	if (m->kind != MSG_REQUEST) {
		conn_close(c, "protocol error: the host may only send requests");
		return;
	}
	char err[512] = "";
	cJSON *res = NULL;
	const char *code = "EINVAL";
	if (strcmp(m->method, "vm.spawn") == 0) {
		int deferred = 0;
		res = do_spawn(g, m->id, m->params, &deferred, err, sizeof(err));
		if (deferred)
			return;
	} else if (strcmp(m->method, "vm.fabric") == 0) {
		res = do_fabric(g, m->params, err, sizeof(err));
	} else if (strcmp(m->method, "vm.fabric_mtu") == 0) {
		res = do_fabric_mtu(g, m->params, err, sizeof(err));
	} else if (strcmp(m->method, "vm.end_run") == 0) {
		static const char *const run_keep[] = { "lnst-vm", "lnst", NULL };
		if (g->fabric_open)
			fabric_close(&g->fabric);
		g->fabric_open = 0;
		wipe_dir("/tmp", NULL);
		wipe_dir("/run", run_keep);
		/* the run's agents are gone: their slots are free again */
		int n = 0;
		for (int i = 0; i < g->nchildren; i++)
			if (!g->children[i].exited)
				g->children[n++] = g->children[i];
		g->nchildren = n;
		res = cJSON_CreateObject();
	} else if (strcmp(m->method, "vm.reap") == 0) {
		if (do_reap(g, m->id, m->params, err, sizeof(err)) > 0)
			return;
	} else if (strcmp(m->method, "vm.poweroff") == 0) {
		conn_send(c, msg_reply(m->id, cJSON_CreateObject()));
		g->quit = 2;
		return;
	} else {
		code = "ENOSYS";
		snprintf(err, sizeof(err), "unknown method %s", m->method);
	}
	if (res)
		conn_send(c, msg_reply(m->id, res));
	else
		conn_send(c, msg_error(m->id, code, "%s", err));
}

static void on_ctl_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	struct guest *g = ud;
	say("control channel closed: %s", reason);
	g->quit = 2;
}

static void on_mux_close(struct vmmux *m, const char *reason, void *ud)
{
	(void)m;
	struct guest *g = ud;
	say("host channel closed: %s", reason);
	g->quit = 2;
}

static void heartbeat(struct loop *l, void *ud)
{
	struct guest *g = ud;
	cJSON *ev = msg_event("vm.heartbeat");
	cJSON_AddNumberToObject(ev, "uptime", uptime());
	emit(g, ev);
	loop_timer_add(l, 1000, heartbeat, g);
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
	}
	reap_children(ud);
}

/* Without a probe cache (the first boot of a kernel) the first agent will
 * probe every link kind, each creation making the kernel run its module
 * helper (/proc/sys/kernel/modprobe, set up by the init) for the kind's
 * driver: under TCG that outlasts the agent's wait for its probe. So the
 * drivers of all kinds are loaded first, in one run of that helper (by
 * their rtnl-link aliases; unknown ones are skipped), before the guest
 * reports ready. */
static void preload_modules(void)
{
	static const char *const argv[] = {
		"modprobe", "-q", "-a", "rtnl-link-bond", "rtnl-link-team", "rtnl-link-vlan",
		"rtnl-link-macvlan", "rtnl-link-macvtap", "rtnl-link-ipvlan", "rtnl-link-vxlan", "rtnl-link-geneve",
		"rtnl-link-gre", "rtnl-link-gretap", "rtnl-link-ip6gre", "rtnl-link-ipip", "rtnl-link-sit",
		"rtnl-link-ip6tnl", "rtnl-link-vti", "rtnl-link-vti6", "rtnl-link-macsec", "rtnl-link-wireguard",
		"rtnl-link-dummy", "rtnl-link-vrf", "l2tp_eth", "l2tp_netlink", "tun", NULL,
	};
	char helper[256] = "";
	FILE *f = fopen("/proc/sys/kernel/modprobe", "re");
	if (!f)
		return;
	if (!fgets(helper, sizeof(helper), f))
		helper[0] = 0;
	fclose(f);
	helper[strcspn(helper, "\n")] = 0;
	if (!helper[0] || access(helper, X_OK) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execv(helper, (char *const *)argv);
		_exit(127);
	}
	if (pid > 0) {
		int st;
		say("first boot of this kernel: loading the drivers of every link kind");
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
		}
	}
}

/* The port's character device: /dev/vportNpM whose name is VMGUEST_PORT. */
static int open_port(char *path, size_t n)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -errno;
	struct dirent *e;
	int fd = -ENOENT;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[300], name[64] = "";
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		name[strcspn(name, "\n")] = 0;
		if (strcmp(name, VMGUEST_PORT) != 0)
			continue;
		snprintf(path, n, "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		break;
	}
	closedir(d);
	return fd;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static struct guest g;
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 0);
	umask(022);
	const char *loader = getenv("LNST_VMLOADER");
	g.loader = loader ? (pid_t)atoi(loader) : 0;
	unsetenv("LNST_VMLOADER");
	if (getpid() == 1) {
		char err[512];
		if (vmsetup_root(err, sizeof(err))) {
			say("cannot set the guest up: %s", err);
			poweroff(&g, "setup failed");
			return 1;
		}
	}
	double setup_done = uptime();
	const char *path = getenv("lnst_path"); /* the host's choice: lua_vm.c, l_guest_path */
	if (path && path[0] == '/')
		setenv("PATH", path, 1);
	int cached = kinds_cache(1);
	char port[300];
	int fd = open_port(port, sizeof(port));
	if (fd < 0) {
		say("cannot open the virtio-serial port " VMGUEST_PORT ": %s", strerror(-fd));
		poweroff(&g, "no channel to the host");
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	g.loop = loop_new();
	int cfd = -1;
	if (!g.loop || sfd < 0 || loop_add(g.loop, sfd, EPOLLIN, on_signal, &g) ||
	    vmmux_new(&g.mux, g.loop, fd, on_mux_close, &g) || vmmux_open(g.mux, 0, &cfd) ||
	    conn_init(&g.ctl, g.loop, cfd, 0, on_msg, on_ctl_close, &g)) {
		say("cannot set up the host channel on %s", port);
		poweroff(&g, "setup failed");
		return 1;
	}
	struct utsname u;
	uname(&u);
	if (!cached)
		preload_modules();
	/* The kernel's uptime at each step of the boot, for lnst run -d:
	 * lnst-vminit's, then this program's. */
	double up = uptime();
	char steps[256];
	const char *init_steps = getenv("LNST_BOOT_STEPS");
	snprintf(steps, sizeof(steps), "%s%ssetup %.2f%s ready %.2f", init_steps ? init_steps : "",
		 init_steps ? " " : "", setup_done, cached ? "" : " (drivers of every link kind loaded)", up);
	unsetenv("LNST_BOOT_STEPS");
	cJSON *ev = msg_event("vm.ready");
	cJSON_AddStringToObject(ev, "kernel", u.release);
	cJSON_AddNumberToObject(ev, "uptime", up);
	cJSON_AddStringToObject(ev, "steps", steps);
	cJSON_AddStringToObject(ev, "agent", spawn_agent_path());
	emit(&g, ev);
	loop_timer_add(g.loop, 1000, heartbeat, &g);
	while (!g.quit) {
		int n = loop_run_once(g.loop, -1);
		if (n < 0 && n != -EINTR)
			break;
	}
	poweroff(&g, g.quit == 2 ? "asked to" : "event loop failed");
	return 0;
}
