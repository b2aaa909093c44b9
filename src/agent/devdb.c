/* devdb.c - rtnetlink device database and device operations (devdb.h). */
#include "devdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ethtool.h"
#include "log.h"
#include "undo.h"

struct ipaddr {
	int family;
	uint8_t addr[16];
	int prefixlen;
	int scope;
	uint32_t flags;
};

/* What a device's JSON shows, stats aside, normalized as dev_json shows
 * it (zero-filled, so memcmp compares it): dev_emit compares this with the
 * last one sent instead of printing the JSON twice per notification. */
struct view {
	char name[IFNAMSIZ];
	char kind[32];
	char driver[32];
	unsigned flags; /* the bits dev_json names */
	int mtu;
	uint8_t mac[32];
	int maclen;
	int master;
	int link;
	const char *operstate;
	int enabled;
	int nips;
};

struct dev {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];
	char driver[32]; /* from ethtool, read once when the device appears */
	unsigned flags;
	int mtu;
	uint8_t mac[32];
	int maclen;
	int master;
	int link;
	int operstate;
	int enabled;
	int seen;
	struct rtnl_link_stats64 stats;
	struct ipaddr *ips;
	int nips, capips;
	struct view *last; /* what the last event showed, for change detection */
	struct ipaddr *last_ips;
	struct dev *next;
	struct dev **pprev; /* the pointer to this one in the list */
	struct dev *hnext;  /* in its bucket of devdb.hash */
};

/* The notification socket's receive buffer, the largest notification and
 * how many notifications one system call reads. */
#define EV_RCVBUF (8 << 20)
#define EV_MSGBUF 65536
#define EV_BATCH 16

/* Drivers by link kind: a kind is one driver's rtnl_link_ops, so the
 * driver ethtool names is the same for every device of that kind. */
#define DRIVER_CACHE 32

/* Devices by ifindex: thousands of them must not make every notification
 * a walk of the whole list. */
#define DEVDB_HASH 1024

struct devdb {
	struct loop *loop;
	struct nl_sock *ev; /* notifications */
	struct nl_sock *sk; /* requests and dumps */
	char *evbuf;        /* EV_BATCH buffers of EV_MSGBUF bytes */
	struct {
		char kind[32], driver[32];
	} drivers[DRIVER_CACHE];
	int ndrivers;
	devdb_event_cb cb;
	void *ud;
	struct dev *devs;
	struct dev *hash[DEVDB_HASH];
	char expect[2][IFNAMSIZ]; /* devices being created: enabled when they appear */
	struct undo *undo;
	int quiet; /* no events during dumps */
};

/* ---- lookup and JSON ---------------------------------------------------- */

static struct dev *dev_by_index(struct devdb *db, int ifindex)
{
	for (struct dev *d = db->hash[(unsigned)ifindex % DEVDB_HASH]; d; d = d->hnext)
		if (d->ifindex == ifindex)
			return d;
	return NULL;
}

static void dev_link(struct devdb *db, struct dev *d)
{
	d->next = db->devs;
	if (d->next)
		d->next->pprev = &d->next;
	d->pprev = &db->devs;
	db->devs = d;
	struct dev **b = &db->hash[(unsigned)d->ifindex % DEVDB_HASH];
	d->hnext = *b;
	*b = d;
}

static void dev_unlink(struct devdb *db, struct dev *d)
{
	*d->pprev = d->next;
	if (d->next)
		d->next->pprev = d->pprev;
	struct dev **b = &db->hash[(unsigned)d->ifindex % DEVDB_HASH];
	while (*b != d)
		b = &(*b)->hnext;
	*b = d->hnext;
}

static void mac_str(const uint8_t *mac, int len, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < len && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02x" : "%02x", mac[i]);
}

static const char *scope_name(int scope)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	default: return "nowhere";
	}
}

static const char *operstate_name(int s)
{
	static const char *n[] = { "unknown", "notpresent", "down", "lowerlayerdown",
				   "testing", "dormant", "up" };
	return s >= 0 && s <= 6 ? n[s] : "unknown";
}

static void add_flag_names(cJSON *arr, unsigned flags, const unsigned *bits, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (flags & bits[i])
			cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
}

static cJSON *ip_json(const struct ipaddr *ip)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(ip->family, ip->addr, buf, sizeof(buf));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "addr", buf);
	cJSON_AddNumberToObject(o, "prefixlen", ip->prefixlen);
	cJSON_AddStringToObject(o, "family", ip->family == AF_INET ? "ipv4" : "ipv6");
	cJSON_AddStringToObject(o, "scope", scope_name(ip->scope));
	static const unsigned bits[] = { IFA_F_TENTATIVE, IFA_F_DADFAILED, IFA_F_DEPRECATED,
					 IFA_F_PERMANENT, IFA_F_NODAD, IFA_F_SECONDARY };
	static const char *const names[] = { "tentative", "dadfailed", "deprecated",
					     "permanent", "nodad", "secondary" };
	add_flag_names(cJSON_AddArrayToObject(o, "flags"), ip->flags, bits, names, 6);
	return o;
}

