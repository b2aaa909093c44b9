/* link.c - soft devices on the agent (link.h). */
#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kinds.h" /* first: <net/if.h> before <linux/if*.h> via agent.h */
#include "agent.h"
#include "brmsg.h"
#include "log.h"
#include "nlutil.h"

#define KINDS_CACHE_DIR "/run/lnst"
#define PROBE_WAIT_MS 5000
#define TEAMD_WAIT_S 10 /* teamd to create its device and finish its start (slow under TCG) */
#define TEAMD_WAIT_MS (TEAMD_WAIT_S * 1000)

/* A group of created devices deleted by one undo step. */
struct batch {
	int *ifindex;
	size_t n, cap;
};

/* A teamd the agent runs for a team device. */
struct team {
	struct links *l;
	pid_t pid;
	int pidfd;  /* signals reach this process, even once reaped */
	int errfd;  /* its stderr, read and logged for the run */
	int ifindex;
	char name[IFNAMSIZ];
};

struct pending_del {
	int64_t id;
	int ifindex;
	char name[IFNAMSIZ];
};

struct links {
	struct agent *a;
	struct nl_sock *sk;   /* rtnetlink requests */
	struct nl_sock *genl; /* generic netlink, opened on first use */
	/* kinds: probe in flight (fd >= 0), done (state 1) or failed (-1) */
	pid_t probe_pid;
	int probe_fd;
	int kinds_state;
	char kinds[512];
	char features[256];
	char absent[4096]; /* "<kind> <why the probe could not create it>\n" lines */
	char cache_path[128];
	char cache_key[160];
	/* created devices, a bit per ifindex: only these may be deleted */
	uint8_t *created;
	size_t capcreated;
	/* what undo steps refer to */
	struct batch *batches;
	size_t nbatches, capbatches;
	struct team **teams;
	size_t nteams, capteams;
	struct brmsg_fdb *fdbs;
	size_t nfdbs, capfdbs;
	struct port_undo {
		int ifindex;
		struct brmsg_port p;
	} *ports;
	size_t nports, capports;
	/* deferred deletions */
	struct pending_del *pend;
	size_t npend, cappend;
	int64_t flush_timer;
	uint32_t group; /* link group for batched deletions, 0 until chosen */
};

/* ---- small helpers ------------------------------------------------------------- */

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

/* Appends one element to an array whose capacity is tracked as `cap`. */
#define PUSH(arr, n, cap, val)                                                      \
	(grow((void **)&(arr), &(cap), (n) + 1, sizeof(*(arr))) ? -ENOMEM : ((arr)[(n)++] = (val), 0))

static int exists(struct links *l, int ifindex)
{
	cJSON *d = devdb_get(l->a->db, ifindex);
	cJSON_Delete(d);
	return d != NULL;
}

static int is_created(struct links *l, int ifindex)
{
	size_t byte = (size_t)ifindex / 8;
	return ifindex > 0 && byte < l->capcreated && (l->created[byte] >> (ifindex % 8) & 1);
}

static void mark_created(struct links *l, int ifindex)
{
	size_t byte = (size_t)ifindex / 8, old = l->capcreated;
	if (ifindex <= 0 || grow((void **)&l->created, &l->capcreated, byte + 1, 1))
		return;
	memset(l->created + old, 0, l->capcreated - old);
	l->created[byte] |= (uint8_t)(1 << (ifindex % 8));
}

/* Copies the kernel's error into err: "<what>: <strerror>[ (<extack>)]". */
static int kerr(char *err, size_t n, int rc, const char *ext, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int kerr(char *err, size_t n, int rc, const char *ext, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int o = vsnprintf(err, n, fmt, ap);
	va_end(ap);
	if (o >= 0 && (size_t)o < n)
		snprintf(err + o, n - (size_t)o, ": %s%s%s%s", strerror(-rc), ext && ext[0] ? " (" : "",
			 ext && ext[0] ? ext : "", ext && ext[0] ? ")" : "");
	return rc;
}

/* Sends m (consumed) and waits for its ACK with one recv into a buffer on
 * the stack: the hot path of creation and deletion (nlutil_request peeks
 * and allocates per message). 0, or -errno with the kernel's extended ACK
 * text in ext. Then processes the notifications the request caused. */
static int request(struct links *l, struct nl_msg *m, char *ext, size_t extlen)
{
	if (ext && extlen)
		ext[0] = 0;
	if (!m)
		return -ENOMEM;
	struct nlmsghdr *h = nlmsg_hdr(m);
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nl_complete_msg(l->sk, m);
	uint32_t seq = h->nlmsg_seq;
	int rc = nl_send(l->sk, m) < 0 ? -EIO : 1;
	nlmsg_free(m);
	int fd = nl_socket_get_fd(l->sk);
	while (rc == 1) {
		union {
			struct nlmsghdr h;
			char b[8192];
		} buf;
		ssize_t n = recv(fd, buf.b, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -EIO;
			break;
		}
		int len = (int)n;
		for (struct nlmsghdr *a = &buf.h; nlmsg_ok(a, len); a = nlmsg_next(a, &len)) {
			if (a->nlmsg_seq != seq || a->nlmsg_type != NLMSG_ERROR)
				continue; /* left over from an earlier exchange, or a reply */
			struct nlmsgerr *e = nlmsg_data(a);
			rc = e->error > 0 ? -e->error : e->error;
			/* extended ACK: attributes after the (capped) echoed header */
			int off = NLMSG_HDRLEN + (int)NLMSG_ALIGN(sizeof(*e));
			struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
			if (rc && ext && extlen && (a->nlmsg_flags & NLM_F_ACK_TLVS) && (int)a->nlmsg_len > off &&
			    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)a + off), (int)a->nlmsg_len - off,
				      NULL) == 0 && tb[NLMSGERR_ATTR_MSG])
				snprintf(ext, extlen, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
					 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
			break;
		}
	}
	devdb_sync(l->a->db);
	return rc;
}

static int genl_family(struct links *l, const char *name)
{
	if (!l->genl && nlutil_open(&l->genl, NETLINK_GENERIC))
		return -EIO;
	int fam = genl_ctrl_resolve(l->genl, name);
	return fam < 0 ? -EOPNOTSUPP : fam;
}

static int genl_request(struct links *l, struct nl_msg *m, char *ext, size_t extlen)
{
	if (!m)
		return -ENOMEM;
	int rc = nlutil_request(l->genl, m, NULL, NULL, ext, extlen);
	devdb_sync(l->a->db);
	return rc;
}

/* The device's JSON when it exists on this host and may be changed, else
 * NULL with err set (-ENODEV). `what` names the role ("realdev", ...). */
static cJSON *usable(struct links *l, int ifindex, const char *what, char *err, size_t n)
{
	cJSON *d = devdb_get(l->a->db, ifindex);
	if (!d) {
		snprintf(err, n, "%sno device with ifindex %d on this host", what, ifindex);
		return NULL;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "enabled"))) {
		snprintf(err, n, "%sdevice %s is disabled: it existed before the run and is not mapped to a recipe NIC",
			 what, cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring);
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int jint(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void push_undo(struct links *l, undo_fn fn, int ifindex, int ival, const char *what)
{
	struct undo_step s = { .fn = fn, .ctx = l, .ifindex = ifindex, .ival = ival };
	snprintf(s.what, sizeof(s.what), "%s", what);
	undo_push(&l->a->undo, &s);
}

/* ---- deleting devices ------------------------------------------------------------- */

static struct nl_msg *dellink_msg(int ifindex, uint32_t group)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (m && (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
		  (group && nla_put_u32(m, IFLA_GROUP, group) < 0))) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static int group_taken(struct nlmsghdr *h, void *ud)
{
	struct nlattr *tb[IFLA_MAX + 1];
	if (h->nlmsg_type == RTM_NEWLINK &&
	    nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) == 0 && tb[IFLA_GROUP] &&
	    nla_get_u32(tb[IFLA_GROUP]) == *(uint32_t *)ud)
		*(uint32_t *)ud = 0;
	return 0;
}

/* A link group no device of this namespace uses, chosen once. */
static uint32_t delete_group(struct links *l)
{
	for (int tries = 0; !l->group && tries < 8; tries++) {
		uint32_t g = 0x4c4e0000u ^ ((uint32_t)getpid() << 4) ^ ((uint32_t)time(NULL) & 0xffff) ^ (uint32_t)tries;
		uint32_t probe = g ? g : 1;
		struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
		if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
		    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
			nlmsg_free(m);
			return 0;
		}
		if (nlutil_dump(l->sk, m, group_taken, &probe, NULL, 0) == 0 && probe)
			l->group = probe;
	}
	return l->group;
}

