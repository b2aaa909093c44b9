/* ethtool.c - ethtool-netlink settings, driver info and statistics (ethtool.h). */
#include "ethtool.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <math.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "nlutil.h"

#define MAX_FEATURES 256

struct ethtool {
	struct nl_sock *sk;
	int family;                    /* 0: the kernel has no ethtool-netlink */
	uint8_t has_op[64];            /* ETHTOOL_MSG_* user commands the kernel knows */
	char *feat[MAX_FEATURES];      /* ETH_SS_FEATURES names by bit */
	int nfeat;
};

/* ---- attribute groups ------------------------------------------------------------- */

enum vtype { U32, BOOL, DUPLEX };

struct eattr {
	const char *name;
	int attr;
	enum vtype type;
	int settable;
};

struct egroup {
	const char *what;
	int get, set, hdr, max;
	const struct eattr *attrs;
};

static const struct eattr coalesce_attrs[] = {
	{ "rx_usecs", ETHTOOL_A_COALESCE_RX_USECS, U32, 1 },
	{ "rx_max_frames", ETHTOOL_A_COALESCE_RX_MAX_FRAMES, U32, 1 },
	{ "rx_usecs_irq", ETHTOOL_A_COALESCE_RX_USECS_IRQ, U32, 1 },
	{ "rx_max_frames_irq", ETHTOOL_A_COALESCE_RX_MAX_FRAMES_IRQ, U32, 1 },
	{ "tx_usecs", ETHTOOL_A_COALESCE_TX_USECS, U32, 1 },
	{ "tx_max_frames", ETHTOOL_A_COALESCE_TX_MAX_FRAMES, U32, 1 },
	{ "tx_usecs_irq", ETHTOOL_A_COALESCE_TX_USECS_IRQ, U32, 1 },
	{ "tx_max_frames_irq", ETHTOOL_A_COALESCE_TX_MAX_FRAMES_IRQ, U32, 1 },
	{ "stats_block_usecs", ETHTOOL_A_COALESCE_STATS_BLOCK_USECS, U32, 1 },
	{ "use_adaptive_rx", ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, BOOL, 1 },
	{ "use_adaptive_tx", ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, BOOL, 1 },
	{ "pkt_rate_low", ETHTOOL_A_COALESCE_PKT_RATE_LOW, U32, 1 },
	{ "rx_usecs_low", ETHTOOL_A_COALESCE_RX_USECS_LOW, U32, 1 },
	{ "rx_max_frames_low", ETHTOOL_A_COALESCE_RX_MAX_FRAMES_LOW, U32, 1 },
	{ "tx_usecs_low", ETHTOOL_A_COALESCE_TX_USECS_LOW, U32, 1 },
	{ "tx_max_frames_low", ETHTOOL_A_COALESCE_TX_MAX_FRAMES_LOW, U32, 1 },
	{ "pkt_rate_high", ETHTOOL_A_COALESCE_PKT_RATE_HIGH, U32, 1 },
	{ "rx_usecs_high", ETHTOOL_A_COALESCE_RX_USECS_HIGH, U32, 1 },
	{ "rx_max_frames_high", ETHTOOL_A_COALESCE_RX_MAX_FRAMES_HIGH, U32, 1 },
	{ "tx_usecs_high", ETHTOOL_A_COALESCE_TX_USECS_HIGH, U32, 1 },
	{ "tx_max_frames_high", ETHTOOL_A_COALESCE_TX_MAX_FRAMES_HIGH, U32, 1 },
	{ "rate_sample_interval", ETHTOOL_A_COALESCE_RATE_SAMPLE_INTERVAL, U32, 1 },
	{ "use_cqe_mode_tx", ETHTOOL_A_COALESCE_USE_CQE_MODE_TX, BOOL, 1 },
	{ "use_cqe_mode_rx", ETHTOOL_A_COALESCE_USE_CQE_MODE_RX, BOOL, 1 },
	{ NULL, 0, U32, 0 },
};

static const struct eattr pause_attrs[] = {
	{ "autoneg", ETHTOOL_A_PAUSE_AUTONEG, BOOL, 1 },
	{ "rx", ETHTOOL_A_PAUSE_RX, BOOL, 1 },
	{ "tx", ETHTOOL_A_PAUSE_TX, BOOL, 1 },
	{ NULL, 0, U32, 0 },
};

static const struct eattr rings_attrs[] = {
	{ "rx_max", ETHTOOL_A_RINGS_RX_MAX, U32, 0 },
	{ "rx_mini_max", ETHTOOL_A_RINGS_RX_MINI_MAX, U32, 0 },
	{ "rx_jumbo_max", ETHTOOL_A_RINGS_RX_JUMBO_MAX, U32, 0 },
	{ "tx_max", ETHTOOL_A_RINGS_TX_MAX, U32, 0 },
	{ "rx", ETHTOOL_A_RINGS_RX, U32, 1 },
	{ "rx_mini", ETHTOOL_A_RINGS_RX_MINI, U32, 1 },
	{ "rx_jumbo", ETHTOOL_A_RINGS_RX_JUMBO, U32, 1 },
	{ "tx", ETHTOOL_A_RINGS_TX, U32, 1 },
	{ "rx_buf_len", ETHTOOL_A_RINGS_RX_BUF_LEN, U32, 1 },
	{ "cqe_size", ETHTOOL_A_RINGS_CQE_SIZE, U32, 1 },
	{ "tx_push", ETHTOOL_A_RINGS_TX_PUSH, BOOL, 1 },
	{ NULL, 0, U32, 0 },
};