static cJSON *dev_json(const struct dev *d, int with_stats)
{
	char mac[100];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "ifindex", d->ifindex);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "kind", d->kind);
	cJSON_AddStringToObject(o, "driver", d->driver);
	mac_str(d->mac, d->maclen, mac, sizeof(mac));
	cJSON_AddStringToObject(o, "hwaddr", mac);
	cJSON_AddNumberToObject(o, "mtu", d->mtu);
	static const unsigned bits[] = { IFF_UP, IFF_BROADCAST, IFF_LOOPBACK, IFF_POINTOPOINT,
					 IFF_RUNNING, IFF_NOARP, IFF_PROMISC, IFF_ALLMULTI,
					 IFF_MULTICAST, IFF_LOWER_UP, IFF_DORMANT };
	static const char *const names[] = { "up", "broadcast", "loopback", "pointopoint",
					     "running", "noarp", "promisc", "allmulti",
					     "multicast", "lower_up", "dormant" };
	add_flag_names(cJSON_AddArrayToObject(o, "flags"), d->flags, bits, names, 11);
	cJSON_AddBoolToObject(o, "up", (d->flags & IFF_UP) != 0);
	cJSON_AddBoolToObject(o, "carrier", (d->flags & IFF_LOWER_UP) != 0);
	cJSON_AddStringToObject(o, "operstate", operstate_name(d->operstate));
	cJSON_AddNumberToObject(o, "master", d->master);
	cJSON_AddNumberToObject(o, "link", d->link);
	cJSON_AddBoolToObject(o, "enabled", d->enabled);
	cJSON *ips = cJSON_AddArrayToObject(o, "ips");
	for (int i = 0; i < d->nips; i++)
		cJSON_AddItemToArray(ips, ip_json(&d->ips[i]));
	if (with_stats) {
		cJSON *s = cJSON_AddObjectToObject(o, "stats");
		cJSON_AddNumberToObject(s, "rx_packets", (double)d->stats.rx_packets);
		cJSON_AddNumberToObject(s, "tx_packets", (double)d->stats.tx_packets);
		cJSON_AddNumberToObject(s, "rx_bytes", (double)d->stats.rx_bytes);
		cJSON_AddNumberToObject(s, "tx_bytes", (double)d->stats.tx_bytes);
		cJSON_AddNumberToObject(s, "rx_errors", (double)d->stats.rx_errors);
		cJSON_AddNumberToObject(s, "tx_errors", (double)d->stats.tx_errors);
		cJSON_AddNumberToObject(s, "rx_dropped", (double)d->stats.rx_dropped);
		cJSON_AddNumberToObject(s, "tx_dropped", (double)d->stats.tx_dropped);
	}
	return o;
}

#define VIEW_FLAGS                                                                                           \
	(IFF_UP | IFF_BROADCAST | IFF_LOOPBACK | IFF_POINTOPOINT | IFF_RUNNING | IFF_NOARP | IFF_PROMISC |  \
	 IFF_ALLMULTI | IFF_MULTICAST | IFF_LOWER_UP | IFF_DORMANT)
#define VIEW_IP_FLAGS                                                                                        \
	(IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED | IFA_F_PERMANENT | IFA_F_NODAD | IFA_F_SECONDARY)

static void view_fill(const struct dev *d, struct view *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->name, d->name, strnlen(d->name, sizeof(v->name) - 1));
	memcpy(v->kind, d->kind, strnlen(d->kind, sizeof(v->kind) - 1));
	memcpy(v->driver, d->driver, strnlen(d->driver, sizeof(v->driver) - 1));
	v->flags = d->flags & VIEW_FLAGS;
	v->mtu = d->mtu;
	memcpy(v->mac, d->mac, (size_t)d->maclen);
	v->maclen = d->maclen;
	v->master = d->master;
	v->link = d->link;
	v->operstate = operstate_name(d->operstate);
	v->enabled = d->enabled;
	v->nips = d->nips;
}

/* An address as ip_json shows it (a zero-filled copy). */
static struct ipaddr ip_view(const struct ipaddr *ip)
{
	struct ipaddr v;
	memset(&v, 0, sizeof(v));
	v.family = ip->family;
	memcpy(v.addr, ip->addr, ip->family == AF_INET ? 4 : 16);
	v.prefixlen = ip->prefixlen;
	v.scope = ip->scope == RT_SCOPE_UNIVERSE || ip->scope == RT_SCOPE_SITE || ip->scope == RT_SCOPE_LINK ||
				  ip->scope == RT_SCOPE_HOST
			  ? ip->scope
			  : RT_SCOPE_NOWHERE;
	v.flags = ip->flags & VIEW_IP_FLAGS;
	return v;
}