/* Deletes the devices of v[0..n) (0 entries are skipped), all at once where
 * the kernel allows: each goes into one link group and the group is deleted,
 * so the kernel waits for one RCU grace period instead of one per device.
 * rc[i] (may be NULL) receives each device's result; names are logged. */
static void delete_many(struct links *l, const int *v, size_t n, int *rc, char (*ext)[160])
{
	uint32_t g = n > 1 ? delete_group(l) : 0;
	char *grouped = calloc(n ? n : 1, 1);
	size_t in_group = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc)
			rc[i] = 0;
		if (ext)
			ext[i][0] = 0;
	}
	if (g && grouped) {
		for (size_t i = 0; i < n; i++) {
			if (!v[i])
				continue;
			struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
			struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = v[i] };
			if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
			    nla_put_u32(m, IFLA_GROUP, g) < 0) {
				nlmsg_free(m);
				continue;
			}
			if (request(l, m, NULL, 0) == 0) {
				grouped[i] = 1;
				in_group++;
			}
		}
		if (in_group && request(l, dellink_msg(0, g), NULL, 0) != 0)
			memset(grouped, 0, n); /* refused: one by one below */
	}
	/* One by one: a single device, those not in the group, or all when
	 * the kernel refused the group (a device without rtnetlink deletion,
	 * such as an l2tp session). */
	for (size_t i = 0; i < n; i++) {
		if (!v[i] || (grouped && grouped[i]))
			continue;
		char e[160] = "";
		int r = request(l, dellink_msg(v[i], 0), e, sizeof(e));
		if (rc)
			rc[i] = r == -ENODEV && !exists(l, v[i]) ? 0 : r;
		if (ext)
			snprintf(ext[i], sizeof(ext[i]), "%s", e);
	}
	free(grouped);
}

/* Undo of consecutive creations: one step deletes them all. */
static int undo_batch(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	struct batch *b = &l->batches[s->ival];
	delete_many(l, b->ifindex, b->n, NULL, NULL);
	return 0;
}

/* Records that the run created ifindex: enabled, deletable, and deleted at
 * the end together with the creations recorded right before it. */
static void created(struct links *l, int ifindex, const char *what)
{
	devdb_enable(l->a->db, ifindex);
	mark_created(l, ifindex);
	struct undo *u = &l->a->undo;
	if (u->n > 0 && u->v[u->n - 1].fn == undo_batch && u->v[u->n - 1].ctx == l) {
		struct undo_step *top = &u->v[u->n - 1];
		struct batch *b = &l->batches[top->ival];
		if (PUSH(b->ifindex, b->n, b->cap, ifindex) == 0)
			snprintf(top->what, sizeof(top->what), "delete %zu created devices", b->n);
		return;
	}
	struct batch nb = { 0 };
	if (PUSH(nb.ifindex, nb.n, nb.cap, ifindex))
		return;
	if (PUSH(l->batches, l->nbatches, l->capbatches, nb)) {
		free(nb.ifindex);
		return;
	}
	push_undo(l, undo_batch, ifindex, (int)l->nbatches - 1, what);
}

/* ---- the kinds this kernel accepts ------------------------------------------------- */

static void kinds_cache_key(struct links *l)
{
	char boot[64] = "", rel[65] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = 0;
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = 0;
	f = fopen("/proc/sys/kernel/osrelease", "r");
	if (f) {
		if (!fgets(rel, sizeof(rel), f))
			rel[0] = 0;
		fclose(f);
	}
	rel[strcspn(rel, "\n")] = 0;
	snprintf(l->cache_path, sizeof(l->cache_path), KINDS_CACHE_DIR "/kinds2-%s", boot[0] ? boot : "unknown");
	snprintf(l->cache_key, sizeof(l->cache_key), "lnst-agent %s probe 2 kernel %s", AGENT_VERSION, rel);
}

static int known_feature(const char *name)
{
	for (size_t i = 0; i < kinds_feature_count(); i++)
		if (strcmp(kinds_feature_at(i), name) == 0)
			return 1;
	return 0;
}

/* Keeps only known names, so a damaged cache cannot inject text. Text is
 * the probe's output: kinds on the first line, features on the second,
 * then "<kind> <reason>" per kind it could not create, then "end". */
static int kinds_accept(struct links *l, const char *text)
{
	static char buf[8192];
	size_t o = 0, f = 0, ab = 0;
	snprintf(buf, sizeof(buf), "%s", text);
	char *end = strstr(buf, "\nend\n");
	char *nl = strchr(buf, '\n');
	char *nl2 = nl ? strchr(nl + 1, '\n') : NULL;
	if (!end || !nl2 || nl2 > end + 1)
		return -EINVAL;
	*nl = *nl2 = end[1] = 0;
	l->kinds[0] = l->features[0] = l->absent[0] = 0;
	for (char *s, *tok = strtok_r(buf, " ", &s); tok; tok = strtok_r(NULL, " ", &s))
		if (kinds_find(tok))
			o += (size_t)snprintf(l->kinds + o, sizeof(l->kinds) - o, "%s%s", o ? " " : "", tok);
	for (char *s, *tok = strtok_r(nl + 1, " ", &s); tok; tok = strtok_r(NULL, " ", &s))
		if (known_feature(tok))
			f += (size_t)snprintf(l->features + f, sizeof(l->features) - f, "%s%s", f ? " " : "", tok);
	for (char *s, *line = strtok_r(nl2 + 1, "\n", &s); line; line = strtok_r(NULL, "\n", &s)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		if (kinds_find(line) && ab < sizeof(l->absent))
			ab += (size_t)snprintf(l->absent + ab, sizeof(l->absent) - ab, "%s %s\n", line, sp + 1);
	}
	l->kinds_state = 1;
	return 0;
}

static int kinds_from_cache(struct links *l)
{
	static char text[8192];
	char key[200];
	FILE *f = fopen(l->cache_path, "r");
	if (!f)
		return -ENOENT;
	int ok = fgets(key, sizeof(key), f) != NULL;
	size_t n = ok ? fread(text, 1, sizeof(text) - 1, f) : 0;
	fclose(f);
	text[n] = 0;
	key[strcspn(key, "\n")] = 0;
	if (!ok || strcmp(key, l->cache_key) != 0)
		return -ESTALE;
	return kinds_accept(l, text);
}

