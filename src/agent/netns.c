/* netns.c - namespaces, their workers, forwarding and device moves (netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"
#include "log.h"
#include "nlutil.h"

#define NETNS_DIR "/run/netns"
#define CALL_TIMEOUT_MS 30000
#define BYE_TIMEOUT_MS 10000

struct ns {
	char name[MSG_NAME_MAX + 1];
	char path[128];
	int nsfd;
	int mounted;  /* path is our bind mount */
	pid_t pid;
	int pidfd;
	int fd;       /* the root's end of the worker socketpair; -1 once closed */
	struct frame_reader rd;
	int dead;     /* the worker is gone or unusable */
	int closing;  /* being deleted: its exit is expected */
	struct nl_sock *rtnl; /* rtnetlink socket inside the namespace */
	struct ns *next;
};

/* A device move made by the run; undone newest first. */
struct move {
	struct agent *a;
	char src[MSG_NAME_MAX + 1]; /* "" = the host's root namespace */
	char dst[MSG_NAME_MAX + 1];
	int ifindex;                /* in dst */
	char name[IFNAMSIZ];
	int done;                   /* moved back, or can no longer be */
	int superseded;             /* moved on by a later move */
	struct move *prev;          /* the move this one continued */
	struct move *next;
};

struct netns {
	struct ns *list;
	struct move *moves;
	int root_fd;
	struct nl_sock *root_rtnl;
	int dir_ready;
	int64_t next_id;
	int64_t drain_timer;
};

static const char *label(const char *name)
{
	return name && name[0] ? name : "the root namespace";
}

static struct netns *ctx(struct agent *a, char *err, size_t errlen)
{
	if (a->netns)
		return a->netns;
	struct netns *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->root_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->root_fd < 0 || nlutil_open(&n->root_rtnl, NETLINK_ROUTE)) {
		snprintf(err, errlen, "cannot open the agent's own network namespace: %s", strerror(errno));
		if (n->root_fd >= 0)
			close(n->root_fd);
		free(n);
		return NULL;
	}
	a->netns = n;
	return n;
}

