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
	snprintf(s.what, sizeof(s.what), "%s", what);
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

static int family_filter(const cJSON *p, const char **fam, struct rpc_reply *r)
{
	*fam = rpc_opt_str(p, "family");
	if (cJSON_GetObjectItemCaseSensitive(p, "family") &&
	    (!*fam || (strcmp(*fam, "ipv4") && strcmp(*fam, "ipv6")))) {
		snprintf(r->err, sizeof(r->err), "parameter 'family' must be \"ipv4\" or \"ipv6\"");
		return -EINVAL;
	}
	return 0;
}

static int keep(const cJSON *o, const char *fam)
{
	return !fam || strcmp(cJSON_GetObjectItemCaseSensitive(o, "family")->valuestring, fam) == 0;
}

/* ---- routes ----------------------------------------------------------------------------- */

int route_m_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[200], ext[256];
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
	char ctx[230];
	snprintf(ctx, sizeof(ctx), "adding route %s", what);
	err = nlutil_request(rt->sk, add, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(del);
		return kernel_fail(r, err, ctx, ext);
	}
	snprintf(ctx, sizeof(ctx), "route.add %s", what);
	record(a, rt, del, ESRCH, ctx);
	nlmsg_free(del);
	r->result = cJSON_CreateObject();
	return 0;
}

int route_m_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[200], ext[256], ctx[230];
	describe_route(a, p, what, sizeof(what));
	struct nl_msg *del, *add = NULL;
	int err = rtmsg_route(&del, RTM_DELROUTE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	/* Read the route as the kernel has it, to re-create it at the end. */
	cJSON *all = dump_all(rt, RTM_GETROUTE, sizeof(struct rtmsg), rtmsg_route_json);
	const cJSON *found = NULL, *it;
	cJSON_ArrayForEach(it, all) {
		if (rtmsg_route_match(it, p)) {
			found = it;
			break;
		}
	}
	if (!found) {
		cJSON_Delete(all);
		nlmsg_free(del);
		snprintf(r->err, sizeof(r->err), "removing route %s failed: no such route", what);
		return -ESRCH;
	}
	err = check_route_devs(a, found, "route.del", r);
	if (!err)
		err = rtmsg_route(&add, RTM_NEWROUTE, found, r->err, sizeof(r->err));
	if (err) {
		cJSON_Delete(all);
		nlmsg_free(del);
		return err;
	}
	cJSON_Delete(all);
	snprintf(ctx, sizeof(ctx), "removing route %s", what);
	err = nlutil_request(rt->sk, del, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(add);
		return kernel_fail(r, err, ctx, ext);
	}
	snprintf(ctx, sizeof(ctx), "route.del %s", what);
	record(a, rt, add, EEXIST, ctx);
	nlmsg_free(add);
	r->result = cJSON_CreateObject();
	return 0;
}

int route_m_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "table", "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	const char *fam;
	if (family_filter(p, &fam, r))
		return -EINVAL;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "table");
	int all_tables = cJSON_IsString(t) && strcmp(t->valuestring, "all") == 0;
	double table = RT_TABLE_MAIN;
	if (t && !all_tables) {
		if (!cJSON_IsNumber(t) || t->valuedouble < 1) {
			snprintf(r->err, sizeof(r->err), "parameter 'table' must be a table number or \"all\"");
			return -EINVAL;
		}
		table = t->valuedouble;
	}
	cJSON *routes = dump_all(rt, RTM_GETROUTE, sizeof(struct rtmsg), rtmsg_route_json);
	if (!routes) {
		snprintf(r->err, sizeof(r->err), "reading routes failed");
		return -EIO;
	}
	cJSON *out = cJSON_CreateArray();
	while (routes->child) {
		cJSON *o = cJSON_DetachItemViaPointer(routes, routes->child);
		double tb = cJSON_GetObjectItemCaseSensitive(o, "table")->valuedouble;
		if (keep(o, fam) && (all_tables || tb == table))
			cJSON_AddItemToArray(out, o);
		else
			cJSON_Delete(o);
	}
	cJSON_Delete(routes);
	r->result = out;
	return 0;
}

/* ---- neighbours ------------------------------------------------------------------------------ */

static void describe_neigh(struct agent *a, const cJSON *p, char *out, size_t n)
{
	const cJSON *dst = cJSON_GetObjectItemCaseSensitive(p, "dst");
	char name[32];
	snprintf(out, n, "%s dev %s", cJSON_IsString(dst) ? dst->valuestring : "?",
		 dev_name(a, p, name, sizeof(name))[0] ? name : "?");
}

int route_m_neigh_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160], ext[256], ctx[200];
	struct nl_msg *add, *del;
	int err = rtmsg_neigh(&add, RTM_NEWNEIGH, p, r->err, sizeof(r->err));
	if (err)
		return err;
	describe_neigh(a, p, what, sizeof(what));
	if (check_dev(a, cJSON_GetObjectItemCaseSensitive(p, "ifindex")->valuedouble, "neigh.add", r)) {
		nlmsg_free(add);
		return -ENODEV;
	}
	err = rtmsg_neigh(&del, RTM_DELNEIGH, p, r->err, sizeof(r->err));
	if (err) {
		nlmsg_free(add);
		return err;
	}
	snprintf(ctx, sizeof(ctx), "adding neighbour %s", what);
	err = nlutil_request(rt->sk, add, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(del);
		return kernel_fail(r, err, ctx, ext);
	}
	snprintf(ctx, sizeof(ctx), "neigh.add %s", what);
	record(a, rt, del, ENOENT, ctx);
	nlmsg_free(del);
	r->result = cJSON_CreateObject();
	return 0;
}