static const struct eattr channels_attrs[] = {
	{ "rx_max", ETHTOOL_A_CHANNELS_RX_MAX, U32, 0 },
	{ "tx_max", ETHTOOL_A_CHANNELS_TX_MAX, U32, 0 },
	{ "other_max", ETHTOOL_A_CHANNELS_OTHER_MAX, U32, 0 },
	{ "combined_max", ETHTOOL_A_CHANNELS_COMBINED_MAX, U32, 0 },
	{ "rx", ETHTOOL_A_CHANNELS_RX_COUNT, U32, 1 },
	{ "tx", ETHTOOL_A_CHANNELS_TX_COUNT, U32, 1 },
	{ "other", ETHTOOL_A_CHANNELS_OTHER_COUNT, U32, 1 },
	{ "combined", ETHTOOL_A_CHANNELS_COMBINED_COUNT, U32, 1 },
	{ NULL, 0, U32, 0 },
};

static const struct eattr link_attrs[] = {
	{ "autoneg", ETHTOOL_A_LINKMODES_AUTONEG, BOOL, 1 },
	{ "speed", ETHTOOL_A_LINKMODES_SPEED, U32, 1 },
	{ "duplex", ETHTOOL_A_LINKMODES_DUPLEX, DUPLEX, 1 },
	{ NULL, 0, U32, 0 },
};

static const struct egroup groups[] = {
	{ "coalesce", ETHTOOL_MSG_COALESCE_GET, ETHTOOL_MSG_COALESCE_SET, ETHTOOL_A_COALESCE_HEADER,
	  ETHTOOL_A_COALESCE_MAX, coalesce_attrs },
	{ "pause", ETHTOOL_MSG_PAUSE_GET, ETHTOOL_MSG_PAUSE_SET, ETHTOOL_A_PAUSE_HEADER,
	  ETHTOOL_A_PAUSE_MAX, pause_attrs },
	{ "rings", ETHTOOL_MSG_RINGS_GET, ETHTOOL_MSG_RINGS_SET, ETHTOOL_A_RINGS_HEADER,
	  ETHTOOL_A_RINGS_MAX, rings_attrs },
	{ "channels", ETHTOOL_MSG_CHANNELS_GET, ETHTOOL_MSG_CHANNELS_SET, ETHTOOL_A_CHANNELS_HEADER,
	  ETHTOOL_A_CHANNELS_MAX, channels_attrs },
	{ "link", ETHTOOL_MSG_LINKMODES_GET, ETHTOOL_MSG_LINKMODES_SET, ETHTOOL_A_LINKMODES_HEADER,
	  ETHTOOL_A_LINKMODES_MAX, link_attrs },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const char *const all_whats = "features, coalesce, pause, rings, channels, link, driver, stats";

/* `ethtool -K` short names and the kernel features they stand for. */
static const struct {
	const char *alias, *pattern;
} aliases[] = {
	{ "rx", "rx-checksum" },
	{ "tx", "tx-checksum-*" },
	{ "sg", "tx-scatter-gather*" },
	{ "tso", "tx-tcp*-segmentation" },
	{ "ufo", "tx-udp-fragmentation" },
	{ "gso", "tx-generic-segmentation" },
	{ "gro", "rx-gro" },
	{ "lro", "rx-lro" },
	{ "rxvlan", "rx-vlan-hw-parse" },
	{ "txvlan", "tx-vlan-hw-insert" },
	{ "ntuple", "rx-ntuple-filter" },
	{ "rxhash", "rx-hashing" },
};

const char *ethtool_feature_alias(const char *name)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return aliases[i].pattern;
	return NULL;
}

/* ---- the socket, the family and its operations -------------------------------------- */

void ethtool_free(struct ethtool *e)
{
	if (!e)
		return;
	nlutil_close(e->sk);
	for (int i = 0; i < e->nfeat; i++)
		free(e->feat[i]);
	free(e);
}

static int family_cb(struct nlmsghdr *h, void *ud)
{
	struct ethtool *e = ud;
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	if (genlmsg_parse(h, 0, tb, CTRL_ATTR_MAX, NULL) < 0 || !tb[CTRL_ATTR_FAMILY_ID])
		return 0;
	e->family = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_OPS])
		return 0;
	struct nlattr *op;
	int rem;
	nla_for_each_nested(op, tb[CTRL_ATTR_OPS], rem) {
		struct nlattr *ot[CTRL_ATTR_OP_MAX + 1];
		if (nla_parse_nested(ot, CTRL_ATTR_OP_MAX, op, NULL) == 0 && ot[CTRL_ATTR_OP_ID]) {
			uint32_t id = nla_get_u32(ot[CTRL_ATTR_OP_ID]);
			if (id < sizeof(e->has_op))
				e->has_op[id] = 1;
		}
	}
	return 0;
}

static struct nlattr *nest_start(struct nl_msg *m, int type)
{
	struct nlattr *n = nla_nest_start(m, type);
	if (n)
		n->nla_type |= NLA_F_NESTED;
	return n;
}

static struct nl_msg *emsg(struct ethtool *e, int cmd, int hdr, int ifindex, uint32_t flags)
{
	struct nl_msg *m = nlmsg_alloc();
	if (!m)
		return NULL;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, e->family, 0, 0, (uint8_t)cmd, ETHTOOL_GENL_VERSION))
		goto fail;
	if (!ifindex && !flags) {
		/* An empty header (global string sets): libnl drops empty nests. */
		if (nla_put(m, hdr | NLA_F_NESTED, 0, NULL) < 0)
			goto fail;
		return m;
	}
	struct nlattr *n = nest_start(m, hdr);
	if (!n || (ifindex && nla_put_u32(m, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex) < 0) ||
	    (flags && nla_put_u32(m, ETHTOOL_A_HEADER_FLAGS, flags) < 0))
		goto fail;
	nla_nest_end(m, n);
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}

