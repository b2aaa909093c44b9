/* dispatch.c - the agent's method table: the whole of what a controller can
 * ask. Each handler validates its params, acts, and returns a result tree or
 * a negative errno with a message. Nothing outside this table is reachable
 * from the wire. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "ethtool.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "route.h"
#include "rpc.h"
#include "sysctl.h"

/* ---- parameter access (rpc.h) ---------------------------------------------- */

int rpc_int(const cJSON *p, const char *key, int *out, struct rpc_reply *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble) {
		snprintf(r->err, sizeof(r->err), "parameter '%s' must be an integer", key);
		return -EINVAL;
	}
	*out = (int)v->valuedouble;
	return 0;
}

const char *rpc_opt_str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int rpc_str(const cJSON *p, const char *key, const char **out, struct rpc_reply *r)
{
	*out = rpc_opt_str(p, key);
	if (!*out) {
		snprintf(r->err, sizeof(r->err), "parameter '%s' must be a string", key);
		return -EINVAL;
	}
	return 0;
}

int rpc_opt_int(const cJSON *p, const char *key, int dflt, int *out, struct rpc_reply *r)
{
	if (!cJSON_GetObjectItemCaseSensitive(p, key)) {
		*out = dflt;
		return 0;
	}
	return rpc_int(p, key, out, r);
}

int rpc_opt_bool(const cJSON *p, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, key));
}

int rpc_only(const cJSON *p, const char *const *allowed, struct rpc_reply *r)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, p) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, it->string) == 0;
		if (!ok) {
			size_t o = (size_t)snprintf(r->err, sizeof(r->err), "unknown parameter '%s' (known:", it->string);
			for (const char *const *a = allowed; *a && o < sizeof(r->err); a++)
				o += (size_t)snprintf(r->err + o, sizeof(r->err) - o, " %s", *a);
			if (o < sizeof(r->err))
				snprintf(r->err + o, sizeof(r->err) - o, ")");
			return -EINVAL;
		}
	}
	return 0;
}

static int dev_result(struct agent *a, int ifindex, struct rpc_reply *r)
{
	r->result = devdb_get(a->db, ifindex);
	return 0;
}

/* ---- session ----------------------------------------------------------------- */

static int on_path(const char *tool)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[512];
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

static int m_hello(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)p;
	static const char *tools[] = { "ping", "iperf3", "tcpdump", "tc", "nft", "ethtool",
				       "ip", "bridge", "teamd", "mptcpize", "neper", "sysctl", "xdp-bench",
				       "rdma", "ib_send_bw" };
	struct utsname u;
	uname(&u);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "protocol", PROTO_VERSION);
	cJSON_AddStringToObject(o, "agent_version", AGENT_VERSION);
	cJSON_AddStringToObject(o, "name", a->name ? a->name : host);
	cJSON_AddStringToObject(o, "hostname", host);
	cJSON_AddStringToObject(o, "kernel", u.release);
	cJSON_AddStringToObject(o, "arch", u.machine);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON *caps = cJSON_AddObjectToObject(o, "capabilities");
	cJSON *t = cJSON_AddArrayToObject(caps, "tools");
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (on_path(tools[i]))
			cJSON_AddItemToArray(t, cJSON_CreateString(tools[i]));
	cJSON_AddItemToObject(caps, "ethtool", ethtool_capabilities(a));
	cJSON_AddItemToObject(caps, "kinds", links_kinds(a->links));
	cJSON_AddItemToObject(caps, "link_features", links_features(a->links));
	cJSON_AddItemToObject(caps, "kinds_absent", links_kinds_absent(a->links));
	cJSON_AddItemToObject(o, "devices", devdb_list(a->db));
	r->result = o;
	return 0;
}

static int m_ping(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)a;
	(void)p;
	r->result = cJSON_CreateObject();
	return 0;
}

static int m_run_end(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)p;
	size_t steps = a->undo.n;
	int running = jobs_running(a->jobs);
	agent_end_run(a);
	r->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(r->result, "undone", (double)steps);
	cJSON_AddNumberToObject(r->result, "jobs_killed", running);
	return 0;
}

static int m_bye(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int err = m_run_end(a, p, r);
	a->quit = 1;
	return err;
}

/* ---- devices ------------------------------------------------------------------ */

static int m_dev_list(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)p;
	r->result = devdb_list(a->db);
	return 0;
}