static struct ns *find(struct netns *n, const char *name)
{
	for (struct ns *s = n ? n->list : NULL; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* ---- the worker link -------------------------------------------------------------- */

static void worker_lost(struct agent *a, struct ns *s, const char *why)
{
	if (s->fd >= 0) {
		loop_del(a->loop, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	if (!s->dead && !s->closing) {
		log_warn("namespace %s: its worker is gone (%s)", s->name, why);
		/* Its jobs will never report: the controller stops waiting for them. */
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "netns", s->name);
		cJSON_AddStringToObject(ev, "reason", why);
		agent_emit(a, "netns.lost", ev);
	}
	s->dead = 1;
}

static void relay_event(struct agent *a, struct ns *s, struct msg *m)
{
	int moved = strcmp(m->event, "dev.netns_changed") == 0;
	cJSON *ev = m->root;
	m->root = NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(ev, "netns");
	cJSON_AddStringToObject(ev, "netns", s->name);
	if (moved)
		netns_fix_event(a, "dev.netns_changed", ev);
	if (a->connected && !a->conn.closed)
		conn_send(&a->conn, ev);
	else
		cJSON_Delete(ev);
}

/* Handles the frames already read: events are relayed; returns 1 with
 * *reply (the whole message) when the reply to `want` is among them. */
static int pump(struct agent *a, struct ns *s, int64_t want, cJSON **reply)
{
	const char *payload;
	uint32_t len;
	int r;
	while ((r = frame_reader_next(&s->rd, &payload, &len)) == 1) {
		struct msg m;
		const char *why;
		if (msg_parse(payload, len, &m, &why)) {
			log_warn("namespace %s: invalid message from its worker dropped: %s", s->name, why);
			continue;
		}
		if (m.kind == MSG_EVENT) {
			relay_event(a, s, &m);
		} else if (m.kind == MSG_REPLY && want && m.id == want) {
			*reply = m.root;
			m.root = NULL;
			msg_free(&m);
			return 1;
		} else {
			log_warn("namespace %s: unexpected %s from its worker dropped", s->name,
				 m.kind == MSG_REPLY ? "reply" : "request");
		}
		msg_free(&m);
	}
	if (r == -EMSGSIZE)
		worker_lost(a, s, "it sent a frame over the size limit");
	return 0;
}

static void fill(struct agent *a, struct ns *s)
{
	ssize_t n = frame_reader_fill(&s->rd, s->fd);
	if (n == -EAGAIN || n > 0)
		return;
	char why[128];
	snprintf(why, sizeof(why), "%s", n == 0 ? "it closed its connection" : strerror((int)-n));
	worker_lost(a, s, why);
}

static void drain_cb(struct loop *l, void *ud)
{
	(void)l;
	struct agent *a = ud;
	a->netns->drain_timer = 0;
	for (struct ns *s = a->netns->list; s; s = s->next)
		pump(a, s, 0, NULL);
}

/* Frames read along with a reply are handled after the current request. */
static void schedule_drain(struct agent *a)
{
	if (!a->netns->drain_timer)
		a->netns->drain_timer = loop_timer_add(a->loop, 0, drain_cb, a);
}

static int write_all(struct ns *s, const char *payload, size_t len)
{
	uint8_t hdr[FRAME_HDR_LEN];
	frame_header_put(hdr, (uint32_t)len);
	const char *parts[2] = { (const char *)hdr, payload };
	size_t sizes[2] = { FRAME_HDR_LEN, len };
	int64_t end = loop_now_ms() + 5000;
	for (int i = 0; i < 2; i++) {
		size_t off = 0;
		while (off < sizes[i]) {
			ssize_t n = write(s->fd, parts[i] + off, sizes[i] - off);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EAGAIN)
				return -errno;
			int left = (int)(end - loop_now_ms());
			if (left <= 0)
				return -ETIMEDOUT;
			struct pollfd pf = { .fd = s->fd, .events = POLLOUT };
			poll(&pf, 1, left);
		}
	}
	return 0;
}

/* One request to a worker; waits for its reply (the whole message), relaying
 * events meanwhile. params is consumed. */
static int ns_call(struct agent *a, struct ns *s, const char *method, cJSON *params, int timeout_ms,
		   cJSON **reply)
{
	*reply = NULL;
	if (s->dead) {
		cJSON_Delete(params);
		return -ENOTCONN;
	}
	int64_t id = ++a->netns->next_id;
	cJSON *req = msg_request(id, method, NULL, params);
	char *txt = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (!txt)
		return -ENOMEM;
	int err = write_all(s, txt, strlen(txt));
	cJSON_free(txt);
	if (err) {
		worker_lost(a, s, strerror(-err));
		return -ENOTCONN;
	}
	int64_t end = loop_now_ms() + timeout_ms;
	for (;;) {
		if (pump(a, s, id, reply)) {
			schedule_drain(a);
			return 0;
		}
		if (s->dead)
			return -ENOTCONN;
		int64_t left = end - loop_now_ms();
		if (left <= 0) {
			/* A worker that does not answer is out of step: stop using it. */
			if (s->pidfd >= 0)
				pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
			worker_lost(a, s, "it did not answer in time");
			return -ETIMEDOUT;
		}
		struct pollfd pf = { .fd = s->fd, .events = POLLIN };
		if (poll(&pf, 1, (int)left) > 0)
			fill(a, s);
	}
}

/* The result of a worker call, or -errno with r->err from its error reply. */
static int call_result(struct agent *a, struct ns *s, const char *method, cJSON *params, cJSON **result,
		       struct rpc_reply *r)
{
	cJSON *rep;
	int err = ns_call(a, s, method, params, CALL_TIMEOUT_MS, &rep);
	if (err) {
		snprintf(r->err, sizeof(r->err), "namespace %s: %s", s->name,
			 err == -ETIMEDOUT ? "its worker did not answer within 30 s" : "its worker has exited");
		return err;
	}
	cJSON *e = cJSON_GetObjectItemCaseSensitive(rep, "error");
	if (e) {
		const char *code = cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring;
		snprintf(r->err, sizeof(r->err), "%s", cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring);
		cJSON_Delete(rep);
		return strcmp(code, "ENODEV") == 0 ? -ENODEV : strcmp(code, "EEXIST") == 0 ? -EEXIST : -EINVAL;
	}
	*result = cJSON_DetachItemFromObjectCaseSensitive(rep, "result");
	cJSON_Delete(rep);
	return 0;
}

/* ---- routing ------------------------------------------------------------------------- */

static int host_level(const char *method)
{
	return strncmp(method, "netns.", 6) == 0 || strcmp(method, "bye") == 0;
}

int netns_route_request(struct agent *a, const struct msg *m)
{
	const char *code = "EINVAL";
	char why[256] = "";
	struct ns *s = NULL;
	if (a->worker_ns)
		snprintf(why, sizeof(why), "this agent serves namespace %s only; its requests carry no netns",
			 a->worker_ns);
	else if (strcmp(m->method, "dev.set_netns") == 0)
		return 0; /* the root moves devices itself */
	else if (host_level(m->method))
		snprintf(why, sizeof(why), "this method acts on the whole host: send it without netns");
	else if (strncmp(m->method, "worker.", 7) == 0)
		snprintf(why, sizeof(why), "unknown method"), code = "ENOSYS";
	else if (!(s = find(a->netns, m->netns)))
		snprintf(why, sizeof(why), "namespace %s does not exist on this host", m->netns), code = "ENOENT";
	else if (s->dead)
		snprintf(why, sizeof(why), "namespace %s: its worker has exited", m->netns), code = "EIO";
	if (why[0]) {
		conn_send(&a->conn, msg_error(m->id, code, "%s: %s", m->method, why));
		return 1;
	}
	cJSON *rep;
	int err = ns_call(a, s, m->method, m->params ? cJSON_Duplicate(m->params, 1) : NULL,
			  CALL_TIMEOUT_MS, &rep);
	if (err) {
		conn_send(&a->conn, msg_error(m->id, msg_errno_name(err), "%s: namespace %s: %s", m->method,
					      s->name, err == -ETIMEDOUT ? "its worker did not answer within 30 s"
									 : "its worker has exited"));
		return 1;
	}
	cJSON_ReplaceItemInObjectCaseSensitive(rep, "id", cJSON_CreateNumber((double)m->id));
	conn_send(&a->conn, rep);
	return 1;
}

void netns_end_runs(struct agent *a)
{
	for (struct ns *s = a->netns ? a->netns->list : NULL; s; s = s->next) {
		cJSON *rep;
		if (!s->dead && ns_call(a, s, "run.end", NULL, CALL_TIMEOUT_MS, &rep) == 0)
			cJSON_Delete(rep);
	}
}

/* ---- namespace ids -------------------------------------------------------------------- */

static int nsid_cb(struct nlmsghdr *h, void *ud)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	if (nlmsg_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 && tb[NETNSA_NSID])
		*(int *)ud = (int)nla_get_u32(tb[NETNSA_NSID]);
	return 0;
}

/* The id that the namespace of sk gives the namespace fd (-1: none). */
static int nsid_of(struct nl_sock *sk, int fd)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNSID, 0);
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	int id = -1;
	if (!m || nlmsg_append(m, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, NETNSA_FD, (uint32_t)fd) < 0) {
		nlmsg_free(m);
		return -1;
	}
	nlutil_request(sk, m, nsid_cb, &id, NULL, 0);
	return id;
}