/* Records what d shows now; 1 when that differs from the last record. */
static int view_update(struct dev *d)
{
	struct view v;
	view_fill(d, &v);
	int same = d->last && !memcmp(d->last, &v, sizeof(v));
	for (int i = 0; same && i < d->nips; i++) {
		struct ipaddr ip = ip_view(&d->ips[i]);
		same = !memcmp(&d->last_ips[i], &ip, sizeof(ip));
	}
	if (same)
		return 0;
	struct view *nv = d->last ? d->last : malloc(sizeof(*nv));
	struct ipaddr *ni = d->nips ? realloc(d->last_ips, sizeof(*ni) * (size_t)d->nips) : d->last_ips;
	if (!nv || (d->nips && !ni)) {
		/* no record: the next notification reports the device again */
		if (nv != d->last)
			free(nv);
		free(d->last);
		d->last = NULL;
		return 1;
	}
	*nv = v;
	d->last = nv;
	d->last_ips = ni;
	for (int i = 0; i < d->nips; i++)
		ni[i] = ip_view(&d->ips[i]);
	return 1;
}

/* Emits dev.created for a new device, dev.changed when its description
 * (stats aside) differs from the last one sent. */
static void dev_emit(struct devdb *db, struct dev *d, int is_new)
{
	if (db->quiet || !db->cb)
		return; /* a dump: resync reports what it changed afterwards */
	int changed = view_update(d);
	if (!changed && !is_new)
		return;
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObject(ev, "dev", dev_json(d, 1));
	db->cb(is_new ? "dev.created" : "dev.changed", ev, db->ud);
}

static void dev_free(struct dev *d)
{
	free(d->ips);
	free(d->last);
	free(d->last_ips);
	free(d);
}

/* ---- notification parsing ---------------------------------------------- */

/* Fills d->driver: from the cache when another device of its kind was
 * asked before, otherwise from ethtool. */
static void driver_find(struct devdb *db, struct dev *d)
{
	for (int i = 0; d->kind[0] && i < db->ndrivers; i++)
		if (!strcmp(db->drivers[i].kind, d->kind)) {
			memcpy(d->driver, db->drivers[i].driver, sizeof(d->driver));
			return;
		}
	ethtool_driver(nl_socket_get_fd(db->sk), d->name, d->driver, sizeof(d->driver));
	if (d->kind[0] && d->driver[0] && db->ndrivers < DRIVER_CACHE) {
		memcpy(db->drivers[db->ndrivers].kind, d->kind, sizeof(d->kind));
		memcpy(db->drivers[db->ndrivers].driver, d->driver, sizeof(d->driver));
		db->ndrivers++;
	}
}

static void handle_link(struct devdb *db, struct nlmsghdr *h)
{
	struct ifinfomsg *ifi = nlmsg_data(h);
	if (ifi->ifi_family == AF_BRIDGE)
		return; /* bridge port notifications duplicate the link ones */
	struct nlattr *tb[IFLA_MAX + 1];
	if (nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return;
	struct dev *d = dev_by_index(db, ifi->ifi_index);
	if (h->nlmsg_type == RTM_DELLINK) {
		if (!d)
			return;
		dev_unlink(db, d);
		if (!db->quiet && db->cb) {
			cJSON *ev = cJSON_CreateObject();
			cJSON_AddNumberToObject(ev, "ifindex", d->ifindex);
			cJSON_AddStringToObject(ev, "name", d->name);
			/* Moved to another namespace rather than deleted: the agent
			 * turns the kernel's id of the namespace into its name. */
			if (tb[IFLA_NEW_NETNSID]) {
				cJSON_AddNumberToObject(ev, "new_netnsid", (int32_t)nla_get_u32(tb[IFLA_NEW_NETNSID]));
				if (tb[IFLA_NEW_IFINDEX])
					cJSON_AddNumberToObject(ev, "new_ifindex", (int32_t)nla_get_u32(tb[IFLA_NEW_IFINDEX]));
			}
			db->cb(tb[IFLA_NEW_NETNSID] ? "dev.netns_changed" : "dev.deleted", ev, db->ud);
		}
		dev_free(d);
		return;
	}
	int is_new = !d;
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return;
		d->ifindex = ifi->ifi_index;
		dev_link(db, d);
		/* Loopback is always usable; others wait for map or creation. */
		d->enabled = ifi->ifi_type == ARPHRD_LOOPBACK;
	}
	d->seen = 1;
	d->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(d->name, sizeof(d->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (is_new && d->name[0] && (!strcmp(d->name, db->expect[0]) || !strcmp(d->name, db->expect[1])))
		d->enabled = 1; /* created by the agent: enabled from its first event on */
	if (tb[IFLA_MTU])
		d->mtu = (int)nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS]) {
		int n = nla_len(tb[IFLA_ADDRESS]);
		d->maclen = n > (int)sizeof(d->mac) ? (int)sizeof(d->mac) : n;
		memcpy(d->mac, nla_data(tb[IFLA_ADDRESS]), (size_t)d->maclen);
	}
	d->master = tb[IFLA_MASTER] ? (int)nla_get_u32(tb[IFLA_MASTER]) : 0;
	d->link = tb[IFLA_LINK] ? (int)nla_get_u32(tb[IFLA_LINK]) : 0;
	if (tb[IFLA_OPERSTATE])
		d->operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_STATS64] && nla_len(tb[IFLA_STATS64]) >= (int)sizeof(d->stats))
		memcpy(&d->stats, nla_data(tb[IFLA_STATS64]), sizeof(d->stats));
	d->kind[0] = 0;
	if (tb[IFLA_LINKINFO]) {
		struct nlattr *li[IFLA_INFO_MAX + 1];
		if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 &&
		    li[IFLA_INFO_KIND])
			snprintf(d->kind, sizeof(d->kind), "%s", nla_get_string(li[IFLA_INFO_KIND]));
	}
	if (!d->kind[0] && ifi->ifi_type == ARPHRD_LOOPBACK)
		snprintf(d->kind, sizeof(d->kind), "loopback");
	if (is_new)
		driver_find(db, d);
	dev_emit(db, d, is_new);
}