static int m_dev_map(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	const char *name = rpc_opt_str(p, "name"), *hw = rpc_opt_str(p, "hwaddr");
	if (!name && !hw) {
		snprintf(r->err, sizeof(r->err), "dev.map needs 'name' or 'hwaddr'");
		return -EINVAL;
	}
	int ifindex = devdb_find(a->db, name, hw);
	if (ifindex < 0) {
		snprintf(r->err, sizeof(r->err), "no device %s '%s' on this host",
			 name ? "named" : "with hwaddr", name ? name : hw);
		return -ENODEV;
	}
	struct devdb_err e;
	int err = devdb_map(a->db, ifindex, &e);
	if (err) {
		snprintf(r->err, sizeof(r->err), "%s", e.msg);
		return err;
	}
	ethtool_snapshot(a, ifindex);
	return dev_result(a, ifindex, r);
}

static int m_dev_ip(struct agent *a, const cJSON *p, struct rpc_reply *r, int add)
{
	int ifindex;
	const char *addr;
	if (rpc_int(p, "ifindex", &ifindex, r) || rpc_str(p, "addr", &addr, r))
		return -EINVAL;
	struct devdb_err e;
	int nodad = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "nodad"));
	int err = add ? devdb_ip_add(a->db, ifindex, addr, nodad, 1, &e)
		      : devdb_ip_del(a->db, ifindex, addr, 1, &e);
	if (err) {
		snprintf(r->err, sizeof(r->err), "%s", e.msg);
		return err;
	}
	return dev_result(a, ifindex, r);
}

static int m_dev_ip_add(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return m_dev_ip(a, p, r, 1);
}

static int m_dev_ip_del(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return m_dev_ip(a, p, r, 0);
}

static int m_dev_ip_flush(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	struct devdb_err e;
	int all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "all"));
	int err = devdb_ip_flush(a->db, ifindex, all, 1, &e);
	if (err) {
		snprintf(r->err, sizeof(r->err), "%s", e.msg);
		return err;
	}
	return dev_result(a, ifindex, r);
}

static int set_updown(struct agent *a, const cJSON *p, struct rpc_reply *r, int up)
{
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	struct devdb_err e;
	int err = devdb_set_up(a->db, ifindex, up, 1, &e);
	if (err) {
		snprintf(r->err, sizeof(r->err), "%s", e.msg);
		return err;
	}
	return dev_result(a, ifindex, r);
}

static int m_dev_up(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return set_updown(a, p, r, 1);
}

static int m_dev_down(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	return set_updown(a, p, r, 0);
}

static int m_dev_set(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int ifindex;
	if (rpc_int(p, "ifindex", &ifindex, r))
		return -EINVAL;
	struct devdb_err e = { "" };
	int err = 0, mtu;
	const char *s;
	const cJSON *item;
	cJSON_ArrayForEach(item, p) {
		if (strcmp(item->string, "ifindex") == 0)
			continue;
		if (strcmp(item->string, "mtu") == 0) {
			if (rpc_int(p, "mtu", &mtu, r))
				return -EINVAL;
			err = devdb_set_mtu(a->db, ifindex, mtu, 1, &e);
		} else if (strcmp(item->string, "hwaddr") == 0) {
			if (rpc_str(p, "hwaddr", &s, r))
				return -EINVAL;
			err = devdb_set_hwaddr(a->db, ifindex, s, 1, &e);
		} else if (strcmp(item->string, "name") == 0) {
			if (rpc_str(p, "name", &s, r))
				return -EINVAL;
			err = devdb_set_name(a->db, ifindex, s, 1, &e);
		} else {
			snprintf(r->err, sizeof(r->err),
				 "dev.set: unknown attribute '%s' (expected mtu, hwaddr or name)",
				 item->string);
			return -EINVAL;
		}
		if (err) {
			snprintf(r->err, sizeof(r->err), "%s", e.msg);
			return err;
		}
	}
	return dev_result(a, ifindex, r);
}

/* ---- jobs ------------------------------------------------------------------------ */

static int m_job_start(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	if (cJSON_GetObjectItemCaseSensitive(p, "module"))
		return module_job_start(a, p, r);
	return job_start(a->jobs, p, &r->result, r->err, sizeof(r->err));
}