void netns_fix_event(struct agent *a, const char *name, cJSON *ev)
{
	if (a->worker_ns)
		return; /* the root agent knows the names */
	if (strcmp(name, "dev.netns_changed") != 0)
		return;
	const char *srcname = NULL;
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "netns");
	if (cJSON_IsString(src))
		srcname = src->valuestring;
	cJSON *idj = cJSON_DetachItemFromObjectCaseSensitive(ev, "new_netnsid");
	if (!idj)
		return; /* already complete (made by the root itself) */
	int id = (int)idj->valuedouble;
	cJSON_Delete(idj);
	struct netns *n = a->netns;
	const char *found = NULL;
	struct ns *from = srcname ? find(n, srcname) : NULL;
	struct nl_sock *sk = from ? from->rtnl : n ? n->root_rtnl : NULL;
	if (sk && id >= 0) {
		if (from && nsid_of(sk, n->root_fd) == id)
			found = "";
		for (struct ns *s = n->list; s && !found; s = s->next)
			if (s != from && nsid_of(sk, s->nsfd) == id)
				found = s->name;
	}
	if (found)
		cJSON_AddStringToObject(ev, "new_netns", found);
	else
		cJSON_AddNullToObject(ev, "new_netns");
}

/* ---- creating and deleting ---------------------------------------------------------------- */

static int valid_ns_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MSG_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-'))
			return 0;
	return 1;
}

/* /run/netns: private to a local host's mount namespace, or shared as
 * iproute2 makes it on a real machine. Mounts in it propagate to the
 * workers' mount namespaces, so deleting a namespace unmounts it there too. */