static int strset_cb(struct nlmsghdr *h, void *ud)
{
	struct ethtool *e = ud;
	struct nlattr *tb[ETHTOOL_A_STRSET_MAX + 1], *ss, *set, *str;
	int r1, r2;
	if (genlmsg_parse(h, 0, tb, ETHTOOL_A_STRSET_MAX, NULL) < 0 || !tb[ETHTOOL_A_STRSET_STRINGSETS])
		return 0;
	nla_for_each_nested(ss, tb[ETHTOOL_A_STRSET_STRINGSETS], r1) {
		struct nlattr *st[ETHTOOL_A_STRINGSET_MAX + 1];
		if (nla_parse_nested(st, ETHTOOL_A_STRINGSET_MAX, ss, NULL) < 0 ||
		    !st[ETHTOOL_A_STRINGSET_STRINGS])
			continue;
		set = st[ETHTOOL_A_STRINGSET_STRINGS];
		nla_for_each_nested(str, set, r2) {
			struct nlattr *s[ETHTOOL_A_STRING_MAX + 1];
			if (nla_parse_nested(s, ETHTOOL_A_STRING_MAX, str, NULL) < 0 ||
			    !s[ETHTOOL_A_STRING_INDEX] || !s[ETHTOOL_A_STRING_VALUE])
				continue;
			uint32_t i = nla_get_u32(s[ETHTOOL_A_STRING_INDEX]);
			/* Unused bits have empty names. */
			if (i >= MAX_FEATURES || e->feat[i] || !nla_get_string(s[ETHTOOL_A_STRING_VALUE])[0])
				continue;
			e->feat[i] = strdup(nla_get_string(s[ETHTOOL_A_STRING_VALUE]));
			if ((int)i >= e->nfeat)
				e->nfeat = (int)i + 1;
		}
	}
	return 0;
}

/* The module of this agent, opened on first use; NULL with r->err set. */
static struct ethtool *eth_get(struct agent *a, char *err, size_t errlen)
{
	if (a->eth)
		return a->eth;
	struct ethtool *e = calloc(1, sizeof(*e));
	if (!e || nlutil_open(&e->sk, NETLINK_GENERIC)) {
		free(e);
		snprintf(err, errlen, "cannot open a generic netlink socket");
		return NULL;
	}
	struct nl_msg *m = nlmsg_alloc();
	if (m && genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0, CTRL_CMD_GETFAMILY, 1) &&
	    nla_put_string(m, CTRL_ATTR_FAMILY_NAME, ETHTOOL_GENL_NAME) == 0)
		nlutil_request(e->sk, m, family_cb, e, NULL, 0);
	else
		nlmsg_free(m);
	if (e->family) {
		/* Feature names are global: one string set for every device. */
		m = emsg(e, ETHTOOL_MSG_STRSET_GET, ETHTOOL_A_STRSET_HEADER, 0, 0);
		struct nlattr *sets = m ? nest_start(m, ETHTOOL_A_STRSET_STRINGSETS) : NULL;
		struct nlattr *set = sets ? nest_start(m, ETHTOOL_A_STRINGSETS_STRINGSET) : NULL;
		if (set && nla_put_u32(m, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES) == 0) {
			nla_nest_end(m, set);
			nla_nest_end(m, sets);
			nlutil_request(e->sk, m, strset_cb, e, NULL, 0);
		} else {
			nlmsg_free(m);
		}
	}
	a->eth = e;
	return e;
}

cJSON *ethtool_capabilities(struct agent *a)
{
	char err[128];
	cJSON *arr = cJSON_CreateArray();
	struct ethtool *e = eth_get(a, err, sizeof(err));
	if (e && e->family && e->has_op[ETHTOOL_MSG_FEATURES_GET] && e->nfeat)
		cJSON_AddItemToArray(arr, cJSON_CreateString("features"));
	for (const struct egroup *g = groups; e && e->family && g->what; g++)
		if (e->has_op[g->get])
			cJSON_AddItemToArray(arr, cJSON_CreateString(g->what));
	cJSON_AddItemToArray(arr, cJSON_CreateString("driver"));
	cJSON_AddItemToArray(arr, cJSON_CreateString("stats"));
	return arr;
}

/* ---- devices ---------------------------------------------------------------------------- */

struct devref {
	int ifindex;
	char name[IFNAMSIZ];
	char driver[64];
	int enabled;
};

static int devref(struct agent *a, int ifindex, struct devref *d, struct rpc_reply *r)
{
	cJSON *j = devdb_get(a->db, ifindex);
	if (!j) {
		snprintf(r->err, sizeof(r->err), "no device with ifindex %d", ifindex);
		return -ENODEV;
	}
	d->ifindex = ifindex;
	snprintf(d->name, sizeof(d->name), "%s", cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring);
	d->enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "enabled"));
	const cJSON *drv = cJSON_GetObjectItemCaseSensitive(j, "driver");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
	snprintf(d->driver, sizeof(d->driver), "%s",
		 cJSON_IsString(drv) && drv->valuestring[0] ? drv->valuestring
		 : cJSON_IsString(kind) && kind->valuestring[0] ? kind->valuestring : "unknown");
	cJSON_Delete(j);
	return 0;
}