static void kinds_to_cache(struct links *l)
{
	char tmp[160];
	mkdir(KINDS_CACHE_DIR, 0755);
	snprintf(tmp, sizeof(tmp), "%s.%d", l->cache_path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	int ok = fprintf(f, "%s\n%s\n%s\n%send\n", l->cache_key, l->kinds, l->features, l->absent) > 0;
	if (fclose(f) != 0 || !ok || rename(tmp, l->cache_path) != 0)
		unlink(tmp);
}

static void probe_finish(struct links *l, int wait_ms)
{
	if (l->probe_fd < 0)
		return;
	static char buf[8192];
	size_t got = 0;
	int eof = 0;
	struct pollfd p = { .fd = l->probe_fd, .events = POLLIN };
	int64_t end = loop_now_ms() + wait_ms;
	while (got < sizeof(buf) - 1 && !eof) {
		int64_t left = end - loop_now_ms();
		if (left < 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = read(l->probe_fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = 0;
		/* the last line, "end", says it is all there */
		eof = got >= 4 && (got == 4 ? !memcmp(buf, "end\n", 4) : strstr(buf, "\nend\n") != NULL);
	}
	buf[got] = 0;
	close(l->probe_fd);
	l->probe_fd = -1;
	if (eof && kinds_accept(l, buf) == 0) {
		kinds_to_cache(l);
	} else {
		l->kinds_state = -1;
		kill(l->probe_pid, SIGKILL);
		log_warn("the probe of device kinds failed: hello reports no capabilities.kinds");
	}
	/* The child is reaped by jobs_reap (SIGCHLD) like every child. */
}

static cJSON *names_json(const char *list)
{
	cJSON *arr = cJSON_CreateArray();
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *s, *tok = strtok_r(buf, " ", &s); tok; tok = strtok_r(NULL, " ", &s))
		cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
	return arr;
}

cJSON *links_kinds(struct links *l)
{
	probe_finish(l, PROBE_WAIT_MS);
	return l->kinds_state == 1 ? names_json(l->kinds) : cJSON_CreateNull();
}

/* The probe's reason for kind k, "" when it has none. */
static const char *absent_reason(struct links *l, const char *kind, char *out, size_t n)
{
	size_t kl = strlen(kind);
	out[0] = 0;
	for (const char *line = l->absent; *line;) {
		const char *eol = strchr(line, '\n');
		if (!eol)
			break;
		if (!strncmp(line, kind, kl) && line[kl] == ' ') {
			snprintf(out, n, "%.*s", (int)(eol - line - (int)kl - 1), line + kl + 1);
			break;
		}
		line = eol + 1;
	}
	return out;
}

cJSON *links_kinds_absent(struct links *l)
{
	probe_finish(l, PROBE_WAIT_MS);
	if (l->kinds_state != 1)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < kinds_count(); i++) {
		char why[300];
		const char *k = kind_name(kinds_at(i));
		if (absent_reason(l, k, why, sizeof(why))[0])
			cJSON_AddStringToObject(o, k, why);
	}
	return o;
}

cJSON *links_features(struct links *l)
{
	probe_finish(l, PROBE_WAIT_MS);
	return l->kinds_state == 1 ? names_json(l->features) : cJSON_CreateNull();
}

/* 1 when the probe found the feature, 0 when it did not, -1 unknown. */
static int has_feature(struct links *l, const char *name)
{
	probe_finish(l, PROBE_WAIT_MS);
	if (l->kinds_state != 1)
		return -1;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", l->features);
	for (char *s, *tok = strtok_r(buf, " ", &s); tok; tok = strtok_r(NULL, " ", &s))
		if (strcmp(tok, name) == 0)
			return 1;
	return 0;
}

static int kind_supported(struct links *l, const struct kind *k)
{
	probe_finish(l, PROBE_WAIT_MS);
	if (l->kinds_state != 1)
		return 1; /* unknown: let the kernel answer */
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", l->kinds);
	for (char *s, *tok = strtok_r(buf, " ", &s); tok; tok = strtok_r(NULL, " ", &s))
		if (strcmp(tok, kind_name(k)) == 0)
			return 1;
	return 0;
}

/* ---- context ------------------------------------------------------------------------ */

int links_open(struct links **out, struct agent *a)
{
	struct links *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->a = a;
	l->probe_fd = -1;
	int err = nlutil_open(&l->sk, NETLINK_ROUTE);
	if (err) {
		free(l);
		return err;
	}
	if (!a->worker_ns) {
		/* Workers of extra namespaces answer no hello: no probe there. */
		kinds_cache_key(l);
		if (kinds_from_cache(l) && kinds_probe_start(&l->probe_pid, &l->probe_fd))
			l->kinds_state = -1;
	}
	*out = l;
	return 0;
}

void links_close(struct links *l)
{
	if (!l)
		return;
	if (l->probe_fd >= 0) {
		kill(l->probe_pid, SIGKILL);
		close(l->probe_fd);
	}
	for (size_t i = 0; i < l->nteams; i++) {
		struct team *t = l->teams[i];
		if (t->pidfd >= 0)
			close(t->pidfd);
		if (t->errfd >= 0) {
			loop_del(l->a->loop, t->errfd);
			close(t->errfd);
		}
		free(t);
	}
	for (size_t i = 0; i < l->nbatches; i++)
		free(l->batches[i].ifindex);
	free(l->batches);
	free(l->teams);
	free(l->fdbs);
	free(l->ports);
	free(l->pend);
	free(l->created);
	if (l->flush_timer)
		loop_timer_cancel(l->a->loop, l->flush_timer);
	nlutil_close(l->sk);
	if (l->genl)
		nlutil_close(l->genl);
	free(l);
}

/* ---- creation ------------------------------------------------------------------------ */

static int name_taken(struct links *l, const char *name)
{
	return devdb_find(l->a->db, name, NULL) > 0;
}

static void default_name(struct links *l, const struct kind *k, char *out)
{
	for (int i = 0;; i++) {
		snprintf(out, IFNAMSIZ, "%s%d", kind_template(k), i);
		if (!name_taken(l, out))
			return;
	}
}

static int on_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[512];
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, tool);
		if (access(buf, X_OK) == 0)
			return 1;
		p += n + (e ? 1 : 0);
	}
	return 0;
}

static void team_output(struct loop *loop, int fd, uint32_t events, void *ud)
{
	(void)events;
	struct team *t = ud;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		loop_del(loop, fd);
		close(fd);
		t->errfd = -1;
		return;
	}
	buf[n] = 0;
	for (char *s, *line = strtok_r(buf, "\n", &s); line; line = strtok_r(NULL, "\n", &s))
		log_debug("teamd %s: %s", t->name, line);
}

static int undo_team(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	struct team *t = l->teams[s->ival];
	if (t->pidfd >= 0) {
		/* teamd removes its device when it stops */
		syscall(SYS_pidfd_send_signal, t->pidfd, SIGTERM, NULL, 0);
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };
		if (poll(&p, 1, 2000) <= 0)
			syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
		close(t->pidfd);
		t->pidfd = -1;
	}
	devdb_sync(l->a->db);
	if (exists(l, t->ifindex))
		return request(l, dellink_msg(t->ifindex, 0), NULL, 0);
	return 0;
}

/* teamd's stderr so far into out (its tail when it says more than fits);
 * sets *ready once it said that its initialisation is done. */
static void teamd_read_output(int fd, char *out, size_t cap, size_t *got, int *ready)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, 0) > 0) {
		if (*got + 1 >= cap) {
			memmove(out, out + cap / 2, *got - cap / 2);
			*got -= cap / 2;
		}
		ssize_t r = read(fd, out + *got, cap - 1 - *got);
		if (r <= 0)
			break;
		*got += (size_t)r;
		out[*got] = 0;
		if (strstr(out, "successfully started"))
			*ready = 1;
	}
}

/* teamd creates the device and lives for the run, as the agent's child
 * (argv, no shell; dies with the agent). The device is ready once teamd
 * says "<version> successfully started.": before that it has not set the
 * runner's mode yet, and a port added then makes it fail ("No ports can be
 * present during mode change") and remove the device. Hosts of one machine
 * share /run: teamd gets a pid file per network namespace, as two hosts'
 * teams of the same name would otherwise clash on /run/teamd/NAME.pid. */