static int prepare_dir(struct agent *a, struct netns *n, struct rpc_reply *r)
{
	if (n->dir_ready)
		return 0;
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST) {
		snprintf(r->err, sizeof(r->err), "netns.add: cannot create %s: %s", NETNS_DIR, strerror(errno));
		return -errno;
	}
	int err = 0;
	if (a->netns_host) {
		if (mount("lnst-netns", NETNS_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0 ||
		    mount(NULL, NETNS_DIR, NULL, MS_SHARED, NULL) < 0)
			err = -errno;
	} else if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL ||
		    mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
			err = -errno;
	}
	if (err) {
		snprintf(r->err, sizeof(r->err), "netns.add: cannot prepare %s: %s", NETNS_DIR, strerror(-err));
		return err;
	}
	n->dir_ready = 1;
	return 0;
}

static int create_ns(struct netns *n, struct ns *s, struct rpc_reply *r)
{
	char path[sizeof(s->path)];
	snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, s->name);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			snprintf(r->err, sizeof(r->err),
				 "netns.add %s: %s exists (a namespace of that name is already on this machine)",
				 s->name, path);
		else
			snprintf(r->err, sizeof(r->err), "netns.add %s: cannot create %s: %s", s->name, path,
				 strerror(e));
		return -e;
	}
	close(fd);
	/* Ours from here on: destroy_ns removes it. */
	snprintf(s->path, sizeof(s->path), "%s", path);
	/* As iproute2: enter a new namespace, name it by a bind mount, return. */
	int err = 0;
	struct nl_sock *sk = NULL;
	if (unshare(CLONE_NEWNET) < 0) {
		err = -errno;
		snprintf(r->err, sizeof(r->err), "netns.add %s: cannot create a network namespace: %s", s->name,
			 strerror(errno));
	} else {
		if (mount("/proc/self/ns/net", s->path, "none", MS_BIND, NULL) < 0) {
			err = -errno;
			snprintf(r->err, sizeof(r->err), "netns.add %s: cannot bind-mount it on %s: %s", s->name,
				 s->path, strerror(errno));
		} else {
			nlutil_open(&sk, NETLINK_ROUTE);
		}
		if (setns(n->root_fd, CLONE_NEWNET) < 0) {
			log_err("cannot return to the agent's own network namespace: %s", strerror(errno));
			abort();
		}
	}
	if (err) {
		unlink(s->path);
		return err;
	}
	s->mounted = 1;
	s->rtnl = sk;
	s->nsfd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->nsfd < 0 || !sk) {
		snprintf(r->err, sizeof(r->err), "netns.add %s: cannot open the new namespace", s->name);
		return -EIO;
	}
	return 0;
}

/* The program workers exec: /proc/self/exe unless netns_init_self named it. */
static char self_exe[PATH_MAX] = "/proc/self/exe";

void netns_init_self(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/') {
		log_warn("cannot read /proc/self/exe (%s): namespace workers exec it as it is then",
			 n < 0 ? strerror(errno) : "not a path");
		return;
	}
	path[n] = 0;
	/* Natively the link and the file it names are one file: keep exec'ing
	 * /proc/self/exe, the very image running (even once the file is
	 * replaced by a rebuild). They differ when a tool runs the agent as
	 * its client and answers the readlink for it (valgrind: stat is not
	 * virtualised): then exec the agent by its path. */
	struct stat self, named;
	if (stat("/proc/self/exe", &self) == 0 && stat(path, &named) == 0 && self.st_dev == named.st_dev &&
	    self.st_ino == named.st_ino)
		return;
	memcpy(self_exe, path, (size_t)n + 1);
}