static int op_fail(struct rpc_reply *r, const struct devref *d, const char *op, int err, const char *ext)
{
	if (err == -EOPNOTSUPP)
		snprintf(r->err, sizeof(r->err), "ethtool %s on %s: not supported by its driver (%s)%s%s",
			 op, d->name, d->driver, ext && ext[0] ? ": " : "", ext ? ext : "");
	else
		snprintf(r->err, sizeof(r->err), "ethtool %s on %s failed: %s%s%s", op, d->name,
			 strerror(-err), ext && ext[0] ? ": " : "", ext ? ext : "");
	return err;
}

static int need_op(struct ethtool *e, int cmd, const struct devref *d, const char *op, struct rpc_reply *r)
{
	if (e->family && e->has_op[cmd])
		return 0;
	snprintf(r->err, sizeof(r->err), "ethtool %s on %s: this kernel has no ethtool-netlink %s",
		 op, d->name, e->family ? "operation for it" : "interface");
	return -EOPNOTSUPP;
}

/* ---- simple attribute groups --------------------------------------------------------------- */

struct group_read {
	const struct egroup *g;
	cJSON *out;
};

static int group_cb(struct nlmsghdr *h, void *ud)
{
	struct group_read *gr = ud;
	struct nlattr *tb[64];
	int max = gr->g->max < 63 ? gr->g->max : 63;
	if (genlmsg_parse(h, 0, tb, max, NULL) < 0)
		return 0;
	for (const struct eattr *at = gr->g->attrs; at->name; at++) {
		struct nlattr *v = at->attr <= max ? tb[at->attr] : NULL;
		if (!v)
			continue;
		if (at->type == U32 && nla_len(v) >= 4) {
			uint32_t x = nla_get_u32(v);
			if (!(gr->g->get == ETHTOOL_MSG_LINKMODES_GET && x == (uint32_t)SPEED_UNKNOWN))
				cJSON_AddNumberToObject(gr->out, at->name, x);
		} else if (at->type == BOOL && nla_len(v) >= 1) {
			cJSON_AddBoolToObject(gr->out, at->name, nla_get_u8(v) != 0);
		} else if (at->type == DUPLEX && nla_len(v) >= 1) {
			uint8_t x = nla_get_u8(v);
			cJSON_AddStringToObject(gr->out, at->name, x == DUPLEX_FULL ? "full"
							 : x == DUPLEX_HALF ? "half" : "unknown");
		}
	}
	return 0;
}

static int linkinfo_cb(struct nlmsghdr *h, void *ud)
{
	cJSON *out = ud;
	struct nlattr *tb[ETHTOOL_A_LINKINFO_MAX + 1];
	if (genlmsg_parse(h, 0, tb, ETHTOOL_A_LINKINFO_MAX, NULL) < 0)
		return 0;
	static const char *const ports[] = { "tp", "aui", "bnc", "mii", "fibre" };
	if (tb[ETHTOOL_A_LINKINFO_PORT]) {
		uint8_t p = nla_get_u8(tb[ETHTOOL_A_LINKINFO_PORT]);
		cJSON_AddStringToObject(out, "port", p < 5 ? ports[p] : p == PORT_DA ? "da"
						    : p == PORT_NONE ? "none" : "other");
	}
	if (tb[ETHTOOL_A_LINKINFO_TRANSCEIVER])
		cJSON_AddStringToObject(out, "transceiver",
					nla_get_u8(tb[ETHTOOL_A_LINKINFO_TRANSCEIVER]) == XCVR_INTERNAL ? "internal" : "external");
	return 0;
}

static int linkstate_cb(struct nlmsghdr *h, void *ud)
{
	cJSON *out = ud;
	struct nlattr *tb[ETHTOOL_A_LINKSTATE_MAX + 1];
	if (genlmsg_parse(h, 0, tb, ETHTOOL_A_LINKSTATE_MAX, NULL) == 0 && tb[ETHTOOL_A_LINKSTATE_LINK])
		cJSON_AddBoolToObject(out, "link", nla_get_u8(tb[ETHTOOL_A_LINKSTATE_LINK]) != 0);
	return 0;
}

static int group_get(struct ethtool *e, const struct egroup *g, const struct devref *d, cJSON **out,
		     struct rpc_reply *r)
{
	int err = need_op(e, g->get, d, g->what, r);
	if (err)
		return err;
	struct nl_msg *m = emsg(e, g->get, g->hdr, d->ifindex, 0);
	if (!m)
		return -ENOMEM;
	struct group_read gr = { g, cJSON_CreateObject() };
	char ext[256];
	err = nlutil_request(e->sk, m, group_cb, &gr, ext, sizeof(ext));
	if (err) {
		cJSON_Delete(gr.out);
		return op_fail(r, d, g->what, err, ext);
	}
	if (g->get == ETHTOOL_MSG_LINKMODES_GET) {
		/* Read-only extras of `ethtool DEV`: port, transceiver, link. */
		if (e->has_op[ETHTOOL_MSG_LINKINFO_GET] &&
		    (m = emsg(e, ETHTOOL_MSG_LINKINFO_GET, ETHTOOL_A_LINKINFO_HEADER, d->ifindex, 0)))
			nlutil_request(e->sk, m, linkinfo_cb, gr.out, NULL, 0);
		if (e->has_op[ETHTOOL_MSG_LINKSTATE_GET] &&
		    (m = emsg(e, ETHTOOL_MSG_LINKSTATE_GET, ETHTOOL_A_LINKSTATE_HEADER, d->ifindex, 0)))
			nlutil_request(e->sk, m, linkstate_cb, gr.out, NULL, 0);
	}
	*out = gr.out;
	return 0;
}