static int team_start(struct links *l, const struct kreq *req, int *ifindex, char *err, size_t n)
{
	const char *argv[10];
	char *config = NULL, pidfile[128];
	int ep[2] = { -1, -1 }, rc;
	struct stat ns;
	if (!on_path("teamd")) {
		snprintf(err, n, "team %s: teamd is not installed on this host (it creates team devices)", req->name);
		return -ENOENT;
	}
	if (stat("/proc/thread-self/ns/net", &ns) < 0 || (mkdir("/run/teamd", 0755) < 0 && errno != EEXIST)) {
		snprintf(err, n, "team %s: cannot prepare teamd's pid file in /run/teamd: %s", req->name,
			 strerror(errno));
		return -errno;
	}
	snprintf(pidfile, sizeof(pidfile), "/run/teamd/%s.net%lu.pid", req->name, (unsigned long)ns.st_ino);
	struct team *t = calloc(1, sizeof(*t));
	if (!t || (rc = kinds_teamd_argv(req, argv, &config)) || pipe2(ep, O_CLOEXEC) < 0) {
		rc = !t ? -ENOMEM : rc ? rc : -errno;
		free(t);
		free(config);
		return rc;
	}
	size_t argc = 0;
	while (argv[argc])
		argc++;
	argv[argc++] = "-p";
	argv[argc++] = pidfile;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		/* what the agent blocks or ignores is not teamd's business */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		/* its stderr is a pipe to us: once that is gone (we stopped
		 * reading), a log line must not kill it and its device */
		signal(SIGPIPE, SIG_IGN);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(ep[1], 2);
		execvp("teamd", (char *const *)argv);
		_exit(127);
	}
	free(config);
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		free(t);
		return -errno;
	}
	*t = (struct team){ .l = l, .pid = pid, .pidfd = (int)syscall(SYS_pidfd_open, pid, 0), .errfd = ep[0] };
	snprintf(t->name, sizeof(t->name), "%s", req->name);
	int64_t end = loop_now_ms() + TEAMD_WAIT_MS;
	char out[1024] = "";
	size_t got = 0;
	int ready = 0;
	*ifindex = 0;
	for (;;) {
		teamd_read_output(ep[0], out, sizeof(out), &got, &ready);
		if (!*ifindex) {
			devdb_sync(l->a->db);
			int idx = devdb_find(l->a->db, req->name, NULL);
			*ifindex = idx > 0 ? idx : 0;
		}
		if (*ifindex && ready)
			break;
		int st, gone = waitpid(pid, &st, WNOHANG) == pid;
		if (gone || loop_now_ms() > end) {
			teamd_read_output(ep[0], out, sizeof(out), &got, &ready);
			while (got > 0 && out[got - 1] == '\n')
				out[--got] = 0;
			for (char *c = out; *c; c++)
				if (*c == '\n')
					*c = '|';
			kill(pid, SIGKILL);
			devdb_sync(l->a->db);
			if (*ifindex && exists(l, *ifindex)) /* killed half-way: teamd cannot remove it */
				request(l, dellink_msg(*ifindex, 0), NULL, 0);
			if (t->pidfd >= 0)
				close(t->pidfd);
			close(ep[0]);
			free(t);
			if (gone)
				snprintf(err, n, "team %s: teamd exited%s%s", req->name, out[0] ? ": " : "", out);
			else
				snprintf(err, n, "team %s: teamd did not %s within %d s%s%s", req->name,
					 *ifindex ? "finish its start" : "create the device", TEAMD_WAIT_S,
					 out[0] ? ": " : "", out);
			*ifindex = 0;
			return -EIO;
		}
		usleep(10000);
	}
	for (char *s, *line = strtok_r(out, "\n", &s); line; line = strtok_r(NULL, "\n", &s))
		log_debug("teamd %s: %s", req->name, line);
	t->ifindex = *ifindex;
	if (loop_add(l->a->loop, ep[0], EPOLLIN, team_output, t) < 0 || PUSH(l->teams, l->nteams, l->capteams, t)) {
		loop_del(l->a->loop, ep[0]);
		kill(pid, SIGKILL);
		if (t->pidfd >= 0)
			close(t->pidfd);
		close(ep[0]);
		free(t);
		return -ENOMEM;
	}
	return 0;
}

static int tun_create(const struct kreq *req, char *err, size_t n)
{
	struct kinds_tun t;
	kinds_tun(req, &t);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return kerr(err, n, -errno, NULL, "%s %s: cannot open /dev/net/tun", kind_name(req->kind), req->name);
	struct ifreq ifr = { .ifr_flags = t.flags };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", req->name);
	int rc = 0;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		rc = kerr(err, n, -errno, NULL, "%s %s: TUNSETIFF failed", kind_name(req->kind), req->name);
	else if (t.owner >= 0 && ioctl(fd, TUNSETOWNER, t.owner) < 0)
		rc = kerr(err, n, -errno, NULL, "%s %s: TUNSETOWNER failed", kind_name(req->kind), req->name);
	else if (t.group >= 0 && ioctl(fd, TUNSETGROUP, t.group) < 0)
		rc = kerr(err, n, -errno, NULL, "%s %s: TUNSETGROUP failed", kind_name(req->kind), req->name);
	else if (ioctl(fd, TUNSETPERSIST, 1) < 0)
		rc = kerr(err, n, -errno, NULL, "%s %s: TUNSETPERSIST failed", kind_name(req->kind), req->name);
	close(fd); /* without TUNSETPERSIST, this deletes the device again */
	return rc;
}

static int undo_l2tp_session(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	int fam = genl_family(l, "l2tp");
	if (fam < 0)
		return fam;
	/* sval: "<tunnel_id> <session_id>" */
	unsigned long t = 0, sess = 0;
	if (sscanf(s->sval, "%lu %lu", &t, &sess) != 2)
		return -EINVAL;
	int rc = genl_request(l, kinds_l2tp_session_del_msg(fam, (uint32_t)t, (uint32_t)sess), NULL, 0);
	return rc == -ENOENT ? 0 : rc;
}

static int undo_l2tp_tunnel(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	int fam = genl_family(l, "l2tp");
	if (fam < 0)
		return fam;
	int rc = genl_request(l, kinds_l2tp_tunnel_del_msg(fam, (uint32_t)s->ival), NULL, 0);
	return rc == -ENOENT ? 0 : rc;
}

/* mtu, hwaddr and master of kinds not made by one RTM_NEWLINK. */
static int apply_generic(struct links *l, const struct kreq *req, int ifindex, char *err, size_t n)
{
	struct devdb_err e;
	char ext[256];
	int rc;
	if (req->mtu && (rc = devdb_set_mtu(l->a->db, ifindex, req->mtu, 0, &e)))
		return snprintf(err, n, "%s %s: %.400s", kind_name(req->kind), req->name, e.msg), rc;
	if (req->has_hwaddr) {
		char mac[18];
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", req->hwaddr[0], req->hwaddr[1],
			 req->hwaddr[2], req->hwaddr[3], req->hwaddr[4], req->hwaddr[5]);
		if ((rc = devdb_set_hwaddr(l->a->db, ifindex, mac, 0, &e)))
			return snprintf(err, n, "%s %s: %.400s", kind_name(req->kind), req->name, e.msg), rc;
	}
	if (req->master && (rc = request(l, brmsg_master(ifindex, req->master), ext, sizeof(ext)))) {
		cJSON *m = devdb_get(l->a->db, req->master);
		kerr(err, n, rc, ext, "%s %s: setting master %s failed", kind_name(req->kind), req->name,
		     m ? jstr(m, "name") : "?");
		cJSON_Delete(m);
		return rc;
	}
	return 0;
}

/* {ifindex, name, kind[, peer: {ifindex, name}]}: the devices themselves
 * went out in their dev.created events, before this reply. */
