/* route.c - route, neighbour and rule requests with undo (route.h). */
#include "route.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent.h"
#include "log.h"
#include "nlutil.h"
#include "rtmsg.h"

struct route {
	struct nl_sock *sk;
};

/* An undo step that sends a saved rtnetlink message again. */
struct replay {
	struct route *rt;
	int tolerate; /* errno meaning "already as wanted" (ESRCH for deletes, EEXIST for adds) */
	size_t len;
	unsigned char msg[];
};

void route_free(struct route *rt)
{
	if (!rt)
		return;
	nlutil_close(rt->sk);
	free(rt);
}

static struct route *rt_get(struct agent *a, struct rpc_reply *r)
{
	if (a->route)
		return a->route;
	struct route *rt = calloc(1, sizeof(*rt));
	if (!rt || nlutil_open(&rt->sk, NETLINK_ROUTE)) {
		free(rt);
		snprintf(r->err, sizeof(r->err), "cannot open an rtnetlink socket");
		return NULL;
	}
	a->route = rt;
	return rt;
}

static int replay_step(void *ctx, const struct undo_step *s)
{
	struct replay *rp = ctx;
	struct nl_msg *m = nlmsg_convert((struct nlmsghdr *)rp->msg);
	int err = -ENOMEM;
	if (m) {
		nlmsg_hdr(m)->nlmsg_seq = 0; /* a fresh one for this exchange */
		char ext[256];
		err = nlutil_request(rp->rt->sk, m, NULL, NULL, ext, sizeof(ext));
		if (err == -rp->tolerate)
			err = 0;
		if (err && err != -ENODEV)
			log_warn("undo of '%s': %s%s%s", s->what, strerror(-err), ext[0] ? ": " : "", ext);
	}
	free(rp);
	return err == -ENODEV ? 0 : err;
}

/* Records msg (not consumed) to be sent again at the end of the run. */
static void record(struct agent *a, struct route *rt, struct nl_msg *msg, int tolerate,
		   const char *what)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct replay *rp = malloc(sizeof(*rp) + h->nlmsg_len);
	if (!rp)
		return;
	rp->rt = rt;
	rp->tolerate = tolerate;
	rp->len = h->nlmsg_len;
	memcpy(rp->msg, h, h->nlmsg_len);
	struct undo_step s = { .fn = replay_step, .ctx = rp };
	snprintf(s.what, sizeof(s.what), "%.*s", (int)sizeof(s.what) - 1, what);
	if (undo_push(&a->undo, &s))
		free(rp);
}

/* 0 when ifindex names an enabled device; else -ENODEV with r->err set. */
static int check_dev(struct agent *a, double ifindex, const char *what, struct rpc_reply *r)
{
	cJSON *d = devdb_get(a->db, (int)ifindex);
	if (!d) {
		snprintf(r->err, sizeof(r->err), "%s: no device with ifindex %d", what, (int)ifindex);
		return -ENODEV;
	}
	int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "enabled"));
	if (!ok)
		snprintf(r->err, sizeof(r->err),
			 "%s: device %s is disabled: it existed before the run and is not mapped to a recipe NIC",
			 what, cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring);
	cJSON_Delete(d);
	return ok ? 0 : -ENODEV;
}

/* Checks the route's device and every nexthop's device. */
static int check_route_devs(struct agent *a, const cJSON *route, const char *what, struct rpc_reply *r)
{
	const cJSON *ifi = cJSON_GetObjectItemCaseSensitive(route, "ifindex");
	if (cJSON_IsNumber(ifi) && check_dev(a, ifi->valuedouble, what, r))
		return -ENODEV;
	const cJSON *nh;
	cJSON_ArrayForEach(nh, cJSON_GetObjectItemCaseSensitive(route, "nexthops")) {
		ifi = cJSON_GetObjectItemCaseSensitive(nh, "ifindex");
		if (cJSON_IsNumber(ifi) && check_dev(a, ifi->valuedouble, what, r))
			return -ENODEV;
	}
	return 0;
}

static const char *dev_name(struct agent *a, const cJSON *o, char *buf, size_t n)
{
	const cJSON *ifi = cJSON_GetObjectItemCaseSensitive(o, "ifindex");
	buf[0] = 0;
	if (!cJSON_IsNumber(ifi))
		return buf;
	cJSON *d = devdb_get(a->db, (int)ifi->valuedouble);
	snprintf(buf, n, "%s", d ? cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring : "?");
	cJSON_Delete(d);
	return buf;
}