static const struct eattr *find_attr(const struct egroup *g, const char *name)
{
	for (const struct eattr *at = g->attrs; at->name; at++)
		if (strcmp(at->name, name) == 0)
			return at;
	return NULL;
}

static int bad_key(struct rpc_reply *r, const struct egroup *g, const struct devref *d, const char *key,
		   const char *why)
{
	size_t o = (size_t)snprintf(r->err, sizeof(r->err), "ethtool %s on %s: '%s' %s (settable:",
				    g->what, d->name, key, why);
	for (const struct eattr *at = g->attrs; at->name && o < sizeof(r->err); at++)
		if (at->settable)
			o += (size_t)snprintf(r->err + o, sizeof(r->err) - o, " %s", at->name);
	if (o < sizeof(r->err))
		snprintf(r->err + o, sizeof(r->err) - o, ")");
	return -EINVAL;
}

/* Checks values against the group's attributes before anything is sent. */
static int group_check(const struct egroup *g, const struct devref *d, const cJSON *values,
		       struct rpc_reply *r)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, values) {
		const struct eattr *at = find_attr(g, v->string);
		if (!at)
			return bad_key(r, g, d, v->string, "is not a setting");
		if (!at->settable)
			return bad_key(r, g, d, v->string, "is read-only");
		int ok;
		if (at->type == U32)
			ok = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 4294967295.0 &&
			     floor(v->valuedouble) == v->valuedouble;
		else if (at->type == BOOL)
			ok = cJSON_IsBool(v);
		else
			ok = cJSON_IsString(v) && (!strcmp(v->valuestring, "full") || !strcmp(v->valuestring, "half"));
		if (!ok) {
			snprintf(r->err, sizeof(r->err), "ethtool %s on %s: '%s' must be %s", g->what, d->name,
				 v->string, at->type == U32 ? "an integer from 0 to 4294967295"
					    : at->type == BOOL ? "true or false" : "\"full\" or \"half\"");
			return -EINVAL;
		}
	}
	return 0;
}

static int put_value(struct nl_msg *m, const struct eattr *at, const cJSON *v)
{
	if (at->type == U32)
		return nla_put_u32(m, at->attr, (uint32_t)v->valuedouble);
	if (at->type == BOOL)
		return nla_put_u8(m, at->attr, cJSON_IsTrue(v));
	return nla_put_u8(m, at->attr, strcmp(v->valuestring, "full") == 0 ? DUPLEX_FULL : DUPLEX_HALF);
}

static void record(struct agent *a, int ifindex, const char *what, cJSON *values, const char *desc);

/* Sets what differs from the current values; *old gets the replaced ones. */
static int group_set(struct ethtool *e, const struct egroup *g, const struct devref *d, const cJSON *values,
		     cJSON **old, struct rpc_reply *r)
{
	int err = group_check(g, d, values, r);
	if (err)
		return err;
	if ((err = need_op(e, g->set, d, g->what, r)))
		return err;
	cJSON *cur;
	if ((err = group_get(e, g, d, &cur, r)))
		return err;
	struct nl_msg *m = emsg(e, g->set, g->hdr, d->ifindex, 0);
	if (!m) {
		cJSON_Delete(cur);
		return -ENOMEM;
	}
	*old = cJSON_CreateObject();
	int changes = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, values) {
		const struct eattr *at = find_attr(g, v->string);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(cur, v->string);
		if (c && cJSON_Compare(c, v, 1))
			continue;
		if (!c && !(g->get == ETHTOOL_MSG_LINKMODES_GET)) {
			cJSON_Delete(cur);
			cJSON_Delete(*old);
			nlmsg_free(m);
			snprintf(r->err, sizeof(r->err), "ethtool %s on %s: '%s' is not supported by its driver (%s)",
				 g->what, d->name, v->string, d->driver);
			return -EOPNOTSUPP;
		}
		if (c)
			cJSON_AddItemToObject(*old, v->string, cJSON_Duplicate(c, 1));
		if (put_value(m, at, v) < 0) {
			cJSON_Delete(cur);
			nlmsg_free(m);
			return -ENOMEM;
		}
		changes++;
	}
	cJSON_Delete(cur);
	if (!changes) {
		nlmsg_free(m);
		return 0;
	}
	char ext[256];
	err = nlutil_request(e->sk, m, NULL, NULL, ext, sizeof(ext));
	if (err) {
		cJSON_Delete(*old);
		*old = NULL;
		return op_fail(r, d, g->what, err, ext);
	}
	return 0;
}

/* ---- features -------------------------------------------------------------------------------- */

struct fbits {
	uint32_t hw[MAX_FEATURES / 32], wanted[MAX_FEATURES / 32], active[MAX_FEATURES / 32];
};

static int bit(const uint32_t *b, int i)
{
	return (b[i / 32] >> (i % 32)) & 1;
}

static void read_bitset(struct nlattr *a, uint32_t *out)
{
	struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1];
	if (!a || nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX, a, NULL) < 0 || !tb[ETHTOOL_A_BITSET_VALUE])
		return;
	int n = nla_len(tb[ETHTOOL_A_BITSET_VALUE]);
	if (n > MAX_FEATURES / 8)
		n = MAX_FEATURES / 8;
	memcpy(out, nla_data(tb[ETHTOOL_A_BITSET_VALUE]), (size_t)n);
}