static void handle_addr(struct devdb *db, struct nlmsghdr *h)
{
	struct ifaddrmsg *ifa = nlmsg_data(h);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	struct nlattr *tb[IFA_MAX + 1];
	if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return;
	struct dev *d = dev_by_index(db, (int)ifa->ifa_index);
	if (!d)
		return;
	struct nlattr *a = ifa->ifa_family == AF_INET && tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	int alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!a || nla_len(a) < alen)
		return;
	struct ipaddr ip = { .family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen,
			     .scope = ifa->ifa_scope, .flags = ifa->ifa_flags };
	memcpy(ip.addr, nla_data(a), (size_t)alen);
	if (tb[IFA_FLAGS])
		ip.flags = nla_get_u32(tb[IFA_FLAGS]);
	int i;
	for (i = 0; i < d->nips; i++)
		if (d->ips[i].family == ip.family && d->ips[i].prefixlen == ip.prefixlen &&
		    !memcmp(d->ips[i].addr, ip.addr, (size_t)alen))
			break;
	if (h->nlmsg_type == RTM_DELADDR) {
		if (i == d->nips)
			return;
		memmove(&d->ips[i], &d->ips[i + 1], sizeof(ip) * (size_t)(d->nips - i - 1));
		d->nips--;
	} else if (i < d->nips) {
		d->ips[i] = ip;
	} else {
		if (d->nips == d->capips) {
			int cap = d->capips ? d->capips * 2 : 4;
			struct ipaddr *n = realloc(d->ips, sizeof(*n) * (size_t)cap);
			if (!n)
				return;
			d->ips = n;
			d->capips = cap;
		}
		d->ips[d->nips++] = ip;
	}
	dev_emit(db, d, 0);
}

static void handle_msg(struct devdb *db, struct nlmsghdr *h)
{
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		handle_link(db, h);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		handle_addr(db, h);
		break;
	}
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	handle_msg(arg, nlmsg_hdr(msg));
	return NL_OK;
}

/* ---- requests, dumps and resync ------------------------------------------ */

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(int *)arg = 0;
	return NL_STOP;
}

static int on_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error ? e->error : 0;
	return NL_STOP;
}

/* Sends a request, waits for its ACK and processes the notifications it
 * caused. Frees msg. Returns 0 or -errno from the kernel. */
static int request(struct devdb *db, struct nl_msg *msg)
{
	int res = 1;
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_err, &res);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &res);
	int err = nl_send_auto(db->sk, msg);
	nlmsg_free(msg);
	while (err >= 0 && res == 1)
		err = nl_recvmsgs(db->sk, cb);
	nl_cb_put(cb);
	if (res == 1)
		res = -EIO;
	devdb_sync(db);
	return res;
}

/* A dump the kernel marks interrupted (links changed meanwhile, as when
 * the controller wires a new host's NICs while its agent starts) is read
 * again: the handlers only add and update, so a repeat is harmless. */
static int dump(struct devdb *db, int type)
{
	int err = -NLE_DUMP_INTR;
	for (int tries = 0; err == -NLE_DUMP_INTR && tries < 10; tries++) {
		struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
		if (nl_send_simple(db->sk, type, NLM_F_DUMP, &g, sizeof(g)) < 0)
			return -EIO;
		struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
		if (!cb)
			return -ENOMEM;
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, db);
		err = nl_recvmsgs(db->sk, cb);
		nl_cb_put(cb);
	}
	return err < 0 ? -EIO : 0;
}