int route_m_neigh_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160], ext[256], ctx[200];
	struct nl_msg *del, *add = NULL;
	int err = rtmsg_neigh(&del, RTM_DELNEIGH, p, r->err, sizeof(r->err));
	if (err)
		return err;
	describe_neigh(a, p, what, sizeof(what));
	if (check_dev(a, cJSON_GetObjectItemCaseSensitive(p, "ifindex")->valuedouble, "neigh.del", r)) {
		nlmsg_free(del);
		return -ENODEV;
	}
	cJSON *all = dump_all(rt, RTM_GETNEIGH, sizeof(struct ndmsg), rtmsg_neigh_json);
	const cJSON *found = NULL, *it;
	cJSON_ArrayForEach(it, all) {
		if (rtmsg_neigh_match(it, p)) {
			found = it;
			break;
		}
	}
	/* Only configured entries come back; learnt ones the kernel re-learns. */
	const cJSON *st = found ? cJSON_GetObjectItemCaseSensitive(found, "state") : NULL;
	int configured = st && (strcmp(st->valuestring, "permanent") == 0 ||
				strcmp(st->valuestring, "noarp") == 0 ||
				cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(found, "proxy")));
	if (configured && rtmsg_neigh(&add, RTM_NEWNEIGH, found, r->err, sizeof(r->err)))
		add = NULL;
	cJSON_Delete(all);
	snprintf(ctx, sizeof(ctx), "removing neighbour %s", what);
	err = nlutil_request(rt->sk, del, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(add);
		return kernel_fail(r, err, ctx, ext);
	}
	if (add) {
		snprintf(ctx, sizeof(ctx), "neigh.del %s", what);
		record(a, rt, add, EEXIST, ctx);
		nlmsg_free(add);
	}
	r->err[0] = 0;
	r->result = cJSON_CreateObject();
	return 0;
}

int route_m_neigh_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	const char *fam;
	int ifindex = 0;
	if (family_filter(p, &fam, r) || rpc_opt_int(p, "ifindex", 0, &ifindex, r))
		return -EINVAL;
	cJSON *all = dump_all(rt, RTM_GETNEIGH, sizeof(struct ndmsg), rtmsg_neigh_json);
	if (!all) {
		snprintf(r->err, sizeof(r->err), "reading neighbours failed");
		return -EIO;
	}
	cJSON *out = cJSON_CreateArray();
	while (all->child) {
		cJSON *o = cJSON_DetachItemViaPointer(all, all->child);
		int ifi = (int)cJSON_GetObjectItemCaseSensitive(o, "ifindex")->valuedouble;
		if (keep(o, fam) && (!ifindex || ifi == ifindex))
			cJSON_AddItemToArray(out, o);
		else
			cJSON_Delete(o);
	}
	cJSON_Delete(all);
	r->result = out;
	return 0;
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
	char what[160], ext[256], ctx[200];
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
	snprintf(ctx, sizeof(ctx), "adding rule %s", what);
	err = nlutil_request(rt->sk, add, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(del);
		return kernel_fail(r, err, ctx, ext);
	}
	snprintf(ctx, sizeof(ctx), "rule.add %s", what);
	record(a, rt, del, ENOENT, ctx);
	nlmsg_free(del);
	r->result = cJSON_CreateObject();
	return 0;
}

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

int route_m_rule_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	char what[160], ext[256], ctx[200];
	struct nl_msg *del, *add = NULL;
	int err = rtmsg_rule(&del, RTM_DELRULE, p, r->err, sizeof(r->err));
	if (err)
		return err;
	describe_rule(p, what, sizeof(what));
	cJSON *all = dump_all(rt, RTM_GETRULE, sizeof(struct fib_rule_hdr), rtmsg_rule_json);
	const cJSON *found = NULL, *it;
	cJSON_ArrayForEach(it, all) {
		if (rule_match(it, p)) {
			found = it;
			break;
		}
	}
	if (!found) {
		cJSON_Delete(all);
		nlmsg_free(del);
		snprintf(r->err, sizeof(r->err), "removing rule %s failed: no such rule", what);
		return -ENOENT;
	}
	if (rtmsg_rule(&add, RTM_NEWRULE, found, r->err, sizeof(r->err)))
		add = NULL;
	cJSON_Delete(all);
	snprintf(ctx, sizeof(ctx), "removing rule %s", what);
	err = nlutil_request(rt->sk, del, NULL, NULL, ext, sizeof(ext));
	if (err) {
		nlmsg_free(add);
		return kernel_fail(r, err, ctx, ext);
	}
	if (add) {
		snprintf(ctx, sizeof(ctx), "rule.del %s", what);
		record(a, rt, add, EEXIST, ctx);
		nlmsg_free(add);
	}
	r->err[0] = 0;
	r->result = cJSON_CreateObject();
	return 0;
}

int route_m_rule_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "family", NULL };
	if (rpc_only(p, known, r))
		return -EINVAL;
	struct route *rt = rt_get(a, r);
	if (!rt)
		return -EIO;
	const char *fam;
	if (family_filter(p, &fam, r))
		return -EINVAL;
	cJSON *all = dump_all(rt, RTM_GETRULE, sizeof(struct fib_rule_hdr), rtmsg_rule_json);
	if (!all) {
		snprintf(r->err, sizeof(r->err), "reading rules failed");
		return -EIO;
	}
	cJSON *out = cJSON_CreateArray();
	while (all->child) {
		cJSON *o = cJSON_DetachItemViaPointer(all, all->child);
		if (keep(o, fam))
			cJSON_AddItemToArray(out, o);
		else
			cJSON_Delete(o);
	}
	cJSON_Delete(all);
	r->result = out;
	return 0;
}