static cJSON *created_result(const struct kreq *req, int ifindex, int peer)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "ifindex", ifindex);
	cJSON_AddStringToObject(o, "name", req->name);
	cJSON_AddStringToObject(o, "kind", kind_name(req->kind));
	if (peer > 0) {
		cJSON *po = cJSON_AddObjectToObject(o, "peer");
		cJSON_AddNumberToObject(po, "ifindex", peer);
		cJSON_AddStringToObject(po, "name", req->peer_name);
	}
	return o;
}

/* -EEXIST with the message when the name (or the veth peer's) is taken. */
static int clash_error(struct links *l, const struct kreq *req, char *err, size_t n)
{
	const char *kn = kind_name(req->kind);
	if (name_taken(l, req->name)) {
		snprintf(err, n, "%s %s: a device named '%s' already exists on this host", kn, req->name, req->name);
		return -EEXIST;
	}
	if (req->peer_name[0] && name_taken(l, req->peer_name)) {
		snprintf(err, n, "%s %s: a device named '%s' (peer_name) already exists on this host", kn, req->name,
			 req->peer_name);
		return -EEXIST;
	}
	return 0;
}

/* Checks everything a creation request says before anything is made. */
static int create_check(struct links *l, const cJSON *p, struct kreq *req, char *err, size_t n)
{
	const char *kname = rpc_opt_str(p, "kind");
	const struct kind *k = kname ? kinds_find(kname) : NULL;
	if (!k) {
		size_t o = (size_t)snprintf(err, n, kname ? "unknown device kind '%s' (known:" : "%sparameter 'kind' is "
							 "mandatory (known:", kname ? kname : "");
		for (size_t i = 0; i < kinds_count() && o < n; i++)
			o += (size_t)snprintf(err + o, n - o, " %s", kind_name(kinds_at(i)));
		if (o < n)
			snprintf(err + o, n - o, ")");
		return -EINVAL;
	}
	if (!kind_supported(l, k)) {
		char why[300];
		absent_reason(l, kname, why, sizeof(why));
		char why_part[320] = "";
		if (why[0])
			snprintf(why_part, sizeof(why_part), "%s; ", why);
		snprintf(err, n, "device kind '%s' is not supported by this host's kernel (%.200sit accepts: %.200s)", kname,
			 why_part, l->kinds);
		return -EOPNOTSUPP;
	}
	char name[IFNAMSIZ];
	const cJSON *jn = cJSON_GetObjectItemCaseSensitive(p, "name");
	if (jn) {
		if (!cJSON_IsString(jn) || kinds_valid_ifname(jn->valuestring)) {
			snprintf(err, n, "%s: parameter 'name' must be an interface name (1 to %d characters, no '/', "
					 "':' or spaces)", kname, IFNAMSIZ - 1);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%s", jn->valuestring);
	} else {
		default_name(l, k, name);
	}
	int rc = kinds_parse(k, name, p, req, err, n);
	if (rc)
		return rc;
	/* One RTM_NEWLINK fails as a whole on a name clash (clash_error
	 * says which name); the other ways of creating check first. */
	if (kind_how(k) != KIND_NEWLINK && kind_how(k) != KIND_WIREGUARD && (rc = clash_error(l, req, err, n)))
		return rc;
	struct kref refs[8];
	int nrefs = kinds_refs(req, refs, 8);
	for (int i = 0; i < nrefs; i++) {
		char what[96];
		snprintf(what, sizeof(what), "%s %s: parameter '%s': ", kname, name, refs[i].param);
		cJSON *d = usable(l, refs[i].ifindex, what, err, n);
		if (!d)
			return -ENODEV;
		cJSON_Delete(d);
	}
	return 0;
}

int link_create(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct links *l = a->links;
	struct kreq *req = malloc(sizeof(*req));
	char ext[256] = "", what[96];
	int rc, ifindex = 0, peer = 0;
	if (!req)
		return -ENOMEM;
	if ((rc = create_check(l, p, req, r->err, sizeof(r->err))))
		goto out;
	const struct kind *k = req->kind;
	const char *kn = kind_name(k);
	snprintf(what, sizeof(what), "delete %s %s", kn, req->name);
	switch (kind_how(k)) {
	case KIND_NEWLINK:
	case KIND_WIREGUARD: {
		struct nl_msg *m;
		if ((rc = kinds_newlink(req, &m)))
			goto out;
		/* enabled from their first event on: no dev.changed for it */
		devdb_expect(a->db, req->name, req->peer_name[0] ? req->peer_name : NULL);
		rc = request(l, m, ext, sizeof(ext));
		devdb_expect(a->db, NULL, NULL);
		if (rc) {
			if (rc == -EEXIST && clash_error(l, req, r->err, sizeof(r->err)))
				goto out;
			if (rc == -EOPNOTSUPP && !ext[0] && strcmp(kn, "bridge") == 0 && kinds_value(req, "vlan_filtering") &&
			    has_feature(l, "bridge_vlan_filtering") == 0)
				snprintf(ext, sizeof(ext), "this kernel's bridge has no VLAN filtering: "
							   "capabilities.link_features lacks bridge_vlan_filtering");
			kerr(r->err, sizeof(r->err), rc, ext, "%s %s: creation failed", kn, req->name);
			goto out;
		}
		ifindex = devdb_find(a->db, req->name, NULL);
		if (ifindex <= 0) {
			snprintf(r->err, sizeof(r->err), "%s %s: created, but the agent did not see it appear", kn, req->name);
			rc = -EIO;
			goto out;
		}
		if (req->peer_name[0] && (peer = devdb_find(a->db, req->peer_name, NULL)) > 0)
			created(l, peer, what);
		created(l, ifindex, what);
		if (kind_how(k) == KIND_WIREGUARD) {
			int fam = genl_family(l, "wireguard");
			struct nl_msg *wm = NULL;
			rc = fam < 0 ? fam : kinds_wg_msg(req, fam, ifindex, &wm);
			if (!rc && wm && (rc = genl_request(l, wm, ext, sizeof(ext)))) {
				kerr(r->err, sizeof(r->err), rc, ext, "%s %s: setting keys and peers failed (the device "
								     "was deleted again)", kn, req->name);
			} else if (rc) {
				kerr(r->err, sizeof(r->err), rc, NULL, "%s %s: the wireguard generic netlink family "
								       "is not available", kn, req->name);
			}
		}
		break;
	}
	case KIND_TUN:
		devdb_expect(a->db, req->name, NULL);
		rc = tun_create(req, r->err, sizeof(r->err));
		devdb_sync(a->db);
		devdb_expect(a->db, NULL, NULL);
		if (rc)
			goto out;
		ifindex = devdb_find(a->db, req->name, NULL);
		created(l, ifindex, what);
		rc = apply_generic(l, req, ifindex, r->err, sizeof(r->err));
		break;
	case KIND_TEAMD:
		devdb_expect(a->db, req->name, NULL);
		rc = team_start(l, req, &ifindex, r->err, sizeof(r->err));
		devdb_expect(a->db, NULL, NULL);
		if (rc)
			goto out;
		devdb_enable(a->db, ifindex);
		mark_created(l, ifindex);
		push_undo(l, undo_team, ifindex, (int)l->nteams - 1, what);
		rc = apply_generic(l, req, ifindex, r->err, sizeof(r->err));
		break;
	case KIND_L2TP: {
		int fam = genl_family(l, "l2tp");
		struct nl_msg *m = NULL;
		if (fam < 0 || (rc = kinds_l2tp_session_msg(req, fam, &m))) {
			rc = fam < 0 ? fam : rc;
			kerr(r->err, sizeof(r->err), rc, NULL, "l2tp %s: the l2tp generic netlink family is not available",
			     req->name);
			goto out;
		}
		devdb_expect(a->db, req->name, NULL);
		rc = genl_request(l, m, ext, sizeof(ext));
		devdb_expect(a->db, NULL, NULL);
		if (rc) {
			kerr(r->err, sizeof(r->err), rc, ext, "l2tp %s: creating the session failed", req->name);
			goto out;
		}
		ifindex = devdb_find(a->db, req->name, NULL);
		devdb_enable(a->db, ifindex);
		mark_created(l, ifindex);
		struct undo_step s = { .fn = undo_l2tp_session, .ctx = l, .ifindex = ifindex };
		snprintf(s.sval, sizeof(s.sval), "%lld %lld", (long long)kinds_value(req, "tunnel_id")->i,
			 (long long)kinds_value(req, "session_id")->i);
		snprintf(s.what, sizeof(s.what), "%s", what);
		undo_push(&a->undo, &s);
		rc = apply_generic(l, req, ifindex, r->err, sizeof(r->err));
		break;
	}
	}
	if (rc) {
		/* Roll back what this request did: its undo steps are on top. */
		struct undo *u = &a->undo;
		if (u->n > 0) {
			struct undo_step top = u->v[--u->n];
			if (top.fn == undo_batch) {
				struct batch *b = &l->batches[top.ival];
				int mine[2] = { ifindex, peer };
				size_t keep = b->n;
				/* the batch may hold earlier creations: delete only ours */
				for (size_t i = 0; i < b->n; i++)
					if (b->ifindex[i] == ifindex || (peer > 0 && b->ifindex[i] == peer))
						keep--;
				delete_many(l, mine, peer > 0 ? 2 : 1, NULL, NULL);
				if (keep > 0) {
					b->n = keep;
					u->n++;
				}
			} else {
				top.fn(top.ctx, &top);
			}
		}
		goto out;
	}
	r->result = created_result(req, ifindex, peer);
out:
	free(req);
	return rc;
}

/* ---- deletion (batched) ------------------------------------------------------------------ */

void links_flush(struct links *l)
{
	if (!l || l->npend == 0)
		return;
	if (l->flush_timer) {
		loop_timer_cancel(l->a->loop, l->flush_timer);
		l->flush_timer = 0;
	}
	size_t n = l->npend;
	struct pending_del *pd = l->pend;
	int *v = calloc(n, sizeof(*v)), *rc = calloc(n, sizeof(*rc));
	char(*ext)[160] = calloc(n, sizeof(*ext));
	l->pend = NULL;
	l->npend = l->cappend = 0;
	if (v && rc && ext) {
		for (size_t i = 0; i < n; i++)
			v[i] = pd[i].ifindex;
		delete_many(l, v, n, rc, ext);
	}
	for (size_t i = 0; i < n; i++) {
		char msg[300] = "";
		int err = v && rc && ext ? rc[i] : -ENOMEM;
		if (err)
			kerr(msg, sizeof(msg), err, ext ? ext[i] : NULL, "deleting %s failed", pd[i].name);
		cJSON *res = NULL;
		if (!err) {
			res = cJSON_CreateObject();
			cJSON_AddNumberToObject(res, "ifindex", pd[i].ifindex);
			cJSON_AddStringToObject(res, "name", pd[i].name);
		}
		rpc_answer(l->a, pd[i].id, err, res, msg);
	}
	free(v);
	free(rc);
	free(ext);
	free(pd);
}

static void flush_timer(struct loop *loop, void *ud)
{
	(void)loop;
	struct links *l = ud;
	l->flush_timer = 0;
	links_flush(l);
}

int link_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", NULL };
	struct links *l = a->links;
	int ifindex;
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	cJSON *d = usable(l, ifindex, "", r->err, sizeof(r->err));
	if (!d)
		return -ENODEV;
	struct pending_del pd = { .id = a->req_id, .ifindex = ifindex };
	snprintf(pd.name, sizeof(pd.name), "%s", jstr(d, "name"));
	cJSON_Delete(d);
	if (!is_created(l, ifindex)) {
		snprintf(r->err, sizeof(r->err), "%s was not created by this run: only devices the run created can be "
						 "deleted", pd.name);
		return -EPERM;
	}
	if (PUSH(l->pend, l->npend, l->cappend, pd))
		return -ENOMEM;
	if (!l->flush_timer)
		l->flush_timer = loop_timer_add(a->loop, 0, flush_timer, l);
	return RPC_LATER;
}