/* "203.0.113.0/24 via 198.51.100.254 dev eth0 table 100": for messages. */
static void describe_route(struct agent *a, const cJSON *p, char *out, size_t n)
{
	const cJSON *v;
	char name[32];
	size_t o = (size_t)snprintf(out, n, "%s", cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(p, "dst"))
							  ? v->valuestring : "?");
	if (o < n && cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(p, "via")))
		o += (size_t)snprintf(out + o, n - o, " via %s", v->valuestring);
	if (o < n && dev_name(a, p, name, sizeof(name))[0])
		o += (size_t)snprintf(out + o, n - o, " dev %s", name);
	if (o < n && cJSON_IsArray(v = cJSON_GetObjectItemCaseSensitive(p, "nexthops")))
		o += (size_t)snprintf(out + o, n - o, " (%d nexthops)", cJSON_GetArraySize(v));
	if (o < n && cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(p, "table")))
		o += (size_t)snprintf(out + o, n - o, " table %.0f", v->valuedouble);
	if (o < n && cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(p, "metric")))
		snprintf(out + o, n - o, " metric %.0f", v->valuedouble);
}

static int kernel_fail(struct rpc_reply *r, int err, const char *what, const char *ext)
{
	snprintf(r->err, sizeof(r->err), "%s failed: %s%s%s", what, strerror(-err), ext[0] ? " (" : "",
		 ext[0] ? ext : "");
	if (ext[0])
		snprintf(r->err + strlen(r->err), sizeof(r->err) - strlen(r->err), ")");
	return err;
}

/* ---- dumps ----------------------------------------------------------------------------- */

struct collect {
	cJSON *(*parse)(const struct nlmsghdr *h);
	cJSON *arr;
};

static int collect_cb(struct nlmsghdr *h, void *ud)
{
	struct collect *c = ud;
	cJSON *o = c->parse(h);
	if (o)
		cJSON_AddItemToArray(c->arr, o);
	return 0;
}

/* Every entry of one kind as a JSON array, or NULL. */
static cJSON *dump_all(struct route *rt, int type, size_t hdrlen, cJSON *(*parse)(const struct nlmsghdr *))
{
	struct collect c = { parse, cJSON_CreateArray() };
	/* Neighbours: the proxy entries are a second table, dumped on request. */
	int passes = type == RTM_GETNEIGH ? 2 : 1;
	for (int pass = 0; pass < passes; pass++) {
		struct nl_msg *m = nlmsg_alloc_simple(type, 0);
		unsigned char hdr[64] = { 0 }; /* family AF_UNSPEC, everything else zero */
		if (pass == 1)
			((struct ndmsg *)hdr)->ndm_flags = NTF_PROXY;
		if (!m || nlmsg_append(m, hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
			nlmsg_free(m);
			goto fail;
		}
		if (nlutil_dump(rt->sk, m, collect_cb, &c, NULL, 0))
			goto fail;
	}
	return c.arr;
fail:
	cJSON_Delete(c.arr);
	return NULL;
}

/* One kind of rtnetlink object: how to dump it and match a request to it. */
struct rtkind {
	int get;
	size_t hdrlen;
	cJSON *(*parse)(const struct nlmsghdr *h);
	int (*match)(const cJSON *obj, const cJSON *spec);
};

/* Whether a rule read from the kernel has every key spec gives. */
static int rule_match(const cJSON *rule, const cJSON *spec)
{
	const cJSON *k;
	cJSON_ArrayForEach(k, spec) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rule, k->string);
		if (!v || !cJSON_Compare(v, k, 1))
			return 0;
	}
	return 1;
}

static const struct rtkind kind_route = { RTM_GETROUTE, sizeof(struct rtmsg), rtmsg_route_json,
					  rtmsg_route_match };
static const struct rtkind kind_neigh = { RTM_GETNEIGH, sizeof(struct ndmsg), rtmsg_neigh_json,
					  rtmsg_neigh_match };
static const struct rtkind kind_rule = { RTM_GETRULE, sizeof(struct fib_rule_hdr), rtmsg_rule_json,
					 rule_match };

/* The first object the kernel has that matches spec, for the caller to
 * delete; NULL when there is none. */
static cJSON *find_one(struct route *rt, const struct rtkind *k, const cJSON *spec)
{
	cJSON *all = dump_all(rt, k->get, k->hdrlen, k->parse), *it, *found = NULL;
	cJSON_ArrayForEach(it, all) {
		if (k->match(it, spec)) {
			found = cJSON_DetachItemViaPointer(all, it);
			break;
		}
	}
	cJSON_Delete(all);
	return found;
}

/* Sends msg ("DOING WHAT" in errors) and, once the kernel took it, records
 * inverse (may be NULL) in the undo log as "LABEL WHAT". Takes both. */