/* Re-reads everything after lost notifications and reports the difference. */
static void resync(struct devdb *db)
{
	log_warn("netlink notifications were lost; re-reading all devices");
	for (struct dev *d = db->devs; d; d = d->next) {
		d->seen = 0;
		d->nips = 0;
	}
	int q = db->quiet;
	db->quiet = 1;
	dump(db, RTM_GETLINK);
	db->quiet = 0;
	/* Links: drop the ones that vanished, then addresses re-announce. */
	for (struct dev *d = db->devs, *next; d; d = next) {
		next = d->next;
		if (d->seen)
			continue;
		dev_unlink(db, d);
		if (db->cb) {
			cJSON *ev = cJSON_CreateObject();
			cJSON_AddNumberToObject(ev, "ifindex", d->ifindex);
			cJSON_AddStringToObject(ev, "name", d->name);
			db->cb("dev.deleted", ev, db->ud);
		}
		dev_free(d);
	}
	db->quiet = 1;
	dump(db, RTM_GETADDR);
	db->quiet = q;
	/* a device never reported before is new to the controller */
	for (struct dev *d = db->devs; d; d = d->next)
		dev_emit(db, d, d->last == NULL);
}

/* Reads the notifications queued so far, EV_BATCH per system call. A
 * notification lost to a full buffer (ENOBUFS) or cut short (MSG_TRUNC)
 * makes the database re-read everything. */
void devdb_sync(struct devdb *db)
{
	int fd = nl_socket_get_fd(db->ev), lost = 0, n;
	struct mmsghdr mm[EV_BATCH];
	struct iovec iov[EV_BATCH];
	struct sockaddr_nl from[EV_BATCH];
	do {
		for (int i = 0; i < EV_BATCH; i++) {
			iov[i] = (struct iovec){ db->evbuf + (size_t)i * EV_MSGBUF, EV_MSGBUF };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
							       .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, mm, EV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EINTR) {
			lost |= errno == ENOBUFS;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				lost = 1;
				continue;
			}
			if (from[i].nl_pid != 0)
				continue; /* only the kernel speaks on these groups */
			int len = (int)mm[i].msg_len;
			for (struct nlmsghdr *h = iov[i].iov_base; nlmsg_ok(h, len); h = nlmsg_next(h, &len))
				handle_msg(db, h);
		}
	} while (n < 0 || n == EV_BATCH);
	if (lost)
		resync(db);
}

static void on_event_fd(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	devdb_sync(ud);
}