/* ---- master / slave --------------------------------------------------------------------------- */

static int undo_master(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	return request(l, brmsg_master(s->ifindex, s->ival), NULL, 0);
}

int link_set_master(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "master", NULL };
	struct links *l = a->links;
	int ifindex, master, rc = 0;
	char ext[256];
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r) || rpc_int(p, "master", &master, r))
		return -EINVAL;
	cJSON *d = usable(l, ifindex, "", r->err, sizeof(r->err)), *m = NULL;
	if (!d)
		return -ENODEV;
	const char *name = jstr(d, "name");
	int was = jint(d, "master");
	if (master) {
		char what[96];
		snprintf(what, sizeof(what), "%s: master: ", name);
		if (master == ifindex) {
			snprintf(r->err, sizeof(r->err), "%s: a device cannot be its own master", name);
			rc = -EINVAL;
			goto out;
		}
		if (!(m = usable(l, master, what, r->err, sizeof(r->err)))) {
			rc = -ENODEV;
			goto out;
		}
	}
	if (was == master)
		goto done;
	if ((rc = request(l, brmsg_master(ifindex, master), ext, sizeof(ext)))) {
		if (master)
			kerr(r->err, sizeof(r->err), rc, ext, "%s: setting master %s failed", name, jstr(m, "name"));
		else
			kerr(r->err, sizeof(r->err), rc, ext, "%s: releasing it from its master failed", name);
		goto out;
	}
	char what[96];
	snprintf(what, sizeof(what), "master of %s", name);
	push_undo(l, undo_master, ifindex, was, what);
done:
	r->result = devdb_get(a->db, ifindex);
out:
	cJSON_Delete(d);
	cJSON_Delete(m);
	return rc;
}

/* ---- bridge VLANs ---------------------------------------------------------------------------- */

struct vlan_q {
	int ifindex;
	cJSON *out;
};

static int vlan_cb(struct nlmsghdr *h, void *ud)
{
	struct vlan_q *q = ud;
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1], *a;
	int rem;
	if (h->nlmsg_type != RTM_NEWLINK || ifi->ifi_index != q->ifindex ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_AF_SPEC])
		return 0;
	nla_for_each_nested(a, tb[IFLA_AF_SPEC], rem) {
		if (nla_type(a) != IFLA_BRIDGE_VLAN_INFO || nla_len(a) < (int)sizeof(struct bridge_vlan_info))
			continue;
		struct bridge_vlan_info *vi = nla_data(a);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "vid", vi->vid);
		cJSON_AddBoolToObject(o, "pvid", (vi->flags & BRIDGE_VLAN_INFO_PVID) != 0);
		cJSON_AddBoolToObject(o, "untagged", (vi->flags & BRIDGE_VLAN_INFO_UNTAGGED) != 0);
		cJSON_AddItemToArray(q->out, o);
	}
	return 0;
}

static cJSON *vlans_of(struct links *l, int ifindex)
{
	struct vlan_q q = { ifindex, cJSON_CreateArray() };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_BRIDGE };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN) < 0) {
		nlmsg_free(m);
		return q.out;
	}
	nlutil_dump(l->sk, m, vlan_cb, &q, NULL, 0);
	return q.out;
}

/* ival: vid | flags << 12 | self << 28 */
static int undo_vlan(void *ctx, const struct undo_step *s, int add)
{
	struct links *l = ctx;
	int vid = s->ival & 0xfff, flags = (s->ival >> 12) & 0xffff, self = (s->ival >> 28) & 1;
	return request(l, brmsg_vlan(add, s->ifindex, vid, (uint16_t)flags, self), NULL, 0);
}

static int undo_vlan_add(void *ctx, const struct undo_step *s)
{
	return undo_vlan(ctx, s, 0);
}

static int undo_vlan_del(void *ctx, const struct undo_step *s)
{
	return undo_vlan(ctx, s, 1);
}