static int apply(struct agent *a, struct route *rt, struct nl_msg *msg, struct nl_msg *inverse,
		 int tolerate, const char *doing, const char *label, const char *what,
		 struct rpc_reply *r)
{
	char ext[256], ctx[230];
	snprintf(ctx, sizeof(ctx), "%s %s", doing, what);
	int err = nlutil_request(rt->sk, msg, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(inverse);
		return kernel_fail(r, err, ctx, ext);
	}
	if (inverse) {
		snprintf(ctx, sizeof(ctx), "%s %s", label, what);
		record(a, rt, inverse, tolerate, ctx);
		nlmsg_free(inverse);
	}
	r->err[0] = 0;
	r->result = cJSON_CreateObject();
	return 0;
}

/* What a list request keeps: a family, a table, a device (0: any). */
struct filter {
	const char *family;
	double table;
	int ifindex;
};

static int filter_family(const cJSON *p, struct filter *f, struct rpc_reply *r)
{
	f->family = rpc_opt_str(p, "family");
	if (cJSON_GetObjectItemCaseSensitive(p, "family") &&
	    (!f->family || (strcmp(f->family, "ipv4") && strcmp(f->family, "ipv6")))) {
		snprintf(r->err, sizeof(r->err), "parameter 'family' must be \"ipv4\" or \"ipv6\"");
		return -EINVAL;
	}
	return 0;
}

static int filter_keep(const cJSON *o, const struct filter *f)
{
	if (f->family && strcmp(cJSON_GetObjectItemCaseSensitive(o, "family")->valuestring, f->family))
		return 0;
	if (f->table && cJSON_GetObjectItemCaseSensitive(o, "table")->valuedouble != f->table)
		return 0;
	return !f->ifindex || (int)cJSON_GetObjectItemCaseSensitive(o, "ifindex")->valuedouble == f->ifindex;
}

/* Replies with every object of a kind that the filter keeps. */
static int list(struct route *rt, const struct rtkind *k, const struct filter *f, const char *noun,
		struct rpc_reply *r)
{
	cJSON *all = dump_all(rt, k->get, k->hdrlen, k->parse);
	if (!all) {
		snprintf(r->err, sizeof(r->err), "reading %s failed", noun);
		return -EIO;
	}
	cJSON *out = cJSON_CreateArray();
	while (all->child) {
		cJSON *o = cJSON_DetachItemViaPointer(all, all->child);
		if (filter_keep(o, f))
			cJSON_AddItemToArray(out, o);
		else
			cJSON_Delete(o);
	}
	cJSON_Delete(all);
	r->result = out;
	return 0;
}

/* ---- routes ----------------------------------------------------------------------------- */

int route_m_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[200];
	describe_route(a, p, what, sizeof(what));
	struct nl_msg *add, *del;
	int err = rtmsg_route(&add, RTM_NEWROUTE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	if (check_route_devs(a, p, "route.add", r)) {
		nlmsg_free(add);
		return -ENODEV;
	}
	/* The inverse names exactly this route (same keys), built before the
	 * kernel sees anything, so a failure leaves nothing to undo. */
	err = rtmsg_route(&del, RTM_DELROUTE, p, r->err, sizeof(r->err));
	if (err) {
		nlmsg_free(add);
		return err;
	}
	return apply(a, rt, add, del, ESRCH, "adding route", "route.add", what, r);
}

int route_m_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[200];
	describe_route(a, p, what, sizeof(what));
	struct nl_msg *del, *add = NULL;
	int err = rtmsg_route(&del, RTM_DELROUTE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	/* Read the route as the kernel has it, to re-create it at the end. */
	cJSON *found = find_one(rt, &kind_route, p);
	if (!found) {
		nlmsg_free(del);
		snprintf(r->err, sizeof(r->err), "removing route %s failed: no such route", what);
		return -ESRCH;
	}
	err = check_route_devs(a, found, "route.del", r);
	if (!err)
		err = rtmsg_route(&add, RTM_NEWROUTE, found, r->err, sizeof(r->err));
	cJSON_Delete(found);
	if (err) {
		nlmsg_free(del);
		return err;
	}
	return apply(a, rt, del, add, EEXIST, "removing route", "route.del", what, r);
}