static void child_fail(int stfd, int stage)
{
	int e[2] = { stage, errno };
	if (write(stfd, e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int start_worker(struct agent *a, struct ns *s, struct rpc_reply *r)
{
	static const char *const stages[] = { "entering the namespace", "making a mount namespace",
					      "making mounts private", "mounting /sys",
					      "setting up descriptors", "exec" };
	int sv[2], st[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(st, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	char nsarg[96], namearg[96];
	snprintf(nsarg, sizeof(nsarg), "--netns-worker=%s", s->name);
	snprintf(namearg, sizeof(namearg), "--name=%s", a->name ? a->name : "");
	char *argv[6] = { (char *)"lnst-agent", (char *)"--fd=3", nsarg };
	int argc = 3;
	if (a->name)
		argv[argc++] = namearg;
	if (log_max() >= LOG_DEBUG)
		argv[argc++] = (char *)"--debug";
	argv[argc] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (setns(s->nsfd, CLONE_NEWNET) < 0)
			child_fail(st[1], 0);
		if (unshare(CLONE_NEWNS) < 0)
			child_fail(st[1], 1);
		if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
			child_fail(st[1], 2);
		umount2("/sys", MNT_DETACH);
		if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			child_fail(st[1], 3);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		if (dup2(sv[1], 3) < 0 || fcntl(3, F_SETFD, 0) < 0 || dup2(st[1], 4) < 0 ||
		    fcntl(4, F_SETFD, FD_CLOEXEC) < 0)
			child_fail(st[1], 4);
		close_range(5, ~0U, 0);
		execv(self_exe, argv);
		child_fail(4, 5);
	}
	int saved = errno;
	close(sv[1]);
	close(st[1]);
	if (pid < 0) {
		close(sv[0]);
		close(st[0]);
		snprintf(r->err, sizeof(r->err), "netns.add %s: fork: %s", s->name, strerror(saved));
		return -saved;
	}
	int e[2];
	ssize_t got;
	do
		got = read(st[0], e, sizeof(e));
	while (got < 0 && errno == EINTR);
	close(st[0]);
	if (got == sizeof(e)) {
		waitpid(pid, NULL, 0);
		close(sv[0]);
		snprintf(r->err, sizeof(r->err), "netns.add %s: starting its worker: %s%s%.200s failed: %s", s->name,
			 stages[e[0]], e[0] == 5 ? " " : "", e[0] == 5 ? self_exe : "", strerror(e[1]));
		return -e[1];
	}
	s->pid = pid;
	s->pidfd = pidfd_open(pid, 0);
	s->fd = sv[0];
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	frame_reader_init(&s->rd, FRAME_MAX_DEFAULT);
	return 0;
}

/* Stops the worker: bye (it ends its run and exits), then waits for it. */
static void stop_worker(struct agent *a, struct ns *s)
{
	s->closing = 1;
	cJSON *rep;
	if (!s->dead && ns_call(a, s, "bye", NULL, BYE_TIMEOUT_MS, &rep) == 0) {
		cJSON_Delete(rep);
		int64_t end = loop_now_ms() + 2000;
		while (!s->dead && loop_now_ms() < end) {
			struct pollfd pf = { .fd = s->fd, .events = POLLIN };
			if (poll(&pf, 1, (int)(end - loop_now_ms())) > 0) {
				fill(a, s);
				pump(a, s, 0, NULL);
			}
		}
	}
	worker_lost(a, s, "stopped");
	if (s->pidfd >= 0) {
		struct pollfd pf = { .fd = s->pidfd, .events = POLLIN };
		if (poll(&pf, 1, 2000) <= 0) {
			pidfd_send_signal(s->pidfd, SIGKILL, NULL, 0);
			poll(&pf, 1, 2000);
		}
		siginfo_t si;
		/* ECHILD when the SIGCHLD handler has reaped it already. */
		waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG);
		close(s->pidfd);
		s->pidfd = -1;
	}
	frame_reader_free(&s->rd);
}

static void destroy_ns(struct ns *s)
{
	if (s->rtnl)
		nlutil_close(s->rtnl);
	if (s->nsfd >= 0)
		close(s->nsfd);
	if (s->mounted && umount2(s->path, MNT_DETACH) < 0)
		log_warn("namespace %s: unmounting %s: %s", s->name, s->path, strerror(errno));
	if (s->path[0])
		unlink(s->path);
	free(s);
}

static int undo_move(void *vmv, const struct undo_step *st);

/* Deletes a namespace: devices the run moved out of it come back (so its
 * deletion takes them), its worker ends its run and exits, devices the run
 * moved into it go back where they came from, then the namespace goes. */
static void delete_ns(struct agent *a, struct ns *s)
{
	struct netns *n = a->netns;
	for (struct move *mv = n->moves; mv; mv = mv->next)
		if (!mv->done && !mv->superseded && strcmp(mv->src, s->name) == 0 && !s->dead)
			undo_move(mv, NULL);
	stop_worker(a, s);
	for (struct move *mv = n->moves; mv; mv = mv->next)
		if (!mv->done && !mv->superseded && strcmp(mv->dst, s->name) == 0)
			undo_move(mv, NULL);
	for (struct move *mv = n->moves; mv; mv = mv->next)
		if (strcmp(mv->dst, s->name) == 0 || strcmp(mv->src, s->name) == 0)
			mv->done = 1;
	for (struct ns **pp = &n->list; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	destroy_ns(s);
}

static int undo_netns_add(void *vctx, const struct undo_step *st)
{
	struct agent *a = vctx;
	struct ns *s = find(a->netns, st->sval);
	if (!s)
		return -ENODEV; /* deleted during the run */
	delete_ns(a, s);
	return 0;
}

static void on_worker_event(struct loop *l, int fd, uint32_t events, void *ud);

int netns_m_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "name", NULL };
	const char *name;
	if (rpc_only(p, known, r) || rpc_str(p, "name", &name, r))
		return -EINVAL;
	if (a->worker_ns) {
		snprintf(r->err, sizeof(r->err), "netns.add: namespaces are made by the host's root agent");
		return -EINVAL;
	}
	if (!valid_ns_name(name)) {
		snprintf(r->err, sizeof(r->err),
			 "netns.add: '%s' is not a valid namespace name (1 to %d of A-Z a-z 0-9 . _ -, not "
			 "starting with '.' or '-')", name, MSG_NAME_MAX);
		return -EINVAL;
	}
	struct netns *n = ctx(a, r->err, sizeof(r->err));
	if (!n)
		return -EIO;
	if (find(n, name)) {
		snprintf(r->err, sizeof(r->err), "netns.add: namespace %s already exists on this host", name);
		return -EEXIST;
	}
	int err = prepare_dir(a, n, r);
	if (err)
		return err;
	struct ns *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->nsfd = s->fd = s->pidfd = -1;
	err = create_ns(n, s, r);
	if (!err)
		err = start_worker(a, s, r);
	if (err) {
		destroy_ns(s);
		return err;
	}
	s->next = n->list;
	n->list = s;
	loop_add(a->loop, s->fd, EPOLLIN, on_worker_event, a);
	cJSON *devs;
	err = call_result(a, s, "dev.list", NULL, &devs, r);
	if (err) {
		delete_ns(a, s);
		return err;
	}
	struct undo_step st = { .fn = undo_netns_add, .ctx = a };
	snprintf(st.sval, sizeof(st.sval), "%s", name);
	snprintf(st.what, sizeof(st.what), "netns.add %s", name);
	undo_push(&a->undo, &st);
	r->result = cJSON_CreateObject();
	cJSON_AddStringToObject(r->result, "name", name);
	cJSON_AddNumberToObject(r->result, "pid", s->pid);
	cJSON_AddItemToObject(r->result, "devices", devs);
	return 0;
}

/* The loop's watch on a worker socket: its user data is the agent; the
 * namespace is found by descriptor. */
static void on_worker_event(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	struct agent *a = ud;
	for (struct ns *s = a->netns ? a->netns->list : NULL; s; s = s->next) {
		if (s->fd == fd) {
			fill(a, s);
			pump(a, s, 0, NULL);
			return;
		}
	}
}

int netns_m_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "name", NULL };
	const char *name;
	if (rpc_only(p, known, r) || rpc_str(p, "name", &name, r))
		return -EINVAL;
	struct ns *s = find(a->netns, name);
	if (!s) {
		snprintf(r->err, sizeof(r->err), "netns.del: no namespace %s on this host", name);
		return -ENOENT;
	}
	delete_ns(a, s);
	r->result = cJSON_CreateObject();
	return 0;
}