static int m_job_kill(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	int id, sig = SIGKILL;
	if (rpc_int(p, "id", &id, r))
		return -EINVAL;
	if (cJSON_GetObjectItemCaseSensitive(p, "signal") && rpc_int(p, "signal", &sig, r))
		return -EINVAL;
	int err = job_kill(a->jobs, id, sig, r->err, sizeof(r->err));
	if (!err)
		r->result = cJSON_CreateObject();
	return err;
}

/* ---- the table --------------------------------------------------------------------- */

static const struct {
	const char *name;
	rpc_handler fn;
} methods[] = {
	{ "hello", m_hello },
	{ "ping", m_ping },
	{ "run.end", m_run_end },
	{ "bye", m_bye },
	{ "dev.list", m_dev_list },
	{ "dev.map", m_dev_map },
	{ "dev.ip_add", m_dev_ip_add },
	{ "dev.ip_del", m_dev_ip_del },
	{ "dev.ip_flush", m_dev_ip_flush },
	{ "dev.up", m_dev_up },
	{ "dev.down", m_dev_down },
	{ "dev.set", m_dev_set },
	{ "job.start", m_job_start },
	{ "job.kill", m_job_kill },
	{ "module.missing", module_rpc_missing },
	{ "module.put", module_rpc_put },
	{ "netns.add", netns_m_add },
	{ "netns.del", netns_m_del },
	{ "netns.list", netns_m_list },
	{ "dev.set_netns", netns_m_set_netns },
	{ "worker.sync", netns_m_worker_sync },   /* only in a netns worker */
	{ "worker.adopt", netns_m_worker_adopt }, /* only in a netns worker */
	{ "route.add", route_m_add },
	{ "route.del", route_m_del },
	{ "route.list", route_m_list },
	{ "neigh.add", route_m_neigh_add },
	{ "neigh.del", route_m_neigh_del },
	{ "neigh.list", route_m_neigh_list },
	{ "rule.add", route_m_rule_add },
	{ "rule.del", route_m_rule_del },
	{ "rule.list", route_m_rule_list },
	{ "sysctl.get", sysctl_m_get },
	{ "sysctl.set", sysctl_m_set },
	{ "ethtool.get", ethtool_m_get },
	{ "ethtool.set", ethtool_m_set },
	{ "link.create", link_create },
	{ "link.del", link_del },
	{ "link.set_master", link_set_master },
	{ "bridge.vlan_add", link_vlan_add },
	{ "bridge.vlan_del", link_vlan_del },
	{ "bridge.vlan_list", link_vlan_list },
	{ "bridge.fdb_add", link_fdb_add },
	{ "bridge.fdb_del", link_fdb_del },
	{ "bridge.fdb_list", link_fdb_list },
	{ "bridge.port_set", link_port_set },
	{ "bridge.port_get", link_port_get },
	{ "l2tp.tunnel_add", link_l2tp_tunnel_add },
};

void rpc_answer(struct agent *a, int64_t id, int err, cJSON *result, const char *errmsg)
{
	if (err) {
		cJSON_Delete(result);
		conn_send(&a->conn, msg_error(id, msg_errno_name(err), "%s",
					      errmsg && errmsg[0] ? errmsg : strerror(-err)));
	} else {
		conn_send(&a->conn, msg_reply(id, result));
	}
}

void dispatch_request(struct agent *a, const struct msg *m)
{
	static const cJSON empty = { .type = cJSON_Object };
	const cJSON *params = m->params ? m->params : &empty;
	/* Deletions wait to be batched; anything else goes after them. */
	if (m->netns || strcmp(m->method, "link.del") != 0)
		links_flush(a->links);
	/* Requests for a namespace go to its worker (netns.c), except the
	 * few the root handles itself, which see the namespace in req_netns. */
	if (m->netns && netns_route_request(a, m))
		return;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, m->method) != 0)
			continue;
		struct rpc_reply r = { NULL, "" };
		a->req_netns = m->netns;
		a->req_id = m->id;
		int err = methods[i].fn(a, params, &r);
		a->req_netns = NULL;
		if (err == RPC_LATER)
			return;
		if (err)
			log_debug("%s failed: %s", m->method, r.err);
		rpc_answer(a, m->id, err, r.result, r.err);
		return;
	}
	conn_send(&a->conn, msg_error(m->id, "ENOSYS", "unknown method '%s'", m->method));
}