static int features_cb(struct nlmsghdr *h, void *ud)
{
	struct fbits *f = ud;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	if (genlmsg_parse(h, 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0)
		return 0;
	read_bitset(tb[ETHTOOL_A_FEATURES_HW], f->hw);
	read_bitset(tb[ETHTOOL_A_FEATURES_WANTED], f->wanted);
	read_bitset(tb[ETHTOOL_A_FEATURES_ACTIVE], f->active);
	return 0;
}

static int features_read(struct ethtool *e, const struct devref *d, struct fbits *f, struct rpc_reply *r)
{
	int err = need_op(e, ETHTOOL_MSG_FEATURES_GET, d, "features", r);
	if (err)
		return err;
	if (!e->nfeat) {
		snprintf(r->err, sizeof(r->err), "ethtool features on %s: the kernel gave no feature names", d->name);
		return -EOPNOTSUPP;
	}
	struct nl_msg *m = emsg(e, ETHTOOL_MSG_FEATURES_GET, ETHTOOL_A_FEATURES_HEADER, d->ifindex,
				ETHTOOL_FLAG_COMPACT_BITSETS);
	if (!m)
		return -ENOMEM;
	memset(f, 0, sizeof(*f));
	char ext[256];
	err = nlutil_request(e->sk, m, features_cb, f, ext, sizeof(ext));
	return err ? op_fail(r, d, "features", err, ext) : 0;
}

static cJSON *features_json(struct ethtool *e, const struct fbits *f)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *act = cJSON_AddObjectToObject(o, "active");
	cJSON *fixed = cJSON_AddArrayToObject(o, "fixed");
	for (int i = 0; i < e->nfeat; i++) {
		if (!e->feat[i])
			continue;
		cJSON_AddBoolToObject(act, e->feat[i], bit(f->active, i));
		if (!bit(f->hw, i))
			cJSON_AddItemToArray(fixed, cJSON_CreateString(e->feat[i]));
	}
	/* Short names: on when any of their features is active, as ethtool -k. */
	cJSON *al = cJSON_AddObjectToObject(o, "aliases");
	for (size_t k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++) {
		int any = 0, seen = 0;
		for (int i = 0; i < e->nfeat; i++) {
			if (e->feat[i] && fnmatch(aliases[k].pattern, e->feat[i], 0) == 0) {
				seen = 1;
				any |= bit(f->active, i);
			}
		}
		if (seen)
			cJSON_AddBoolToObject(al, aliases[k].alias, any);
	}
	return o;
}

static int feature_index(struct ethtool *e, const char *name)
{
	for (int i = 0; i < e->nfeat; i++)
		if (e->feat[i] && strcmp(e->feat[i], name) == 0)
			return i;
	return -1;
}

/* Sets wanted features: names or short names -> bool. strict = 0 (restore)
 * skips what cannot change. *old gets the replaced wanted values. */