int netns_m_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)p;
	r->result = cJSON_CreateArray();
	for (struct ns *s = a->netns ? a->netns->list : NULL; s; s = s->next) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddNumberToObject(o, "pid", s->pid);
		cJSON_AddBoolToObject(o, "alive", !s->dead);
		cJSON_AddItemToArray(r->result, o);
	}
	return 0;
}

void netns_free(struct agent *a)
{
	struct netns *n = a->netns;
	if (!n)
		return;
	while (n->list)
		delete_ns(a, n->list);
	while (n->moves) {
		struct move *mv = n->moves;
		n->moves = mv->next;
		free(mv);
	}
	if (n->drain_timer)
		loop_timer_cancel(a->loop, n->drain_timer);
	nlutil_close(n->root_rtnl);
	close(n->root_fd);
	free(n);
	a->netns = NULL;
}

/* ---- device moves --------------------------------------------------------------------------- */

static int ifindex_cb(struct nlmsghdr *h, void *ud)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		*(int *)ud = ((struct ifinfomsg *)nlmsg_data(h))->ifi_index;
	return 0;
}

/* ifindex of a device by name in the namespace of sk, or -ENODEV. */
static int ifindex_by_name(struct nl_sock *sk, const char *name)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int ifindex = -ENODEV;
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(m, IFLA_IFNAME, name) < 0 || nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	if (nlutil_request(sk, m, ifindex_cb, &ifindex, NULL, 0))
		return -ENODEV;
	return ifindex;
}