static int vlan_change(struct agent *a, const cJSON *p, struct rpc_reply *r, int add)
{
	static const char *const known[] = { "ifindex", "vid", "pvid", "untagged", "self", NULL };
	struct links *l = a->links;
	int ifindex, vid, rc;
	char ext[256];
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r) || rpc_int(p, "vid", &vid, r))
		return -EINVAL;
	if (vid < 1 || vid > 4094) {
		snprintf(r->err, sizeof(r->err), "parameter 'vid' must be an integer between 1 and 4094, got %d", vid);
		return -EINVAL;
	}
	cJSON *d = usable(l, ifindex, "", r->err, sizeof(r->err));
	if (!d)
		return -ENODEV;
	const char *name = jstr(d, "name");
	int self = rpc_opt_bool(p, "self") || strcmp(jstr(d, "kind"), "bridge") == 0;
	uint16_t flags = (uint16_t)((rpc_opt_bool(p, "pvid") ? BRIDGE_VLAN_INFO_PVID : 0) |
				    (rpc_opt_bool(p, "untagged") ? BRIDGE_VLAN_INFO_UNTAGGED : 0));
	if (!add) {
		/* the entry's flags, to put it back as it was */
		cJSON *vl = vlans_of(l, ifindex), *it;
		int found = 0;
		cJSON_ArrayForEach(it, vl) {
			if (jint(it, "vid") == vid) {
				found = 1;
				flags = (uint16_t)((cJSON_IsTrue(cJSON_GetObjectItem(it, "pvid")) ? BRIDGE_VLAN_INFO_PVID : 0) |
						   (cJSON_IsTrue(cJSON_GetObjectItem(it, "untagged")) ? BRIDGE_VLAN_INFO_UNTAGGED : 0));
			}
		}
		cJSON_Delete(vl);
		if (!found) {
			snprintf(r->err, sizeof(r->err), "%s has no VLAN %d", name, vid);
			cJSON_Delete(d);
			return -ENOENT;
		}
	}
	if ((rc = request(l, brmsg_vlan(add, ifindex, vid, flags, self), ext, sizeof(ext)))) {
		if (rc == -EOPNOTSUPP && !ext[0] && has_feature(l, "bridge_vlan_filtering") == 0)
			snprintf(ext, sizeof(ext), "this kernel's bridge has no VLAN filtering: "
						   "capabilities.link_features lacks bridge_vlan_filtering");
		kerr(r->err, sizeof(r->err), rc, ext, "%s: %s VLAN %d failed", name, add ? "adding" : "deleting", vid);
		cJSON_Delete(d);
		return rc;
	}
	char what[96];
	snprintf(what, sizeof(what), "vlan %s %d on %s", add ? "add" : "del", vid, name);
	push_undo(l, add ? undo_vlan_add : undo_vlan_del, ifindex, vid | flags << 12 | self << 28, what);
	cJSON_Delete(d);
	r->result = vlans_of(l, ifindex);
	return 0;
}

int link_vlan_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return vlan_change(a, p, r, 1);
}

int link_vlan_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return vlan_change(a, p, r, 0);
}

int link_vlan_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	if (!exists(a->links, ifindex)) {
		snprintf(r->err, sizeof(r->err), "no device with ifindex %d on this host", ifindex);
		return -ENODEV;
	}
	r->result = vlans_of(a->links, ifindex);
	return 0;
}

/* ---- FDB ------------------------------------------------------------------------------------ */

struct fdb_q {
	int ifindex;
	cJSON *out;
};

static int fdb_cb(struct nlmsghdr *h, void *ud)
{
	struct fdb_q *q = ud;
	struct ndmsg *nd = nlmsg_data(h);
	struct nlattr *tb[NDA_MAX + 1];
	if (h->nlmsg_type != RTM_NEWNEIGH || nd->ndm_family != AF_BRIDGE || nd->ndm_ifindex != q->ifindex ||
	    nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) < 0 || !tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6)
		return 0;
	uint8_t *mac = nla_data(tb[NDA_LLADDR]);
	char buf[INET6_ADDRSTRLEN];
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "hwaddr", buf);
	if (tb[NDA_VLAN])
		cJSON_AddNumberToObject(o, "vlan", nla_get_u16(tb[NDA_VLAN]));
	cJSON_AddStringToObject(o, "state", nd->ndm_state & NUD_PERMANENT ? "permanent"
					    : nd->ndm_state & NUD_NOARP  ? "static"
									 : "dynamic");
	cJSON_AddBoolToObject(o, "self", (nd->ndm_flags & NTF_SELF) != 0);
	/* Entries of a bridge's table name it in NDA_MASTER. */
	cJSON_AddBoolToObject(o, "master", tb[NDA_MASTER] != NULL);
	if (tb[NDA_DST]) {
		int fam = nla_len(tb[NDA_DST]) == 16 ? AF_INET6 : AF_INET;
		if (inet_ntop(fam, nla_data(tb[NDA_DST]), buf, sizeof(buf)))
			cJSON_AddStringToObject(o, "dst", buf);
	}
	cJSON_AddItemToArray(q->out, o);
	return 0;
}

static cJSON *fdb_of(struct links *l, int ifindex)
{
	struct fdb_q q = { ifindex, cJSON_CreateArray() };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETNEIGH, 0);
	struct ndmsg nd = { .ndm_family = AF_BRIDGE };
	if (!m || nlmsg_append(m, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return q.out;
	}
	nlutil_dump(l->sk, m, fdb_cb, &q, NULL, 0);
	return q.out;
}

static int undo_fdb(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	int rc = request(l, brmsg_fdb(s->ival >> 20, &l->fdbs[s->ival & 0xfffff]), NULL, 0);
	return rc == -ENOENT || rc == -EEXIST ? 0 : rc;
}