static int features_set(struct ethtool *e, const struct devref *d, const cJSON *values, int strict,
			cJSON **old, struct rpc_reply *r)
{
	struct fbits f;
	int err = features_read(e, d, &f, r);
	if (err)
		return err;
	if ((err = need_op(e, ETHTOOL_MSG_FEATURES_SET, d, "features", r)))
		return err;
	int want[MAX_FEATURES]; /* -1 untouched, 0/1 requested */
	for (int i = 0; i < MAX_FEATURES; i++)
		want[i] = -1;
	const cJSON *v;
	cJSON_ArrayForEach(v, values) {
		if (!cJSON_IsBool(v)) {
			snprintf(r->err, sizeof(r->err), "ethtool features on %s: '%s' must be true or false",
				 d->name, v->string);
			return -EINVAL;
		}
		int on = cJSON_IsTrue(v);
		const char *pat = ethtool_feature_alias(v->string);
		int idx = pat ? -1 : feature_index(e, v->string);
		if (!pat && idx < 0) {
			snprintf(r->err, sizeof(r->err),
				 "ethtool features on %s: unknown feature '%s' (kernel names as in `ethtool -k`, e.g. rx-gro, "
				 "or gro, tso, gso, lro, sg, rx, tx, rxvlan, txvlan, ntuple, rxhash, ufo)",
				 d->name, v->string);
			return -EINVAL;
		}
		int changeable = 0, differs = 0;
		for (int i = 0; i < e->nfeat; i++) {
			if (!e->feat[i] || (pat ? fnmatch(pat, e->feat[i], 0) != 0 : i != idx))
				continue;
			if (bit(f.hw, i)) {
				changeable++;
				want[i] = on;
			} else if (bit(f.active, i) != on) {
				differs++;
			}
		}
		if (strict && !changeable && differs) {
			snprintf(r->err, sizeof(r->err),
				 "ethtool features on %s: '%s' is fixed (%s) and cannot be changed on driver %s",
				 d->name, v->string, on ? "off" : "on", d->driver);
			return -EOPNOTSUPP;
		}
	}
	struct nl_msg *m = emsg(e, ETHTOOL_MSG_FEATURES_SET, ETHTOOL_A_FEATURES_HEADER, d->ifindex, 0);
	struct nlattr *ws = m ? nest_start(m, ETHTOOL_A_FEATURES_WANTED) : NULL;
	struct nlattr *bits = ws ? nest_start(m, ETHTOOL_A_BITSET_BITS) : NULL;
	if (!bits) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	*old = cJSON_CreateObject();
	int changes = 0;
	for (int i = 0; i < e->nfeat; i++) {
		if (want[i] < 0 || bit(f.wanted, i) == want[i])
			continue;
		struct nlattr *b = nest_start(m, ETHTOOL_A_BITSET_BITS_BIT);
		if (!b || nla_put_string(m, ETHTOOL_A_BITSET_BIT_NAME, e->feat[i]) < 0 ||
		    (want[i] && nla_put_flag(m, ETHTOOL_A_BITSET_BIT_VALUE) < 0)) {
			nlmsg_free(m);
			return -ENOMEM;
		}
		nla_nest_end(m, b);
		cJSON_AddBoolToObject(*old, e->feat[i], bit(f.wanted, i));
		changes++;
	}
	nla_nest_end(m, bits);
	nla_nest_end(m, ws);
	if (!changes) {
		nlmsg_free(m);
		return 0;
	}
	char ext[256];
	err = nlutil_request(e->sk, m, NULL, NULL, ext, sizeof(ext));
	if (err) {
		cJSON_Delete(*old);
		*old = NULL;
		return op_fail(r, d, "features", err, ext);
	}
	if (!strict)
		return 0;
	/* A wanted feature can stay off when something it depends on is off. */
	struct fbits now;
	if (features_read(e, d, &now, r))
		return 0;
	for (int i = 0; i < e->nfeat; i++) {
		if (want[i] >= 0 && bit(now.active, i) != want[i]) {
			snprintf(r->err, sizeof(r->err),
				 "ethtool features on %s: %s stayed %s (requested %s; the driver or a feature it "
				 "depends on keeps it)", d->name, e->feat[i], want[i] ? "off" : "on", want[i] ? "on" : "off");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* ---- ioctl: driver info and statistics -------------------------------------------------------- */

static int eioctl_on(int fd, const char *ifname, void *data)
{
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

static int eioctl(const char *ifname, void *data)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int err = eioctl_on(fd, ifname, data);
	close(fd);
	return err;
}

void ethtool_driver(int fd, const char *ifname, char *out, size_t n)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	out[0] = 0;
	if (eioctl_on(fd, ifname, &di) == 0)
		snprintf(out, n, "%.*s", (int)sizeof(di.driver), di.driver);
}

static int driver_get(const struct devref *d, cJSON **out, struct rpc_reply *r)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int err = eioctl(d->name, &di);
	if (err)
		return op_fail(r, d, "driver", err, NULL);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "driver", di.driver);
	cJSON_AddStringToObject(o, "version", di.version);
	cJSON_AddStringToObject(o, "firmware", di.fw_version);
	cJSON_AddStringToObject(o, "bus", di.bus_info);
	*out = o;
	return 0;
}

static int stats_get(const struct devref *d, cJSON **out, struct rpc_reply *r)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t count;
	} ss = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	int err = eioctl(d->name, &ss);
	if (err)
		return op_fail(r, d, "stats", err, NULL);
	uint32_t n = (ss.hdr.sset_mask & (1ULL << ETH_SS_STATS)) ? ss.count : 0;
	if (n > 65536)
		n = 65536;
	struct ethtool_gstrings *gs = calloc(1, sizeof(*gs) + (size_t)n * ETH_GSTRING_LEN);
	struct ethtool_stats *st = calloc(1, sizeof(*st) + (size_t)n * sizeof(uint64_t));
	if (!gs || !st) {
		free(gs);
		free(st);
		return -ENOMEM;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	if (n && ((err = eioctl(d->name, gs)) || (err = eioctl(d->name, st)))) {
		free(gs);
		free(st);
		return op_fail(r, d, "stats", err, NULL);
	}
	cJSON *o = cJSON_CreateObject();
	for (uint32_t i = 0; i < n && i < gs->len && i < st->n_stats; i++) {
		char name[ETH_GSTRING_LEN + 1];
		snprintf(name, sizeof(name), "%.*s", ETH_GSTRING_LEN, (char *)gs->data + i * ETH_GSTRING_LEN);
		if (name[0] && !cJSON_GetObjectItemCaseSensitive(o, name))
			cJSON_AddNumberToObject(o, name, (double)st->data[i]);
	}
	free(gs);
	free(st);
	*out = o;
	return 0;
}

/* ---- requests ------------------------------------------------------------------------------------ */

static const struct egroup *group_of(const char *what)
{
	for (const struct egroup *g = groups; g->what; g++)
		if (strcmp(g->what, what) == 0)
			return g;
	return NULL;
}

static int what_param(const cJSON *p, const char **what, struct rpc_reply *r)
{
	if (rpc_str(p, "what", what, r))
		return -EINVAL;
	if (!group_of(*what) && strcmp(*what, "features") && strcmp(*what, "driver") && strcmp(*what, "stats")) {
		snprintf(r->err, sizeof(r->err), "parameter 'what' must be one of %s", all_whats);
		return -EINVAL;
	}
	return 0;
}

static int get_any(struct ethtool *e, const struct devref *d, const char *what, cJSON **out,
		   struct rpc_reply *r)
{
	if (strcmp(what, "driver") == 0)
		return driver_get(d, out, r);
	if (strcmp(what, "stats") == 0)
		return stats_get(d, out, r);
	if (strcmp(what, "features") == 0) {
		struct fbits f;
		int err = features_read(e, d, &f, r);
		if (!err)
			*out = features_json(e, &f);
		return err;
	}
	return group_get(e, group_of(what), d, out, r);
}

