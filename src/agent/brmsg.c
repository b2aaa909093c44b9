/* brmsg.c - master/slave and bridge messages (brmsg.h). */
#include "brmsg.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static struct nl_msg *link_msg(int type, int flags, int family, int ifindex)
{
	struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
	struct ifinfomsg ifi = { .ifi_family = (uint8_t)family, .ifi_index = ifindex };
	if (m && nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *brmsg_master(int ifindex, int master)
{
	struct nl_msg *m = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, ifindex);
	if (m && nla_put_u32(m, IFLA_MASTER, (uint32_t)master) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *brmsg_vlan(int add, int ifindex, int vid, uint16_t flags, int self)
{
	struct nl_msg *m = link_msg(add ? RTM_SETLINK : RTM_DELLINK, 0, AF_BRIDGE, ifindex);
	struct bridge_vlan_info vi = { .flags = flags, .vid = (uint16_t)vid };
	struct nlattr *spec;
	if (!m || !(spec = nla_nest_start(m, IFLA_AF_SPEC)) ||
	    (self && nla_put_u16(m, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF) < 0) ||
	    nla_put(m, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	nla_nest_end(m, spec);
	return m;
}

struct nl_msg *brmsg_fdb(int add, const struct brmsg_fdb *f)
{
	int flags = !add ? 0 : f->append ? NLM_F_CREATE | NLM_F_APPEND : NLM_F_CREATE | NLM_F_EXCL;
	struct nl_msg *m = nlmsg_alloc_simple(add ? RTM_NEWNEIGH : RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK | flags);
	struct ndmsg nd = {
		.ndm_family = AF_BRIDGE,
		.ndm_ifindex = f->ifindex,
		.ndm_flags = (uint8_t)((f->self ? NTF_SELF : 0) | (f->master ? NTF_MASTER : 0)),
		.ndm_state = f->permanent ? NUD_PERMANENT : f->is_static ? NUD_NOARP : NUD_REACHABLE,
	};
	if (!m || nlmsg_append(m, &nd, sizeof(nd), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, NDA_LLADDR, 6, f->mac) < 0 ||
	    (f->vlan && nla_put_u16(m, NDA_VLAN, (uint16_t)f->vlan) < 0) ||
	    (f->dst_family && nla_put(m, NDA_DST, f->dst_family == AF_INET ? 4 : 16, f->dst) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ---- bridge port flags ---- */

static const struct {
	const char *name;
	uint16_t attr;
	uint8_t width;
	uint32_t min, max;
} port_flags[] = {
	{ "learning", IFLA_BRPORT_LEARNING, 1, 0, 1 },
	{ "flood", IFLA_BRPORT_UNICAST_FLOOD, 1, 0, 1 },
	{ "mcast_flood", IFLA_BRPORT_MCAST_FLOOD, 1, 0, 1 },
	{ "bcast_flood", IFLA_BRPORT_BCAST_FLOOD, 1, 0, 1 },
	{ "hairpin", IFLA_BRPORT_MODE, 1, 0, 1 },
	{ "isolated", IFLA_BRPORT_ISOLATED, 1, 0, 1 },
	{ "proxy_arp", IFLA_BRPORT_PROXYARP, 1, 0, 1 },
	{ "neigh_suppress", IFLA_BRPORT_NEIGH_SUPPRESS, 1, 0, 1 },
	{ "guard", IFLA_BRPORT_GUARD, 1, 0, 1 },
	{ "root_block", IFLA_BRPORT_PROTECT, 1, 0, 1 },
	{ "fastleave", IFLA_BRPORT_FAST_LEAVE, 1, 0, 1 },
	{ "cost", IFLA_BRPORT_COST, 4, 1, 65535 },
	{ "priority", IFLA_BRPORT_PRIORITY, 2, 0, 63 },
	{ "state", IFLA_BRPORT_STATE, 1, 0, 4 },
};
#define NFLAGS (sizeof(port_flags) / sizeof(port_flags[0]))

static const char *const port_states[] = { "disabled", "listening", "learning", "forwarding", "blocking" };

static void flag_names(char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < NFLAGS; i++)
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", i ? ", " : "", port_flags[i].name);
}

int brmsg_port_parse(const cJSON *params, struct brmsg_port *p, char *err, size_t errlen)
{
	const cJSON *it;
	memset(p, 0, sizeof(*p));
	cJSON_ArrayForEach(it, params) {
		size_t i;
		for (i = 0; i < NFLAGS && strcmp(port_flags[i].name, it->string) != 0; i++)
			;
		if (i == NFLAGS) {
			char names[400];
			flag_names(names, sizeof(names));
			snprintf(err, errlen, "unknown bridge port flag '%s' (known: %s)", it->string, names);
			return -EINVAL;
		}
		double v = -1;
		if (cJSON_IsBool(it))
			v = cJSON_IsTrue(it) && port_flags[i].max == 1 ? 1 : cJSON_IsTrue(it) ? -1 : 0;
		else if (cJSON_IsNumber(it) && it->valuedouble == (double)(int64_t)it->valuedouble)
			v = it->valuedouble;
		else if (cJSON_IsString(it) && port_flags[i].attr == IFLA_BRPORT_STATE)
			for (int s = 0; s < 5; s++)
				if (strcmp(port_states[s], it->valuestring) == 0)
					v = s;
		if (v < port_flags[i].min || v > port_flags[i].max) {
			char *shown = cJSON_PrintUnformatted(it);
			if (port_flags[i].attr == IFLA_BRPORT_STATE)
				snprintf(err, errlen, "bridge port flag 'state' must be one of disabled, listening, "
						      "learning, forwarding, blocking, got %s", shown ? shown : "?");
			else if (port_flags[i].max == 1)
				snprintf(err, errlen, "bridge port flag '%s' must be a boolean, got %s", it->string,
					 shown ? shown : "?");
			else
				snprintf(err, errlen, "bridge port flag '%s' must be an integer between %u and %u, got %s",
					 it->string, port_flags[i].min, port_flags[i].max, shown ? shown : "?");
			free(shown);
			return -EINVAL;
		}
		if (p->n == BRMSG_PORT_MAX) {
			snprintf(err, errlen, "too many bridge port flags");
			return -EINVAL;
		}
		p->v[p->n].name = port_flags[i].name;
		p->v[p->n].attr = port_flags[i].attr;
		p->v[p->n].width = port_flags[i].width;
		p->v[p->n].value = (uint32_t)v;
		p->n++;
	}
	if (p->n == 0) {
		snprintf(err, errlen, "no bridge port flag given");
		return -EINVAL;
	}
	return 0;
}

void brmsg_port_all(struct brmsg_port *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < NFLAGS && i < BRMSG_PORT_MAX; i++) {
		p->v[i].name = port_flags[i].name;
		p->v[i].attr = port_flags[i].attr;
		p->v[i].width = port_flags[i].width;
		p->n++;
	}
}

struct nl_msg *brmsg_port(int ifindex, const struct brmsg_port *p)
{
	struct nl_msg *m = link_msg(RTM_NEWLINK, 0, AF_UNSPEC, ifindex);
	struct nlattr *li, *sd;
	if (!m || !(li = nla_nest_start(m, IFLA_LINKINFO)) ||
	    nla_put_string(m, IFLA_INFO_SLAVE_KIND, "bridge") < 0 ||
	    !(sd = nla_nest_start(m, IFLA_INFO_SLAVE_DATA)))
		goto fail;
	for (int i = 0; i < p->n; i++) {
		int r = p->v[i].width == 1 ? nla_put_u8(m, p->v[i].attr, (uint8_t)p->v[i].value)
		      : p->v[i].width == 2 ? nla_put_u16(m, p->v[i].attr, (uint16_t)p->v[i].value)
					   : nla_put_u32(m, p->v[i].attr, p->v[i].value);
		if (r < 0)
			goto fail;
	}
	nla_nest_end(m, sd);
	nla_nest_end(m, li);
	return m;
fail:
	nlmsg_free(m);
	return NULL;
}

int brmsg_port_read(struct nlattr *slave_data, struct brmsg_port *p)
{
	struct nlattr *tb[IFLA_BRPORT_MAX + 1];
	if (!slave_data || nla_parse_nested(tb, IFLA_BRPORT_MAX, slave_data, NULL) < 0)
		return -ENOENT;
	for (int i = 0; i < p->n; i++) {
		struct nlattr *a = tb[p->v[i].attr];
		if (!a || nla_len(a) < p->v[i].width)
			return -ENOENT;
		p->v[i].value = p->v[i].width == 1 ? nla_get_u8(a) : p->v[i].width == 2 ? nla_get_u16(a) : nla_get_u32(a);
	}
	return 0;
}