static int fdb_change(struct agent *a, const cJSON *p, struct rpc_reply *r, int add)
{
	static const char *const known[] = { "ifindex", "hwaddr", "vlan", "self", "master", "state", "dst", "append",
					     NULL };
	struct links *l = a->links;
	struct brmsg_fdb f = { 0 };
	const char *mac, *state = rpc_opt_str(p, "state"), *dst = rpc_opt_str(p, "dst");
	char ext[256];
	int rc;
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &f.ifindex, r) || rpc_str(p, "hwaddr", &mac, r) ||
	    rpc_opt_int(p, "vlan", 0, &f.vlan, r))
		return -EINVAL;
	if (kinds_parse_mac(mac, f.mac)) {
		snprintf(r->err, sizeof(r->err), "parameter 'hwaddr' must be a MAC address like 02:00:00:00:00:01, got '%s'", mac);
		return -EINVAL;
	}
	if (f.vlan < 0 || f.vlan > 4094) {
		snprintf(r->err, sizeof(r->err), "parameter 'vlan' must be an integer between 1 and 4094, got %d", f.vlan);
		return -EINVAL;
	}
	if (dst) {
		f.dst_family = inet_pton(AF_INET, dst, f.dst) == 1 ? AF_INET : inet_pton(AF_INET6, dst, f.dst) == 1 ? AF_INET6 : 0;
		if (!f.dst_family) {
			snprintf(r->err, sizeof(r->err), "parameter 'dst' must be an IPv4 or IPv6 address, got '%s'", dst);
			return -EINVAL;
		}
	}
	f.self = rpc_opt_bool(p, "self");
	f.master = rpc_opt_bool(p, "master");
	f.append = add && rpc_opt_bool(p, "append");
	cJSON *d = usable(l, f.ifindex, "", r->err, sizeof(r->err));
	if (!d)
		return -ENODEV;
	const char *name = jstr(d, "name");
	if (!f.self && !f.master) {
		/* a bridge port: the bridge's table; anything else: its own */
		if (jint(d, "master") > 0 && strcmp(jstr(d, "kind"), "vxlan") != 0)
			f.master = 1;
		else
			f.self = 1;
	}
	if (state && strcmp(state, "static") && strcmp(state, "permanent") && strcmp(state, "dynamic")) {
		snprintf(r->err, sizeof(r->err), "parameter 'state' must be static, permanent or dynamic, got '%s'", state);
		cJSON_Delete(d);
		return -EINVAL;
	}
	/* Defaults: a static forwarding entry in a bridge; permanent in a
	 * device's own table (vxlan needs permanent or reachable). */
	if (state ? strcmp(state, "static") == 0 : f.master)
		f.is_static = 1;
	else if (state ? strcmp(state, "permanent") == 0 : 1)
		f.permanent = 1;
	if (!add) {
		/* delete what is there, and remember it for the undo */
		cJSON *all = fdb_of(l, f.ifindex), *it;
		int found = 0;
		cJSON_ArrayForEach(it, all) {
			uint8_t m2[6];
			if (kinds_parse_mac(jstr(it, "hwaddr"), m2) || memcmp(m2, f.mac, 6) || jint(it, "vlan") != f.vlan ||
			    cJSON_IsTrue(cJSON_GetObjectItem(it, f.master ? "master" : "self")) == 0)
				continue;
			found = 1;
			f.is_static = strcmp(jstr(it, "state"), "static") == 0;
			f.permanent = strcmp(jstr(it, "state"), "permanent") == 0;
		}
		cJSON_Delete(all);
		if (!found) {
			snprintf(r->err, sizeof(r->err), "%s has no FDB entry %s%s", name, mac, f.vlan ? " in that vlan" : "");
			cJSON_Delete(d);
			return -ENOENT;
		}
	}
	if ((rc = request(l, brmsg_fdb(add, &f), ext, sizeof(ext)))) {
		kerr(r->err, sizeof(r->err), rc, ext, "%s: %s FDB entry %s failed", name, add ? "adding" : "deleting", mac);
		cJSON_Delete(d);
		return rc;
	}
	if (!add)
		f.append = f.dst_family != 0; /* put back one remote among others */
	if (l->nfdbs < 0xfffff && PUSH(l->fdbs, l->nfdbs, l->capfdbs, f) == 0) {
		char what[96];
		snprintf(what, sizeof(what), "fdb %s %s on %s", add ? "add" : "del", mac, name);
		push_undo(l, undo_fdb, f.ifindex, (int)(l->nfdbs - 1) | (add ? 0 : 1 << 20), what);
	}
	cJSON_Delete(d);
	r->result = fdb_of(l, f.ifindex);
	return 0;
}

int link_fdb_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return fdb_change(a, p, r, 1);
}

int link_fdb_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return fdb_change(a, p, r, 0);
}

int link_fdb_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	if (!exists(a->links, ifindex)) {
		snprintf(r->err, sizeof(r->err), "no device with ifindex %d on this host", ifindex);
		return -ENODEV;
	}
	r->result = fdb_of(a->links, ifindex);
	return 0;
}

/* ---- bridge port flags ------------------------------------------------------------------------ */

struct port_q {
	struct brmsg_port *p;
	int rc;
};

static int port_cb(struct nlmsghdr *h, void *ud)
{
	struct port_q *q = ud;
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) < 0 ||
	    !tb[IFLA_LINKINFO] || nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    !li[IFLA_INFO_SLAVE_KIND] || strcmp(nla_get_string(li[IFLA_INFO_SLAVE_KIND]), "bridge") != 0)
		return 0;
	q->rc = brmsg_port_read(li[IFLA_INFO_SLAVE_DATA], q->p);
	return 0;
}

/* Reads the current values of p's flags; -ENOTCONN when not a bridge port. */
static int port_read(struct links *l, int ifindex, struct brmsg_port *p)
{
	struct port_q q = { p, -ENOTCONN };
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int rc = nlutil_request(l->sk, m, port_cb, &q, NULL, 0);
	return rc ? rc : q.rc;
}

static int undo_port(void *ctx, const struct undo_step *s)
{
	struct links *l = ctx;
	return request(l, brmsg_port(l->ports[s->ival].ifindex, &l->ports[s->ival].p), NULL, 0);
}

static int port_cmd(struct agent *a, const cJSON *p, struct rpc_reply *r, int set)
{
	struct links *l = a->links;
	int ifindex, rc;
	char ext[256];
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	struct brmsg_port want, old;
	if (set) {
		cJSON *flags = cJSON_Duplicate(p, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(flags, "ifindex");
		rc = brmsg_port_parse(flags, &want, r->err, sizeof(r->err));
		cJSON_Delete(flags);
		if (rc)
			return rc;
	} else {
		brmsg_port_all(&want);
	}
	cJSON *d = set ? usable(l, ifindex, "", r->err, sizeof(r->err)) : devdb_get(a->db, ifindex);
	if (!d) {
		if (!set)
			snprintf(r->err, sizeof(r->err), "no device with ifindex %d on this host", ifindex);
		return -ENODEV;
	}
	const char *name = jstr(d, "name");
	old = want;
	if ((rc = port_read(l, ifindex, &old))) {
		if (rc == -ENOTCONN)
			snprintf(r->err, sizeof(r->err), "%s is not a bridge port (set its master to a bridge first)", name);
		else
			kerr(r->err, sizeof(r->err), rc, NULL, "%s: reading its bridge port flags failed", name);
		cJSON_Delete(d);
		return rc == -ENOTCONN ? -EINVAL : rc;
	}
	if (set) {
		if ((rc = request(l, brmsg_port(ifindex, &want), ext, sizeof(ext)))) {
			kerr(r->err, sizeof(r->err), rc, ext, "%s: setting bridge port flags failed", name);
			cJSON_Delete(d);
			return rc;
		}
		struct port_undo pu = { ifindex, old };
		if (PUSH(l->ports, l->nports, l->capports, pu) == 0) {
			char what[96];
			snprintf(what, sizeof(what), "bridge port flags of %s", name);
			push_undo(l, undo_port, ifindex, (int)l->nports - 1, what);
		}
		port_read(l, ifindex, &want);
		old = want;
	}
	cJSON_Delete(d);
	r->result = cJSON_CreateObject();
	for (int i = 0; i < old.n; i++) {
		if (strcmp(old.v[i].name, "cost") && strcmp(old.v[i].name, "priority") && strcmp(old.v[i].name, "state"))
			cJSON_AddBoolToObject(r->result, old.v[i].name, old.v[i].value != 0);
		else
			cJSON_AddNumberToObject(r->result, old.v[i].name, old.v[i].value);
	}
	return 0;
}

int link_port_set(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return port_cmd(a, p, r, 1);
}

int link_port_get(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return port_cmd(a, p, r, 0);
}

/* ---- L2TP tunnels ------------------------------------------------------------------------------- */

int link_l2tp_tunnel_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct links *l = a->links;
	struct nl_msg *m = NULL;
	uint32_t tid;
	char ext[256];
	int fam = genl_family(l, "l2tp"), rc;
	if (fam < 0) {
		snprintf(r->err, sizeof(r->err), "l2tp_tunnel: the l2tp generic netlink family is not available "
						 "(kernel without L2TP)");
		return -EOPNOTSUPP;
	}
	if ((rc = kinds_l2tp_tunnel_msg(p, fam, &m, &tid, r->err, sizeof(r->err))))
		return rc;
	if ((rc = genl_request(l, m, ext, sizeof(ext))))
		return kerr(r->err, sizeof(r->err), rc, ext, "l2tp_tunnel %u: creation failed", tid);
	char what[96];
	snprintf(what, sizeof(what), "delete l2tp tunnel %u", tid);
	push_undo(l, undo_l2tp_tunnel, 0, (int)tid, what);
	r->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(r->result, "tunnel_id", tid);
	return 0;
}