int ethtool_m_get(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "what", NULL };
	int ifindex;
	const char *what;
	struct devref d;
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r) || what_param(p, &what, r))
		return -EINVAL;
	int err = devref(a, ifindex, &d, r);
	if (err)
		return err;
	struct ethtool *e = eth_get(a, r->err, sizeof(r->err));
	if (!e)
		return -EIO;
	return get_any(e, &d, what, &r->result, r);
}

struct eth_undo {
	struct agent *a;
	int ifindex;
	char what[16];
	cJSON *values;
};

/* Sets values (record = 1: also pushes their restore); 0 or -errno. */
static int set_any(struct agent *a, struct ethtool *e, const struct devref *d, const char *what,
		   const cJSON *values, int strict, int rec, struct rpc_reply *r)
{
	cJSON *old = NULL;
	int err;
	if (strcmp(what, "features") == 0)
		err = features_set(e, d, values, strict, &old, r);
	else
		err = group_set(e, group_of(what), d, values, &old, r);
	if (rec && old && old->child) {
		char *s = cJSON_PrintUnformatted(values);
		char desc[96];
		snprintf(desc, sizeof(desc), "ethtool %s %s on %s", what, s ? s : "", d->name);
		cJSON_free(s);
		record(a, d->ifindex, what, old, desc);
		old = NULL;
	}
	cJSON_Delete(old);
	return err;
}

static int undo_ethtool(void *ctx, const struct undo_step *s)
{
	struct eth_undo *u = ctx;
	struct rpc_reply r = { NULL, "" };
	struct devref d;
	int err = devref(u->a, u->ifindex, &d, &r);
	if (!err) {
		struct ethtool *e = eth_get(u->a, r.err, sizeof(r.err));
		err = e ? set_any(u->a, e, &d, u->what, u->values, 0, 0, &r) : -EIO;
		if (err)
			log_warn("undo of '%s': %s", s->what, r.err[0] ? r.err : strerror(-err));
	}
	cJSON_Delete(u->values);
	free(u);
	return err;
}

/* Pushes the restore of `values` (consumed) for a device's `what`. */
static void record(struct agent *a, int ifindex, const char *what, cJSON *values, const char *desc)
{
	struct eth_undo *u = calloc(1, sizeof(*u));
	if (!u) {
		cJSON_Delete(values);
		return;
	}
	u->a = a;
	u->ifindex = ifindex;
	snprintf(u->what, sizeof(u->what), "%s", what);
	u->values = values;
	struct undo_step s = { .fn = undo_ethtool, .ctx = u, .ifindex = ifindex };
	snprintf(s.what, sizeof(s.what), "%s", desc);
	if (undo_push(&a->undo, &s)) {
		cJSON_Delete(values);
		free(u);
	}
}

int ethtool_m_set(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "ifindex", "what", "values", NULL };
	int ifindex;
	const char *what;
	struct devref d;
	if (rpc_only(p, known, r) || rpc_int(p, "ifindex", &ifindex, r) || what_param(p, &what, r))
		return -EINVAL;
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(p, "values");
	if (!cJSON_IsObject(values)) {
		snprintf(r->err, sizeof(r->err), "parameter 'values' must be an object of settings");
		return -EINVAL;
	}
	int err = devref(a, ifindex, &d, r);
	if (err)
		return err;
	if (!d.enabled) {
		snprintf(r->err, sizeof(r->err),
			 "device %s is disabled: it existed before the run and is not mapped to a recipe NIC", d.name);
		return -ENODEV;
	}
	if (!strcmp(what, "driver") || !strcmp(what, "stats")) {
		snprintf(r->err, sizeof(r->err), "ethtool %s on %s: read-only", what, d.name);
		return -EINVAL;
	}
	struct ethtool *e = eth_get(a, r->err, sizeof(r->err));
	if (!e)
		return -EIO;
	err = set_any(a, e, &d, what, values, 1, 1, r);
	if (err)
		return err;
	return get_any(e, &d, what, &r->result, r);
}

void ethtool_snapshot(struct agent *a, int ifindex)
{
	struct rpc_reply r = { NULL, "" };
	struct devref d;
	char desc[96];
	if (devref(a, ifindex, &d, &r))
		return;
	struct ethtool *e = eth_get(a, r.err, sizeof(r.err));
	if (!e || !e->family)
		return;
	struct fbits f;
	if (e->has_op[ETHTOOL_MSG_FEATURES_SET] && e->nfeat && features_read(e, &d, &f, &r) == 0) {
		cJSON *v = cJSON_CreateObject();
		for (int i = 0; i < e->nfeat; i++)
			if (e->feat[i] && bit(f.hw, i))
				cJSON_AddBoolToObject(v, e->feat[i], bit(f.wanted, i));
		snprintf(desc, sizeof(desc), "restore features of %s", d.name);
		record(a, ifindex, "features", v, desc);
	}
	for (const struct egroup *g = groups; g->what; g++) {
		cJSON *cur;
		if (g->get == ETHTOOL_MSG_LINKMODES_GET || !e->has_op[g->set] || group_get(e, g, &d, &cur, &r))
			continue;
		/* Keep only what can be set back. */
		for (cJSON *it = cur->child; it;) {
			cJSON *next = it->next;
			const struct eattr *at = find_attr(g, it->string);
			if (!at || !at->settable)
				cJSON_Delete(cJSON_DetachItemViaPointer(cur, it));
			it = next;
		}
		snprintf(desc, sizeof(desc), "restore %s of %s", g->what, d.name);
		record(a, ifindex, g->what, cur, desc);
	}
}