int route_m_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "table", "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	struct filter f = { .table = RT_TABLE_MAIN };
	if (filter_family(p, &f, r))
		return -EINVAL;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "table");
	if (cJSON_IsString(t) && strcmp(t->valuestring, "all") == 0) {
		f.table = 0;
	} else if (t) {
		if (!cJSON_IsNumber(t) || t->valuedouble < 1) {
			snprintf(r->err, sizeof(r->err), "parameter 'table' must be a table number or \"all\"");
			return -EINVAL;
		}
		f.table = t->valuedouble;
	}
	return list(rt, &kind_route, &f, "routes", r);
}

/* ---- neighbours ------------------------------------------------------------------------------ */

/* Builds a neighbour request ("DST dev NAME" in what) for an enabled device. */
static int neigh_prepare(struct agent *a, const cJSON *p, int type, const char *label,
			 struct nl_msg **msg, char *what, size_t n, struct rpc_reply *r)
{
	int err = rtmsg_neigh(msg, type, p, r->err, sizeof(r->err));
	if (err)
		return err;
	const cJSON *dst = cJSON_GetObjectItemCaseSensitive(p, "dst");
	char name[32];
	snprintf(what, n, "%s dev %s", cJSON_IsString(dst) ? dst->valuestring : "?",
		 dev_name(a, p, name, sizeof(name))[0] ? name : "?");
	if (check_dev(a, cJSON_GetObjectItemCaseSensitive(p, "ifindex")->valuedouble, label, r)) {
		nlmsg_free(*msg);
		return -ENODEV;
	}
	return 0;
}

int route_m_neigh_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160];
	struct nl_msg *add, *del;
	int err = neigh_prepare(a, p, RTM_NEWNEIGH, "neigh.add", &add, what, sizeof(what), r);
	if (err)
		return err;
	err = rtmsg_neigh(&del, RTM_DELNEIGH, p, r->err, sizeof(r->err));
	if (err) {
		nlmsg_free(add);
		return err;
	}
	return apply(a, rt, add, del, ENOENT, "adding neighbour", "neigh.add", what, r);
}

int route_m_neigh_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160];
	struct nl_msg *del, *add = NULL;
	int err = neigh_prepare(a, p, RTM_DELNEIGH, "neigh.del", &del, what, sizeof(what), r);
	if (err)
		return err;
	/* Only configured entries come back; learnt ones the kernel re-learns. */
	cJSON *found = find_one(rt, &kind_neigh, p);
	const cJSON *st = found ? cJSON_GetObjectItemCaseSensitive(found, "state") : NULL;
	int configured = st && (strcmp(st->valuestring, "permanent") == 0 ||
				strcmp(st->valuestring, "noarp") == 0 ||
				cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(found, "proxy")));
	if (configured && rtmsg_neigh(&add, RTM_NEWNEIGH, found, r->err, sizeof(r->err)))
		add = NULL;
	cJSON_Delete(found);
	return apply(a, rt, del, add, EEXIST, "removing neighbour", "neigh.del", what, r);
}

int route_m_neigh_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	struct filter f = { 0 };
	if (filter_family(p, &f, r) || rpc_opt_int(p, "ifindex", 0, &f.ifindex, r))
		return -EINVAL;
	return list(rt, &kind_neigh, &f, "neighbours", r);
}

/* ---- rules ---------------------------------------------------------------------------------- */

static void describe_rule(const cJSON *p, char *out, size_t n)
{
	char *s = cJSON_PrintUnformatted(p);
	snprintf(out, n, "%s", s ? s : "?");
	cJSON_free(s);
}

int route_m_rule_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160];
	struct nl_msg *add, *del;
	int err = rtmsg_rule(&add, RTM_NEWRULE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	err = rtmsg_rule(&del, RTM_DELRULE, p, r->err, sizeof(r->err));
	if (err) {
		nlmsg_free(add);
		return err;
	}
	describe_rule(p, what, sizeof(what));
	return apply(a, rt, add, del, ENOENT, "adding rule", "rule.add", what, r);
}

int route_m_rule_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160];
	struct nl_msg *del, *add = NULL;
	int err = rtmsg_rule(&del, RTM_DELRULE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	describe_rule(p, what, sizeof(what));
	cJSON *found = find_one(rt, &kind_rule, p);
	if (!found) {
		nlmsg_free(del);
		snprintf(r->err, sizeof(r->err), "removing rule %s failed: no such rule", what);
		return -ENOENT;
	}
	if (rtmsg_rule(&add, RTM_NEWRULE, found, r->err, sizeof(r->err)))
		add = NULL;
	cJSON_Delete(found);
	return apply(a, rt, del, add, EEXIST, "removing rule", "rule.del", what, r);
}

int route_m_rule_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	struct filter f = { 0 };
	if (filter_family(p, &f, r))
		return -EINVAL;
	return list(rt, &kind_rule, &f, "rules", r);
}