int devdb_open(struct devdb **out, struct loop *loop, devdb_event_cb cb, void *ud)
{
	struct devdb *db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->loop = loop;
	db->cb = cb;
	db->ud = ud;
	db->ev = nl_socket_alloc();
	db->sk = nl_socket_alloc();
	/* Untouched pages of it cost no memory: notifications are small. */
	db->evbuf = malloc((size_t)EV_BATCH * EV_MSGBUF);
	if (!db->ev || !db->sk || !db->evbuf)
		goto fail;
	if (nl_connect(db->ev, NETLINK_ROUTE) < 0 || nl_connect(db->sk, NETLINK_ROUTE) < 0)
		goto fail;
	/* Room for the notifications of thousands of devices deleted at once
	 * (beyond net.core.rmem_max where the agent may: CAP_NET_ADMIN), so
	 * that they need no resync. */
	nl_socket_set_buffer_size(db->ev, EV_RCVBUF, 0);
	int rcvbuf = EV_RCVBUF;
	setsockopt(nl_socket_get_fd(db->ev), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (nl_socket_add_memberships(db->ev, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV6_IFADDR, 0) < 0)
		goto fail;
	nl_socket_set_nonblocking(db->ev);
	db->quiet = 1;
	if (dump(db, RTM_GETLINK) || dump(db, RTM_GETADDR))
		goto fail;
	devdb_sync(db);
	db->quiet = 0;
	if (loop_add(loop, nl_socket_get_fd(db->ev), EPOLLIN, on_event_fd, db) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	free(db->evbuf);
	nl_socket_free(db->ev);
	nl_socket_free(db->sk);
	while (db->devs) {
		struct dev *d = db->devs;
		db->devs = d->next;
		dev_free(d);
	}
	free(db);
	return -EIO;
}

void devdb_close(struct devdb *db)
{
	if (!db)
		return;
	loop_del(db->loop, nl_socket_get_fd(db->ev));
	free(db->evbuf);
	nl_socket_free(db->ev);
	nl_socket_free(db->sk);
	while (db->devs) {
		struct dev *d = db->devs;
		db->devs = d->next;
		dev_free(d);
	}
	free(db);
}

void devdb_set_undo(struct devdb *db, struct undo *u)
{
	db->undo = u;
}

cJSON *devdb_list(struct devdb *db)
{
	cJSON *a = cJSON_CreateArray();
	for (struct dev *d = db->devs; d; d = d->next)
		cJSON_AddItemToArray(a, dev_json(d, 1));
	return a;
}

cJSON *devdb_get(struct devdb *db, int ifindex)
{
	struct dev *d = dev_by_index(db, ifindex);
	return d ? dev_json(d, 1) : NULL;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static struct dev *find_once(struct devdb *db, const char *name, const char *hwaddr)
{
	uint8_t mac[6];
	if (hwaddr && parse_mac(hwaddr, mac))
		return NULL;
	for (struct dev *d = db->devs; d; d = d->next) {
		if (name && strcmp(d->name, name) == 0)
			return d;
		if (hwaddr && d->maclen == 6 && !memcmp(d->mac, mac, 6))
			return d;
	}
	return NULL;
}

int devdb_find(struct devdb *db, const char *name, const char *hwaddr)
{
	struct dev *d = find_once(db, name, hwaddr);
	if (!d) {
		devdb_sync(db);
		d = find_once(db, name, hwaddr);
	}
	return d ? d->ifindex : -ENODEV;
}

/* ---- operations ---------------------------------------------------------- */

static struct dev *usable(struct devdb *db, int ifindex, struct devdb_err *e)
{
	struct dev *d = dev_by_index(db, ifindex);
	if (!d) {
		snprintf(e->msg, sizeof(e->msg), "no device with ifindex %d", ifindex);
		return NULL;
	}
	if (!d->enabled) {
		snprintf(e->msg, sizeof(e->msg),
			 "device %s is disabled: it existed before the run and is not mapped to a recipe NIC",
			 d->name);
		return NULL;
	}
	return d;
}

/* name: the device's name copied before the request: request() syncs the
 * database, which frees a device that went away meanwhile. */
static int fail(struct devdb_err *e, const char *name, int err, const char *what)
{
	snprintf(e->msg, sizeof(e->msg), "%s on %s failed: %s", what, name, strerror(-err));
	return err;
}

static void record(struct devdb *db, undo_fn fn, int ifindex, int ival, const char *sval,
		   const char *what)
{
	if (!db->undo)
		return;
	struct undo_step s = { .fn = fn, .ctx = db, .ifindex = ifindex, .ival = ival };
	if (sval)
		snprintf(s.sval, sizeof(s.sval), "%s", sval);
	snprintf(s.what, sizeof(s.what), "%s", what);
	undo_push(db->undo, &s);
}

static int parse_cidr(const char *cidr, struct ipaddr *ip)
{
	char buf[INET6_ADDRSTRLEN + 8];
	snprintf(buf, sizeof(buf), "%s", cidr);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	int max = ip->family == AF_INET ? 32 : 128;
	ip->prefixlen = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || p < 0 || p > max)
			return -EINVAL;
		ip->prefixlen = (int)p;
	}
	return 0;
}

static struct nl_msg *addr_msg(int type, int flags, int ifindex, const struct ipaddr *ip, int nodad)
{
	struct nl_msg *m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
	if (!m)
		return NULL;
	struct ifaddrmsg ifa = { .ifa_family = (uint8_t)ip->family,
				 .ifa_prefixlen = (uint8_t)ip->prefixlen,
				 .ifa_index = (uint32_t)ifindex };
	int alen = ip->family == AF_INET ? 4 : 16;
	if (nlmsg_append(m, &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0 ||
	    nla_put(m, IFA_ADDRESS, alen, ip->addr) < 0 ||
	    (ip->family == AF_INET && nla_put(m, IFA_LOCAL, alen, ip->addr) < 0) ||
	    (nodad && nla_put_u32(m, IFA_FLAGS, IFA_F_NODAD) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static int undo_ip_del(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	int err = devdb_ip_del(ctx, s->ifindex, s->sval, 0, &e);
	/* Gone already: IPv6 addresses go when their link goes down. */
	return err == -EADDRNOTAVAIL ? 0 : err;
}

static int undo_ip_add(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	int err = devdb_ip_add(ctx, s->ifindex, s->sval, s->ival, 0, &e);
	return err == -EEXIST ? 0 : err;
}

int devdb_ip_add(struct devdb *db, int ifindex, const char *cidr, int nodad, int rec,
		 struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	struct ipaddr ip;
	if (parse_cidr(cidr, &ip)) {
		snprintf(e->msg, sizeof(e->msg), "'%s' is not an IP address with optional /prefix", cidr);
		return -EINVAL;
	}
	struct nl_msg *m = addr_msg(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, &ip, nodad);
	if (!m)
		return -ENOMEM;
	int err = request(db, m);
	if (err)
		return fail(e, dname, err, "adding address");
	char what[96];
	snprintf(what, sizeof(what), "ip_add %s on %s", cidr, dname);
	if (rec)
		record(db, undo_ip_del, ifindex, 0, cidr, what);
	return 0;
}

int devdb_ip_del(struct devdb *db, int ifindex, const char *cidr, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	struct ipaddr ip;
	if (parse_cidr(cidr, &ip)) {
		snprintf(e->msg, sizeof(e->msg), "'%s' is not an IP address with optional /prefix", cidr);
		return -EINVAL;
	}
	int nodad = 0, found = 0;
	for (int i = 0; i < d->nips; i++) {
		if (d->ips[i].family == ip.family &&
		    !memcmp(d->ips[i].addr, ip.addr, ip.family == AF_INET ? 4 : 16)) {
			if (!strchr(cidr, '/'))
				ip.prefixlen = d->ips[i].prefixlen;
			nodad = (d->ips[i].flags & IFA_F_NODAD) != 0;
			found = 1;
			break;
		}
	}
	if (!found) {
		snprintf(e->msg, sizeof(e->msg), "address %s is not on %s", cidr, d->name);
		return -EADDRNOTAVAIL;
	}
	struct nl_msg *m = addr_msg(RTM_DELADDR, 0, ifindex, &ip, 0);
	if (!m)
		return -ENOMEM;
	int err = request(db, m);
	if (err)
		return fail(e, dname, err, "removing address");
	if (rec) {
		char full[INET6_ADDRSTRLEN + 8], what[96];
		inet_ntop(ip.family, ip.addr, full, sizeof(full));
		snprintf(full + strlen(full), 8, "/%d", ip.prefixlen);
		snprintf(what, sizeof(what), "ip_del %s on %s", full, dname);
		record(db, undo_ip_add, ifindex, nodad, full, what);
	}
	return 0;
}

int devdb_ip_flush(struct devdb *db, int ifindex, int scope_all, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	for (int i = d->nips - 1; i >= 0; i--) {
		if (!scope_all && d->ips[i].scope != RT_SCOPE_UNIVERSE)
			continue;
		char cidr[INET6_ADDRSTRLEN + 8];
		inet_ntop(d->ips[i].family, d->ips[i].addr, cidr, sizeof(cidr));
		snprintf(cidr + strlen(cidr), 8, "/%d", d->ips[i].prefixlen);
		int err = devdb_ip_del(db, ifindex, cidr, rec, e);
		if (err)
			return err;
		d = dev_by_index(db, ifindex);
		if (!d)
			return 0;
		if (i > d->nips)
			i = d->nips;
	}
	return 0;
}

static struct nl_msg *link_msg(int ifindex, unsigned flags, unsigned change)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!m)
		return NULL;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
				 .ifi_flags = flags, .ifi_change = change };
	if (nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

static int undo_set_up(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	return devdb_set_up(ctx, s->ifindex, s->ival, 0, &e);
}

int devdb_set_up(struct devdb *db, int ifindex, int up, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	int was = (d->flags & IFF_UP) != 0;
	struct nl_msg *m = link_msg(ifindex, up ? IFF_UP : 0, IFF_UP);
	if (!m)
		return -ENOMEM;
	int err = request(db, m);
	if (err)
		return fail(e, dname, err, up ? "setting link up" : "setting link down");
	if (rec && was != !!up) {
		char what[96];
		snprintf(what, sizeof(what), "%s %s", up ? "up" : "down", dname);
		record(db, undo_set_up, ifindex, was, NULL, what);
	}
	return 0;
}

static int undo_set_mtu(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	return devdb_set_mtu(ctx, s->ifindex, s->ival, 0, &e);
}

int devdb_set_mtu(struct devdb *db, int ifindex, int mtu, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	int was = d->mtu;
	struct nl_msg *m = link_msg(ifindex, 0, 0);
	if (!m)
		return -ENOMEM;
	if (nla_put_u32(m, IFLA_MTU, (uint32_t)mtu) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int err = request(db, m);
	if (err) {
		char what[64];
		snprintf(what, sizeof(what), "setting mtu %d", mtu);
		return fail(e, dname, err, what);
	}
	if (rec && was != mtu) {
		char what[96];
		snprintf(what, sizeof(what), "mtu %d on %s", mtu, dname);
		record(db, undo_set_mtu, ifindex, was, NULL, what);
	}
	return 0;
}

static int undo_set_hwaddr(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	return devdb_set_hwaddr(ctx, s->ifindex, s->sval, 0, &e);
}

int devdb_set_hwaddr(struct devdb *db, int ifindex, const char *mac, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	uint8_t bin[6];
	if (parse_mac(mac, bin)) {
		snprintf(e->msg, sizeof(e->msg), "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", mac);
		return -EINVAL;
	}
	char was[100];
	mac_str(d->mac, d->maclen, was, sizeof(was));
	struct nl_msg *m = link_msg(ifindex, 0, 0);
	if (!m)
		return -ENOMEM;
	if (nla_put(m, IFLA_ADDRESS, 6, bin) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int err = request(db, m);
	if (err)
		return fail(e, dname, err, "setting hwaddr");
	if (rec && strcasecmp(was, mac) != 0) {
		char what[96];
		snprintf(what, sizeof(what), "hwaddr %s on %s", mac, dname);
		record(db, undo_set_hwaddr, ifindex, 0, was, what);
	}
	return 0;
}

static int undo_set_name(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	return devdb_set_name(ctx, s->ifindex, s->sval, 0, &e);
}

int devdb_set_name(struct devdb *db, int ifindex, const char *name, int rec, struct devdb_err *e)
{
	struct dev *d = usable(db, ifindex, e);
	if (!d)
		return -ENODEV;
	if (!name[0] || strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ')) {
		snprintf(e->msg, sizeof(e->msg),
			 "'%s' is not a valid interface name (1 to %d characters, no '/' or space)",
			 name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	char was[IFNAMSIZ];
	snprintf(was, sizeof(was), "%s", d->name);
	struct nl_msg *m = link_msg(ifindex, 0, 0);
	if (!m)
		return -ENOMEM;
	if (nla_put_string(m, IFLA_IFNAME, name) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int err = request(db, m);
	if (err)
		return fail(e, was, err, "renaming");
	if (rec && strcmp(was, name) != 0) {
		char what[96];
		snprintf(what, sizeof(what), "rename %s to %s", was, name);
		record(db, undo_set_name, ifindex, 0, was, what);
	}
	return 0;
}

int devdb_link_del(struct devdb *db, int ifindex, struct devdb_err *e)
{
	struct dev *d = dev_by_index(db, ifindex);
	if (!d)
		return -ENODEV;
	char dname[IFNAMSIZ];
	snprintf(dname, sizeof(dname), "%s", d->name);
	struct nl_msg *m = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int err = request(db, m);
	return err ? fail(e, dname, err, "deleting link") : 0;
}

void devdb_expect(struct devdb *db, const char *name, const char *peer)
{
	snprintf(db->expect[0], sizeof(db->expect[0]), "%s", name ? name : "");
	snprintf(db->expect[1], sizeof(db->expect[1]), "%s", peer ? peer : "");
}

void devdb_enable(struct devdb *db, int ifindex)
{
	struct dev *d = dev_by_index(db, ifindex);
	if (d && !d->enabled) {
		d->enabled = 1;
		dev_emit(db, d, 0);
	}
}

/* ---- mapping and snapshots ---------------------------------------------- */

static int undo_disable(void *ctx, const struct undo_step *s)
{
	struct devdb *db = ctx;
	struct dev *d = dev_by_index(db, s->ifindex);
	if (!d)
		return -ENODEV;
	d->enabled = 0;
	dev_emit(db, d, 0);
	return 0;
}

static int undo_flush(void *ctx, const struct undo_step *s)
{
	struct devdb_err e;
	return devdb_ip_flush(ctx, s->ifindex, 0, 0, &e);
}

int devdb_map(struct devdb *db, int ifindex, struct devdb_err *e)
{
	struct dev *d = dev_by_index(db, ifindex);
	if (!d) {
		snprintf(e->msg, sizeof(e->msg), "no device with ifindex %d", ifindex);
		return -ENODEV;
	}
	if (d->enabled && d->kind[0] && strcmp(d->kind, "loopback") == 0)
		return 0;
	d->enabled = 1;
	/* Pushed in reverse of the order they run in at the end: restore the
	 * name, MAC, MTU and state, flush, re-add the original addresses,
	 * disable. */
	char what[96], mac[100];
	snprintf(what, sizeof(what), "unmap %s", d->name);
	record(db, undo_disable, ifindex, 0, NULL, what);
	for (int i = 0; i < d->nips; i++) {
		if (d->ips[i].scope != RT_SCOPE_UNIVERSE)
			continue;
		char cidr[INET6_ADDRSTRLEN + 8];
		inet_ntop(d->ips[i].family, d->ips[i].addr, cidr, sizeof(cidr));
		snprintf(cidr + strlen(cidr), 8, "/%d", d->ips[i].prefixlen);
		snprintf(what, sizeof(what), "restore %s on %s", cidr, d->name);
		record(db, undo_ip_add, ifindex, 1, cidr, what);
	}
	snprintf(what, sizeof(what), "flush %s", d->name);
	record(db, undo_flush, ifindex, 0, NULL, what);
	snprintf(what, sizeof(what), "restore state of %s", d->name);
	record(db, undo_set_up, ifindex, (d->flags & IFF_UP) != 0, NULL, what);
	snprintf(what, sizeof(what), "restore mtu of %s", d->name);
	record(db, undo_set_mtu, ifindex, d->mtu, NULL, what);
	mac_str(d->mac, d->maclen, mac, sizeof(mac));
	if (d->maclen == 6) {
		snprintf(what, sizeof(what), "restore hwaddr of %s", d->name);
		record(db, undo_set_hwaddr, ifindex, 0, mac, what);
	}
	snprintf(what, sizeof(what), "restore name of %s", d->name);
	record(db, undo_set_name, ifindex, 0, d->name, what);
	dev_emit(db, d, 0);
	return 0;
}