/* Moves a device (ifindex in src, NULL = root) to dst; the source reports
 * the move, the destination enables the device. *dev: its description. */
static int move_dev(struct agent *a, struct ns *src, int ifindex, const char *name, struct ns *dst,
		    int *new_ifindex, cJSON **dev, struct rpc_reply *r)
{
	struct netns *n = a->netns;
	const char *sname = src ? src->name : "", *dname = dst ? dst->name : "";
	if (dst && dst->dead) {
		snprintf(r->err, sizeof(r->err), "moving %s to namespace %s: its worker has exited", name, dname);
		return -EIO;
	}
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_NET_NS_FD, (uint32_t)(dst ? dst->nsfd : n->root_fd)) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	char ext[256];
	int err = nlutil_request(src ? src->rtnl : n->root_rtnl, m, NULL, NULL, ext, sizeof(ext));
	if (err) {
		if (err == -EEXIST)
			snprintf(r->err, sizeof(r->err), "moving %s from %s to %s failed: a device named %s is already there",
				 name, label(sname), label(dname), name);
		else
			snprintf(r->err, sizeof(r->err), "moving %s from %s to %s failed: %s%s%s", name, label(sname),
				 label(dname), strerror(-err), ext[0] ? ": " : "", ext);
		return err;
	}
	int nidx = ifindex_by_name(dst ? dst->rtnl : n->root_rtnl, name);
	if (nidx < 0) {
		snprintf(r->err, sizeof(r->err), "moved %s to %s, but cannot find it there", name, label(dname));
		return -ENODEV;
	}
	/* The source reports the move (dev.netns_changed) before anything else. */
	cJSON *res;
	if (!src) {
		devdb_sync(a->db);
	} else if (!src->dead && !src->closing) {
		if (call_result(a, src, "worker.sync", NULL, &res, r) == 0)
			cJSON_Delete(res);
	} else {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "netns", sname);
		cJSON_AddNumberToObject(ev, "ifindex", ifindex);
		cJSON_AddStringToObject(ev, "name", name);
		cJSON_AddNumberToObject(ev, "new_ifindex", nidx);
		cJSON_AddStringToObject(ev, "new_netns", dname);
		agent_emit(a, "dev.netns_changed", ev);
	}
	if (!dst) {
		devdb_sync(a->db);
		devdb_enable(a->db, nidx);
		*dev = devdb_get(a->db, nidx);
	} else {
		cJSON *params = cJSON_CreateObject();
		cJSON_AddNumberToObject(params, "ifindex", nidx);
		*dev = NULL;
		err = call_result(a, dst, "worker.adopt", params, dev, r);
		if (err)
			return err;
	}
	if (!*dev) {
		snprintf(r->err, sizeof(r->err), "moved %s to %s, but it vanished there", name, label(dname));
		return -ENODEV;
	}
	*new_ifindex = nidx;
	return 0;
}

/* Undo step (and namespace deletion): moves a device back to where this
 * move took it from. */
static int undo_move(void *vmv, const struct undo_step *st)
{
	(void)st;
	struct move *mv = vmv;
	struct agent *a = mv->a;
	if (mv->done || mv->superseded)
		return 0;
	mv->done = 1;
	struct ns *src = mv->src[0] ? find(a->netns, mv->src) : NULL;
	struct ns *dst = mv->dst[0] ? find(a->netns, mv->dst) : NULL;
	if ((mv->src[0] && !src) || (mv->dst[0] && !dst))
		return -ENODEV; /* the device went with its namespace */
	struct rpc_reply r = { NULL, "" };
	/* Find it by name if its ifindex changed behind our back. */
	int ifindex = ifindex_by_name(dst ? dst->rtnl : a->netns->root_rtnl, mv->name);
	if (ifindex < 0)
		return -ENODEV;
	int nidx;
	cJSON *dev = NULL;
	int err = move_dev(a, dst, ifindex, mv->name, src, &nidx, &dev, &r);
	cJSON_Delete(dev);
	if (err) {
		log_warn("moving %s back from %s to %s: %s", mv->name, label(mv->dst), label(mv->src), r.err);
		return err;
	}
	if (mv->prev) {
		mv->prev->superseded = 0;
		mv->prev->ifindex = nidx;
	}
	return 0;
}

int netns_m_set_netns(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "netns", NULL };
	int ifindex;
	const char *dname, *sname = a->req_netns ? a->req_netns : "";
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r) || rpc_str(p, "netns", &dname, r))
		return -EINVAL;
	if (a->worker_ns) {
		snprintf(r->err, sizeof(r->err), "dev.set_netns: devices are moved by the host's root agent");
		return -EINVAL;
	}
	struct netns *n = ctx(a, r->err, sizeof(r->err));
	if (!n)
		return -EIO;
	struct ns *src = sname[0] ? find(n, sname) : NULL, *dst = dname[0] ? find(n, dname) : NULL;
	if ((sname[0] && !src) || (dname[0] && !dst)) {
		snprintf(r->err, sizeof(r->err), "dev.set_netns: no namespace %s on this host",
			 sname[0] && !src ? sname : dname);
		return -ENOENT;
	}
	if (src == dst) {
		snprintf(r->err, sizeof(r->err), "dev.set_netns: the device is already in %s", label(sname));
		return -EINVAL;
	}
	/* The device as its namespace knows it: it must exist and be enabled. */
	cJSON *dev = NULL;
	if (!src) {
		dev = devdb_get(a->db, ifindex);
	} else {
		cJSON *params = cJSON_CreateObject();
		cJSON_AddNumberToObject(params, "ifindex", ifindex);
		int err = call_result(a, src, "worker.sync", params, &dev, r);
		if (err && err != -ENODEV)
			return err;
	}
	if (!dev) {
		snprintf(r->err, sizeof(r->err), "dev.set_netns: no device with ifindex %d in %s", ifindex, label(sname));
		return -ENODEV;
	}
	char name[IFNAMSIZ];
	snprintf(name, sizeof(name), "%s", cJSON_GetObjectItemCaseSensitive(dev, "name")->valuestring);
	int enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(dev, "enabled"));
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(dev, "kind");
	int loopback = cJSON_IsString(kind) && strcmp(kind->valuestring, "loopback") == 0;
	cJSON_Delete(dev);
	if (loopback) {
		snprintf(r->err, sizeof(r->err), "dev.set_netns: %s is a loopback device; it cannot change namespace", name);
		return -EINVAL;
	}
	if (!enabled) {
		snprintf(r->err, sizeof(r->err),
			 "device %s is disabled: it existed before the run and is not mapped to a recipe NIC", name);
		return -ENODEV;
	}
	int nidx;
	int err = move_dev(a, src, ifindex, name, dst, &nidx, &r->result, r);
	if (err)
		return err;
	struct move *mv = calloc(1, sizeof(*mv));
	if (!mv)
		return 0;
	mv->a = a;
	snprintf(mv->src, sizeof(mv->src), "%s", sname);
	snprintf(mv->dst, sizeof(mv->dst), "%s", dname);
	snprintf(mv->name, sizeof(mv->name), "%s", name);
	mv->ifindex = nidx;
	for (struct move *o = n->moves; o; o = o->next) {
		if (!o->done && !o->superseded && strcmp(o->dst, sname) == 0 && o->ifindex == ifindex) {
			o->superseded = 1;
			mv->prev = o;
			break;
		}
	}
	mv->next = n->moves;
	n->moves = mv;
	struct undo_step st = { .fn = undo_move, .ctx = mv };
	snprintf(st.what, sizeof(st.what), "move %s from %s to %s", name, label(sname), label(dname));
	undo_push(&a->undo, &st);
	return 0;
}

/* ---- worker side -------------------------------------------------------------------------- */

int netns_m_worker_sync(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	if (!a->worker_ns) {
		snprintf(r->err, sizeof(r->err), "unknown method 'worker.sync'");
		return -ENOSYS;
	}
	devdb_sync(a->db);
	int ifindex;
	if (rpc_opt_int(p, "ifindex", 0, &ifindex, r))
		return -EINVAL;
	if (!ifindex) {
		r->result = cJSON_CreateObject();
		return 0;
	}
	r->result = devdb_get(a->db, ifindex);
	if (!r->result) {
		snprintf(r->err, sizeof(r->err), "no device with ifindex %d in namespace %s", ifindex, a->worker_ns);
		return -ENODEV;
	}
	return 0;
}

int netns_m_worker_adopt(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	if (!a->worker_ns) {
		snprintf(r->err, sizeof(r->err), "unknown method 'worker.adopt'");
		return -ENOSYS;
	}
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	devdb_sync(a->db);
	devdb_enable(a->db, ifindex);
	r->result = devdb_get(a->db, ifindex);
	if (!r->result) {
		snprintf(r->err, sizeof(r->err), "no device with ifindex %d in namespace %s", ifindex, a->worker_ns);
		return -ENODEV;
	}
	return 0;
}
