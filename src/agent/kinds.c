/* kinds.c - the soft device kinds: table, checks, messages, probe (kinds.h).
 *
 * Each kind lists its parameters. A parameter has a value type (what the
 * request may carry: integer in a range, boolean, enum name, address, MAC,
 * device ifindex, list...) and one way to reach the kernel: a libnl setter
 * on the kind's rtnl_link object (kinds libnl models), or a raw attribute
 * of IFLA_INFO_DATA with its wire encoding (bridge, bond, vxlan, geneve,
 * gre, gretap, ipip), or a hook for what is neither (gre keys, wireguard, teamd, tun,
 * l2tp). Mandatory parameters, and rules that involve several of them, are
 * checked before anything is built.
 */
#include "kinds.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/if_macsec.h>
#include <linux/if_tun.h>
#include <linux/if_tunnel.h>
#include <linux/if_vlan.h>
#include <linux/l2tp.h>
#include <linux/veth.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/route/link.h>
#include <netlink/route/link/ip6gre.h>
#include <netlink/route/link/ip6tnl.h>
#include <netlink/route/link/ip6vti.h>
#include <netlink/route/link/ipvlan.h>
#include <netlink/route/link/ipvti.h>
#include <netlink/route/link/macsec.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/sit.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/link/vrf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the table ------------------------------------------------------------ */

enum vt {
	VT_INT,     /* integer in [min, max] */
	VT_BOOL,    /* true/false or 0/1 */
	VT_ENUM,    /* a name of enums, or one of their values */
	VT_IP4,     /* IPv4 address */
	VT_IP6,     /* IPv6 address */
	VT_IP,      /* either */
	VT_MAC,     /* aa:bb:cc:dd:ee:ff */
	VT_DEV,     /* ifindex of a device of this host */
	VT_IFNAME,  /* interface name */
	VT_IP4LIST, /* array of IPv4 addresses */
	VT_IP6LIST, /* array of IPv6 addresses */
	VT_U64,     /* integer or "0x..." hex string, 64 bits */
	VT_KEY,     /* base64 of 32 bytes */
	VT_HEX,     /* 8 or 16 hex digits: 4 or 8 bytes */
	VT_OBJECT,  /* JSON object, checked by the kind */
	VT_ARRAY,   /* JSON array, checked by the kind */
};

enum wire { W_NONE, W_U8, W_U16, W_U32, W_BE16, W_BE32, W_FLAG, W_ADDR, W_MAC, W_LIST };

enum lset { LS_NONE, LS_U8, LS_U16, LS_U32, LS_U64, LS_IN4, LS_IN6, LS_NLADDR, LS_FN, LS_PUT };

struct kenum {
	const char *name;
	int64_t value;
};

struct kparam {
	const char *name;
	uint8_t vt, wire, ls;
	uint16_t attr, attr6;
	int64_t min, max;
	const struct kenum *enums;
	union {
		int (*u8)(struct rtnl_link *, uint8_t);
		int (*u16)(struct rtnl_link *, uint16_t);
		int (*u32)(struct rtnl_link *, uint32_t);
		int (*u64)(struct rtnl_link *, uint64_t);
		int (*in6)(struct rtnl_link *, struct in6_addr *);
		int (*nladdr)(struct rtnl_link *, struct nl_addr *);
		int (*fn)(struct rtnl_link *, const struct kval *);
		int (*put)(struct nl_msg *, const struct kval *);
	} set;
};

struct kind {
	const char *name;   /* lnst.device.<name>, capabilities.kinds */
	const char *ifkind; /* IFLA_INFO_KIND */
	const char *tmpl;   /* default names: tmpl0, tmpl1, ... */
	enum kind_how how;
	struct rtnl_link *(*alloc)(void); /* libnl object; NULL: raw INFO_DATA */
	const struct kparam *params;      /* terminated by a NULL name */
	const char *const *required;      /* mandatory parameters */
	int (*check)(const struct kreq *r, char *err, size_t n);
	const char *probe; /* params that make a valid device, "@" = the probe's veth */
};

#define U8MAX 255
#define U16MAX 65535
#define U32MAX 4294967295LL
#define S32MAX 2147483647LL

/* Raw attributes. */
#define R_INT(n, w, a, lo, hi) { .name = n, .vt = VT_INT, .wire = w, .attr = a, .min = lo, .max = hi }
#define R_BOOL(n, w, a) { .name = n, .vt = VT_BOOL, .wire = w, .attr = a, .max = 1 }
#define R_ENUM(n, w, a, e) { .name = n, .vt = VT_ENUM, .wire = w, .attr = a, .enums = e }
#define R_ADDR(n, t, a, a6) { .name = n, .vt = t, .wire = W_ADDR, .attr = a, .attr6 = a6 }
#define R_DEV(n, a) { .name = n, .vt = VT_DEV, .wire = W_U32, .attr = a, .min = 1, .max = S32MAX }
#define R_FLAG(n, a) { .name = n, .vt = VT_BOOL, .wire = W_FLAG, .attr = a, .max = 1 }
#define R_MAC(n, a) { .name = n, .vt = VT_MAC, .wire = W_MAC, .attr = a }
#define R_LIST(n, t, a) { .name = n, .vt = t, .wire = W_LIST, .attr = a }
#define R_PUT(n, t, lo, hi, f) { .name = n, .vt = t, .ls = LS_PUT, .min = lo, .max = hi, .set.put = f }
/* libnl setters. */
#define L_U8(n, f, lo, hi) { .name = n, .vt = VT_INT, .ls = LS_U8, .min = lo, .max = hi, .set.u8 = f }
#define L_U16(n, f, lo, hi) { .name = n, .vt = VT_INT, .ls = LS_U16, .min = lo, .max = hi, .set.u16 = f }
#define L_U32(n, f, lo, hi) { .name = n, .vt = VT_INT, .ls = LS_U32, .min = lo, .max = hi, .set.u32 = f }
#define L_BOOL(n, f) { .name = n, .vt = VT_BOOL, .ls = LS_U8, .max = 1, .set.u8 = f }
#define L_E8(n, f, e) { .name = n, .vt = VT_ENUM, .ls = LS_U8, .enums = e, .set.u8 = f }
#define L_E16(n, f, e) { .name = n, .vt = VT_ENUM, .ls = LS_U16, .enums = e, .set.u16 = f }
#define L_E32(n, f, e) { .name = n, .vt = VT_ENUM, .ls = LS_U32, .enums = e, .set.u32 = f }
#define L_E64(n, f, e) { .name = n, .vt = VT_ENUM, .ls = LS_U64, .enums = e, .set.u64 = f }
#define L_IN4(n, f) { .name = n, .vt = VT_IP4, .ls = LS_IN4, .set.u32 = f }
#define L_IN6(n, f) { .name = n, .vt = VT_IP6, .ls = LS_IN6, .set.in6 = f }
#define L_ADDR(n, t, f) { .name = n, .vt = t, .ls = LS_NLADDR, .set.nladdr = f }
#define L_DEV(n, f) { .name = n, .vt = VT_DEV, .ls = LS_U32, .min = 1, .max = S32MAX, .set.u32 = f }
#define L_FN(n, t, lo, hi, e, f) { .name = n, .vt = t, .ls = LS_FN, .min = lo, .max = hi, .enums = e, .set.fn = f }
/* Handled by the kind's own code. */
#define X(n, t, lo, hi) { .name = n, .vt = t, .min = lo, .max = hi }
#define END { 0 }

/* ---- enums ---- */

static const struct kenum bond_modes[] = {
	{ "balance-rr", 0 }, { "active-backup", 1 }, { "balance-xor", 2 }, { "broadcast", 3 },
	{ "802.3ad", 4 },    { "balance-tlb", 5 },   { "balance-alb", 6 }, { 0 },
};
static const struct kenum arp_validates[] = {
	{ "none", 0 },   { "active", 1 },        { "backup", 2 },        { "all", 3 },
	{ "filter", 4 }, { "filter_active", 5 }, { "filter_backup", 6 }, { 0 },
};
static const struct kenum arp_all_targets[] = { { "any", 0 }, { "all", 1 }, { 0 } };
static const struct kenum primary_reselects[] = { { "always", 0 }, { "better", 1 }, { "failure", 2 }, { 0 } };
static const struct kenum fail_over_macs[] = { { "none", 0 }, { "active", 1 }, { "follow", 2 }, { 0 } };
static const struct kenum xmit_hash_policies[] = {
	{ "layer2", 0 },   { "layer3+4", 1 }, { "layer2+3", 2 }, { "encap2+3", 3 },
	{ "encap3+4", 4 }, { "vlan+srcmac", 5 }, { 0 },
};
static const struct kenum lacp_rates[] = { { "slow", 0 }, { "fast", 1 }, { 0 } };
static const struct kenum ad_selects[] = { { "stable", 0 }, { "bandwidth", 1 }, { "count", 2 }, { 0 } };
static const struct kenum vlan_protocols[] = { { "802.1Q", 0x8100 }, { "802.1ad", 0x88a8 }, { 0 } };
static const struct kenum macvlan_modes[] = {
	{ "private", MACVLAN_MODE_PRIVATE }, { "vepa", MACVLAN_MODE_VEPA },
	{ "bridge", MACVLAN_MODE_BRIDGE },   { "passthru", MACVLAN_MODE_PASSTHRU },
	{ "source", MACVLAN_MODE_SOURCE },   { 0 },
};
static const struct kenum ipvlan_modes[] = { { "l2", 0 }, { "l3", 1 }, { "l3s", 2 }, { 0 } };
static const struct kenum sit_modes[] = {
	{ "any", 0 },      { "ip6ip", IPPROTO_IPV6 }, { "ipv6", IPPROTO_IPV6 }, { "ipip", IPPROTO_IPIP },
	{ "ip4ip4", IPPROTO_IPIP }, { "mplsip", IPPROTO_MPLS }, { "mpls", IPPROTO_MPLS }, { 0 },
};
static const struct kenum ipip_modes[] = {
	{ "any", 0 }, { "ipip", IPPROTO_IPIP }, { "mplsip", IPPROTO_MPLS }, { 0 },
};
static const struct kenum ip6tnl_modes[] = {
	{ "any", 0 }, { "ipip6", IPPROTO_IPIP }, { "ip6ip6", IPPROTO_IPV6 }, { 0 },
};
static const struct kenum macsec_ciphers[] = {
	{ "gcm-aes-128", (int64_t)MACSEC_CIPHER_ID_GCM_AES_128 },
	{ "gcm-aes-256", (int64_t)MACSEC_CIPHER_ID_GCM_AES_256 },
	{ "gcm-aes-xpn-128", (int64_t)MACSEC_CIPHER_ID_GCM_AES_XPN_128 },
	{ "gcm-aes-xpn-256", (int64_t)MACSEC_CIPHER_ID_GCM_AES_XPN_256 },
	{ 0 },
};
static const struct kenum macsec_validates[] = {
	{ "disabled", MACSEC_VALIDATE_DISABLED }, { "check", MACSEC_VALIDATE_CHECK },
	{ "strict", MACSEC_VALIDATE_STRICT }, { 0 },
};
static const struct kenum l2spec_types[] = {
	{ "none", L2TP_L2SPECTYPE_NONE }, { "default", L2TP_L2SPECTYPE_DEFAULT }, { 0 },
};

/* ---- libnl adapters ---- */

static int set_link(struct rtnl_link *l, const struct kval *v)
{
	rtnl_link_set_link(l, (int)v->i);
	return 0;
}

static int vlan_proto(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_vlan_set_protocol(l, htons((uint16_t)v->i));
}

static int vlan_flag(struct rtnl_link *l, unsigned flag, int on)
{
	return on ? rtnl_link_vlan_set_flags(l, flag) : rtnl_link_vlan_unset_flags(l, flag);
}

static int vlan_reorder_hdr(struct rtnl_link *l, const struct kval *v)
{
	return vlan_flag(l, VLAN_FLAG_REORDER_HDR, (int)v->i);
}

static int vlan_gvrp(struct rtnl_link *l, const struct kval *v)
{
	return vlan_flag(l, VLAN_FLAG_GVRP, (int)v->i);
}

static int vlan_mvrp(struct rtnl_link *l, const struct kval *v)
{
	return vlan_flag(l, VLAN_FLAG_MVRP, (int)v->i);
}

static int vlan_loose_binding(struct rtnl_link *l, const struct kval *v)
{
	return vlan_flag(l, VLAN_FLAG_LOOSE_BINDING, (int)v->i);
}

static int macvlan_nopromisc(struct rtnl_link *l, const struct kval *v)
{
	return v->i ? rtnl_link_macvlan_set_flags(l, MACVLAN_FLAG_NOPROMISC)
		    : rtnl_link_macvlan_unset_flags(l, MACVLAN_FLAG_NOPROMISC);
}

/* GRE keys are big-endian on the wire and need GRE_KEY in the flags. */
static int ip6gre_ikey(struct rtnl_link *l, const struct kval *v)
{
	rtnl_link_ip6gre_set_iflags(l, GRE_KEY);
	return rtnl_link_ip6gre_set_ikey(l, htonl((uint32_t)v->i));
}

static int ip6gre_okey(struct rtnl_link *l, const struct kval *v)
{
	rtnl_link_ip6gre_set_oflags(l, GRE_KEY);
	return rtnl_link_ip6gre_set_okey(l, htonl((uint32_t)v->i));
}

static int ip6gre_key(struct rtnl_link *l, const struct kval *v)
{
	return ip6gre_ikey(l, v) ?: ip6gre_okey(l, v);
}

static int vti_ikey(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ipvti_set_ikey(l, htonl((uint32_t)v->i));
}

static int vti_okey(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ipvti_set_okey(l, htonl((uint32_t)v->i));
}

static int vti_key(struct rtnl_link *l, const struct kval *v)
{
	return vti_ikey(l, v) ?: vti_okey(l, v);
}

static int vti6_ikey(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ip6vti_set_ikey(l, htonl((uint32_t)v->i));
}

static int vti6_okey(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ip6vti_set_okey(l, htonl((uint32_t)v->i));
}

static int vti6_key(struct rtnl_link *l, const struct kval *v)
{
	return vti6_ikey(l, v) ?: vti6_okey(l, v);
}

/* Flow info is big-endian on the wire; libnl passes it through. */
static int ip6gre_flowinfo(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ip6gre_set_flowinfo(l, htonl((uint32_t)v->i));
}

static int ip6tnl_flowinfo(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_ip6_tnl_set_flowinfo(l, htonl((uint32_t)v->i));
}

/* The SCI is big-endian on the wire; libnl passes it through. */
static int macsec_sci(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_macsec_set_sci(l, htobe64(v->u64));
}

static int macsec_validate(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_macsec_set_validation_type(l, (enum macsec_validation_type)v->i);
}

static int macsec_icv_len(struct rtnl_link *l, const struct kval *v)
{
	return rtnl_link_macsec_set_icv_len(l, (uint16_t)v->i);
}

/* ---- raw hooks ---- */

static int gre_put_key(struct nl_msg *m, int in, int out, uint32_t key)
{
	if (in && (nla_put_u32(m, IFLA_GRE_IKEY, htonl(key)) < 0 ||
		   nla_put_u16(m, IFLA_GRE_IFLAGS, GRE_KEY) < 0))
		return -ENOMEM;
	if (out && (nla_put_u32(m, IFLA_GRE_OKEY, htonl(key)) < 0 ||
		    nla_put_u16(m, IFLA_GRE_OFLAGS, GRE_KEY) < 0))
		return -ENOMEM;
	return 0;
}

static int gre_key(struct nl_msg *m, const struct kval *v)
{
	return gre_put_key(m, 1, 1, (uint32_t)v->i);
}

static int gre_ikey(struct nl_msg *m, const struct kval *v)
{
	return gre_put_key(m, 1, 0, (uint32_t)v->i);
}

static int gre_okey(struct nl_msg *m, const struct kval *v)
{
	return gre_put_key(m, 0, 1, (uint32_t)v->i);
}

/* ---- checks ---- */

#define KERR(...) (snprintf(err, n, __VA_ARGS__), -EINVAL)

static const struct kval *val(const struct kreq *r, const char *name)
{
	return kinds_value(r, name);
}

static int is_multicast(const struct kval *v)
{
	return v->family == AF_INET ? (v->addr[0] & 0xf0) == 0xe0 : v->addr[0] == 0xff;
}

static int external(const struct kreq *r)
{
	const struct kval *e = val(r, "external");
	return e && e->i;
}

static int check_vxlan(const struct kreq *r, char *err, size_t n)
{
	const struct kval *g = val(r, "group"), *rem = val(r, "remote"), *loc = val(r, "local");
	if (!external(r)) {
		if (!val(r, "vxlan_id"))
			return KERR("missing mandatory parameter 'vxlan_id' (optional only with external = true)");
		if (!g && !rem)
			return KERR("one of 'group' and 'remote' is mandatory (unless external = true)");
	}
	if (g && rem)
		return KERR("'group' and 'remote' exclude each other");
	if (g && !is_multicast(g))
		return KERR("parameter 'group' must be a multicast address (use 'remote' for unicast)");
	if (rem && is_multicast(rem))
		return KERR("parameter 'remote' must be a unicast address (use 'group' for multicast)");
	if (g && !val(r, "realdev"))
		return KERR("parameter 'group' needs 'realdev' (the device to join the group on)");
	const struct kval *peer = g ? g : rem;
	if (peer && loc && peer->family != loc->family)
		return KERR("'local' and '%s' must be of the same address family", g ? "group" : "remote");
	return 0;
}

static int check_geneve(const struct kreq *r, char *err, size_t n)
{
	if (external(r))
		return 0;
	if (!val(r, "id"))
		return KERR("missing mandatory parameter 'id' (optional only with external = true)");
	if (!val(r, "remote"))
		return KERR("missing mandatory parameter 'remote' (optional only with external = true)");
	return 0;
}

static int check_keys(const struct kreq *r, char *err, size_t n)
{
	if (val(r, "key") && (val(r, "ikey") || val(r, "okey")))
		return KERR("'key' sets both 'ikey' and 'okey': give either 'key' or 'ikey'/'okey'");
	return 0;
}

static int check_gre(const struct kreq *r, char *err, size_t n)
{
	if (!external(r) && !val(r, "remote"))
		return KERR("missing mandatory parameter 'remote' (optional only with external = true)");
	return check_keys(r, err, n);
}

static int check_ipip(const struct kreq *r, char *err, size_t n)
{
	if (external(r))
		return 0;
	if (!val(r, "local"))
		return KERR("missing mandatory parameter 'local' (optional only with external = true)");
	if (!val(r, "remote"))
		return KERR("missing mandatory parameter 'remote' (optional only with external = true)");
	return 0;
}

static int check_vti(const struct kreq *r, char *err, size_t n)
{
	if (!val(r, "local") && !val(r, "remote"))
		return KERR("at least one of 'local' and 'remote' is mandatory");
	return check_keys(r, err, n);
}

static int check_macsec(const struct kreq *r, char *err, size_t n)
{
	if (val(r, "sci") && val(r, "port"))
		return KERR("'sci' and 'port' exclude each other (the SCI contains the port)");
	return 0;
}

static int check_team(const struct kreq *r, char *err, size_t n)
{
	const struct kval *c = val(r, "config");
	const cJSON *dev = c ? cJSON_GetObjectItemCaseSensitive(c->json, "device") : NULL;
	if (dev && (!cJSON_IsString(dev) || strcmp(dev->valuestring, r->name) != 0))
		return KERR("config.device must be the device's name '%s' or absent", r->name);
	return 0;
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* A wireguard key: base64 of exactly 32 bytes (44 characters, one '='). */
static int parse_key(const char *s, uint8_t out[32])
{
	if (strlen(s) != 44 || s[43] != '=')
		return -EINVAL;
	uint32_t acc = 0;
	int bits = 0, o = 0;
	for (int i = 0; i < 43; i++) {
		int v = b64_val((unsigned char)s[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < 32)
				out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o == 32 && (acc & ((1u << bits) - 1)) == 0 ? 0 : -EINVAL;
}

static int parse_cidr(const char *s, int *family, uint8_t *addr, int *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	int max = *family == AF_INET ? 32 : 128;
	*prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || p < 0 || p > max)
			return -EINVAL;
		*prefix = (int)p;
	}
	return 0;
}

/* "203.0.113.2:51820" or "[2001:db8::2]:51820" */
static int parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		size_t hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		host[hl - 1] = 0;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return 0;
}

static int check_wg_peers(const struct kreq *r, char *err, size_t n)
{
	const struct kval *p = val(r, "peers");
	if (!p)
		return 0;
	static const char *const known[] = { "public_key", "preshared_key", "endpoint", "allowed_ips",
					     "persistent_keepalive", NULL };
	int i = 0;
	const cJSON *peer;
	cJSON_ArrayForEach(peer, p->json) {
		i++;
		uint8_t key[32];
		if (!cJSON_IsObject(peer))
			return KERR("peers[%d] must be a table { public_key = ..., ... }", i);
		const cJSON *it;
		cJSON_ArrayForEach(it, peer) {
			int ok = 0;
			for (const char *const *k = known; *k && !ok; k++)
				ok = strcmp(*k, it->string) == 0;
			if (!ok)
				return KERR("peers[%d]: unknown parameter '%s' (known: allowed_ips, endpoint, "
					    "persistent_keepalive, preshared_key, public_key)", i, it->string);
		}
		const cJSON *pk = cJSON_GetObjectItemCaseSensitive(peer, "public_key");
		if (!cJSON_IsString(pk) || parse_key(pk->valuestring, key))
			return KERR("peers[%d]: 'public_key' is mandatory: base64 of 32 bytes (wg genkey | wg pubkey)", i);
		const cJSON *psk = cJSON_GetObjectItemCaseSensitive(peer, "preshared_key");
		if (psk && (!cJSON_IsString(psk) || parse_key(psk->valuestring, key)))
			return KERR("peers[%d]: 'preshared_key' must be base64 of 32 bytes", i);
		const cJSON *ep = cJSON_GetObjectItemCaseSensitive(peer, "endpoint");
		struct sockaddr_storage ss;
		socklen_t sl;
		if (ep && (!cJSON_IsString(ep) || parse_endpoint(ep->valuestring, &ss, &sl)))
			return KERR("peers[%d]: 'endpoint' must be \"ADDRESS:PORT\" or \"[IPV6]:PORT\"", i);
		const cJSON *ka = cJSON_GetObjectItemCaseSensitive(peer, "persistent_keepalive");
		if (ka && (!cJSON_IsNumber(ka) || ka->valuedouble != (int)ka->valuedouble ||
			   ka->valuedouble < 0 || ka->valuedouble > 65535))
			return KERR("peers[%d]: 'persistent_keepalive' must be an integer between 0 and 65535", i);
		const cJSON *ips = cJSON_GetObjectItemCaseSensitive(peer, "allowed_ips");
		if (ips) {
			if (!cJSON_IsArray(ips))
				return KERR("peers[%d]: 'allowed_ips' must be a list of \"ADDRESS/PREFIX\"", i);
			const cJSON *ip;
			cJSON_ArrayForEach(ip, ips) {
				int fam, pfx;
				uint8_t a[16];
				if (!cJSON_IsString(ip) || parse_cidr(ip->valuestring, &fam, a, &pfx))
					return KERR("peers[%d]: 'allowed_ips' must be a list of \"ADDRESS/PREFIX\"", i);
			}
		}
	}
	return 0;
}

/* ---- the kinds ---- */

static const struct kparam p_veth[] = { X("peer_name", VT_IFNAME, 0, 0), END };

static const struct kparam p_bridge[] = {
	R_INT("ageing_time", W_U32, IFLA_BR_AGEING_TIME, 0, U32MAX),
	R_INT("forward_delay", W_U32, IFLA_BR_FORWARD_DELAY, 0, U32MAX),
	R_INT("hello_time", W_U32, IFLA_BR_HELLO_TIME, 0, U32MAX),
	R_INT("max_age", W_U32, IFLA_BR_MAX_AGE, 0, U32MAX),
	R_BOOL("stp_state", W_U32, IFLA_BR_STP_STATE),
	R_INT("priority", W_U16, IFLA_BR_PRIORITY, 0, U16MAX),
	R_BOOL("vlan_filtering", W_U8, IFLA_BR_VLAN_FILTERING),
	R_ENUM("vlan_protocol", W_BE16, IFLA_BR_VLAN_PROTOCOL, vlan_protocols),
	R_INT("vlan_default_pvid", W_U16, IFLA_BR_VLAN_DEFAULT_PVID, 0, 4094),
	R_BOOL("vlan_stats_enabled", W_U8, IFLA_BR_VLAN_STATS_ENABLED),
	R_INT("group_fwd_mask", W_U16, IFLA_BR_GROUP_FWD_MASK, 0, U16MAX),
	R_MAC("group_address", IFLA_BR_GROUP_ADDR),
	R_BOOL("mcast_snooping", W_U8, IFLA_BR_MCAST_SNOOPING),
	R_BOOL("mcast_querier", W_U8, IFLA_BR_MCAST_QUERIER),
	R_INT("mcast_router", W_U8, IFLA_BR_MCAST_ROUTER, 0, 2),
	R_INT("mcast_igmp_version", W_U8, IFLA_BR_MCAST_IGMP_VERSION, 2, 3),
	R_INT("mcast_mld_version", W_U8, IFLA_BR_MCAST_MLD_VERSION, 1, 2),
	R_BOOL("nf_call_iptables", W_U8, IFLA_BR_NF_CALL_IPTABLES),
	R_BOOL("nf_call_ip6tables", W_U8, IFLA_BR_NF_CALL_IP6TABLES),
	R_BOOL("nf_call_arptables", W_U8, IFLA_BR_NF_CALL_ARPTABLES),
	END,
};

static const struct kparam p_bond[] = {
	R_ENUM("mode", W_U8, IFLA_BOND_MODE, bond_modes),
	R_INT("miimon", W_U32, IFLA_BOND_MIIMON, 0, S32MAX),
	R_INT("updelay", W_U32, IFLA_BOND_UPDELAY, 0, S32MAX),
	R_INT("downdelay", W_U32, IFLA_BOND_DOWNDELAY, 0, S32MAX),
	R_INT("peer_notif_delay", W_U32, IFLA_BOND_PEER_NOTIF_DELAY, 0, S32MAX),
	R_BOOL("use_carrier", W_U8, IFLA_BOND_USE_CARRIER),
	R_INT("arp_interval", W_U32, IFLA_BOND_ARP_INTERVAL, 0, S32MAX),
	R_LIST("arp_ip_target", VT_IP4LIST, IFLA_BOND_ARP_IP_TARGET),
	R_LIST("ns_ip6_target", VT_IP6LIST, IFLA_BOND_NS_IP6_TARGET),
	R_ENUM("arp_validate", W_U32, IFLA_BOND_ARP_VALIDATE, arp_validates),
	R_ENUM("arp_all_targets", W_U32, IFLA_BOND_ARP_ALL_TARGETS, arp_all_targets),
	R_DEV("primary", IFLA_BOND_PRIMARY),
	R_ENUM("primary_reselect", W_U8, IFLA_BOND_PRIMARY_RESELECT, primary_reselects),
	R_ENUM("fail_over_mac", W_U8, IFLA_BOND_FAIL_OVER_MAC, fail_over_macs),
	R_ENUM("xmit_hash_policy", W_U8, IFLA_BOND_XMIT_HASH_POLICY, xmit_hash_policies),
	R_INT("resend_igmp", W_U32, IFLA_BOND_RESEND_IGMP, 0, 255),
	R_INT("num_peer_notif", W_U8, IFLA_BOND_NUM_PEER_NOTIF, 0, 255),
	R_BOOL("all_slaves_active", W_U8, IFLA_BOND_ALL_SLAVES_ACTIVE),
	R_INT("min_links", W_U32, IFLA_BOND_MIN_LINKS, 0, S32MAX),
	R_INT("lp_interval", W_U32, IFLA_BOND_LP_INTERVAL, 1, S32MAX),
	R_INT("packets_per_slave", W_U32, IFLA_BOND_PACKETS_PER_SLAVE, 0, U16MAX),
	R_ENUM("lacp_rate", W_U8, IFLA_BOND_AD_LACP_RATE, lacp_rates),
	R_BOOL("lacp_active", W_U8, IFLA_BOND_AD_LACP_ACTIVE),
	R_ENUM("ad_select", W_U8, IFLA_BOND_AD_SELECT, ad_selects),
	R_INT("ad_actor_sys_prio", W_U16, IFLA_BOND_AD_ACTOR_SYS_PRIO, 1, U16MAX),
	R_INT("ad_user_port_key", W_U16, IFLA_BOND_AD_USER_PORT_KEY, 0, 1023),
	R_MAC("ad_actor_system", IFLA_BOND_AD_ACTOR_SYSTEM),
	R_BOOL("tlb_dynamic_lb", W_U8, IFLA_BOND_TLB_DYNAMIC_LB),
	R_INT("missed_max", W_U8, IFLA_BOND_MISSED_MAX, 1, 255),
	END,
};

static const struct kparam p_team[] = { X("config", VT_OBJECT, 0, 0), X("dbus", VT_BOOL, 0, 1), END };

static const struct kparam p_vlan[] = {
	L_FN("realdev", VT_DEV, 1, S32MAX, NULL, set_link),
	L_U16("vlan_id", rtnl_link_vlan_set_id, 1, 4094),
	L_FN("protocol", VT_ENUM, 0, 0, vlan_protocols, vlan_proto),
	L_FN("reorder_hdr", VT_BOOL, 0, 1, NULL, vlan_reorder_hdr),
	L_FN("gvrp", VT_BOOL, 0, 1, NULL, vlan_gvrp),
	L_FN("mvrp", VT_BOOL, 0, 1, NULL, vlan_mvrp),
	L_FN("loose_binding", VT_BOOL, 0, 1, NULL, vlan_loose_binding),
	END,
};

static const struct kparam p_macvlan[] = {
	L_FN("realdev", VT_DEV, 1, S32MAX, NULL, set_link),
	L_E32("mode", rtnl_link_macvlan_set_mode, macvlan_modes),
	L_FN("nopromisc", VT_BOOL, 0, 1, NULL, macvlan_nopromisc),
	END,
};

static const struct kparam p_macvtap[] = {
	L_FN("realdev", VT_DEV, 1, S32MAX, NULL, set_link),
	L_E32("mode", rtnl_link_macvtap_set_mode, macvlan_modes),
	END,
};

static const struct kparam p_ipvlan[] = {
	L_FN("realdev", VT_DEV, 1, S32MAX, NULL, set_link),
	L_E16("mode", rtnl_link_ipvlan_set_mode, ipvlan_modes),
	END,
};

/* vxlan and geneve are built raw: libnl 3.7 puts their UDP port as four
 * bytes where the kernel's layout is a two-byte big-endian attribute. */
static const struct kparam p_vxlan[] = {
	R_INT("vxlan_id", W_U32, IFLA_VXLAN_ID, 0, 16777215),
	R_ADDR("group", VT_IP, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6),
	R_ADDR("remote", VT_IP, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6),
	R_ADDR("local", VT_IP, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6),
	R_DEV("realdev", IFLA_VXLAN_LINK),
	R_INT("dst_port", W_BE16, IFLA_VXLAN_PORT, 1, U16MAX),
	R_INT("ttl", W_U8, IFLA_VXLAN_TTL, 0, U8MAX),
	R_INT("tos", W_U8, IFLA_VXLAN_TOS, 0, U8MAX),
	R_INT("flowlabel", W_BE32, IFLA_VXLAN_LABEL, 0, 0xfffff),
	R_BOOL("learning", W_U8, IFLA_VXLAN_LEARNING),
	R_INT("ageing", W_U32, IFLA_VXLAN_AGEING, 0, U32MAX),
	R_INT("maxaddress", W_U32, IFLA_VXLAN_LIMIT, 0, U32MAX),
	R_BOOL("proxy", W_U8, IFLA_VXLAN_PROXY),
	R_BOOL("rsc", W_U8, IFLA_VXLAN_RSC),
	R_BOOL("l2miss", W_U8, IFLA_VXLAN_L2MISS),
	R_BOOL("l3miss", W_U8, IFLA_VXLAN_L3MISS),
	R_BOOL("udp_csum", W_U8, IFLA_VXLAN_UDP_CSUM),
	R_BOOL("udp6zerocsumtx", W_U8, IFLA_VXLAN_UDP_ZERO_CSUM6_TX),
	R_BOOL("udp6zerocsumrx", W_U8, IFLA_VXLAN_UDP_ZERO_CSUM6_RX),
	R_BOOL("external", W_U8, IFLA_VXLAN_COLLECT_METADATA),
	R_FLAG("gbp", IFLA_VXLAN_GBP),
	R_FLAG("gpe", IFLA_VXLAN_GPE),
	END,
};

static const struct kparam p_geneve[] = {
	R_INT("id", W_U32, IFLA_GENEVE_ID, 0, 16777215),
	R_ADDR("remote", VT_IP, IFLA_GENEVE_REMOTE, IFLA_GENEVE_REMOTE6),
	R_INT("dst_port", W_BE16, IFLA_GENEVE_PORT, 1, U16MAX),
	R_INT("ttl", W_U8, IFLA_GENEVE_TTL, 0, U8MAX),
	R_INT("tos", W_U8, IFLA_GENEVE_TOS, 0, U8MAX),
	R_INT("flowlabel", W_BE32, IFLA_GENEVE_LABEL, 0, 0xfffff),
	R_BOOL("udp_csum", W_U8, IFLA_GENEVE_UDP_CSUM),
	R_BOOL("udp6zerocsumtx", W_U8, IFLA_GENEVE_UDP_ZERO_CSUM6_TX),
	R_BOOL("udp6zerocsumrx", W_U8, IFLA_GENEVE_UDP_ZERO_CSUM6_RX),
	R_FLAG("external", IFLA_GENEVE_COLLECT_METADATA),
	END,
};

static const struct kparam p_gre[] = {
	R_ADDR("remote", VT_IP4, IFLA_GRE_REMOTE, 0),
	R_ADDR("local", VT_IP4, IFLA_GRE_LOCAL, 0),
	R_INT("ttl", W_U8, IFLA_GRE_TTL, 0, U8MAX),
	R_INT("tos", W_U8, IFLA_GRE_TOS, 0, U8MAX),
	R_BOOL("pmtudisc", W_U8, IFLA_GRE_PMTUDISC),
	R_PUT("key", VT_INT, 0, U32MAX, gre_key),
	R_PUT("ikey", VT_INT, 0, U32MAX, gre_ikey),
	R_PUT("okey", VT_INT, 0, U32MAX, gre_okey),
	R_DEV("realdev", IFLA_GRE_LINK),
	R_INT("fwmark", W_U32, IFLA_GRE_FWMARK, 0, U32MAX),
	R_FLAG("external", IFLA_GRE_COLLECT_METADATA),
	END,
};

static const struct kparam p_ip6gre[] = {
	L_IN6("remote", rtnl_link_ip6gre_set_remote),
	L_IN6("local", rtnl_link_ip6gre_set_local),
	L_U8("ttl", rtnl_link_ip6gre_set_ttl, 0, U8MAX),
	L_U8("encaplimit", rtnl_link_ip6gre_set_encaplimit, 0, U8MAX),
	L_FN("flowinfo", VT_INT, 0, 0xfffff, NULL, ip6gre_flowinfo),
	L_FN("key", VT_INT, 0, U32MAX, NULL, ip6gre_key),
	L_FN("ikey", VT_INT, 0, U32MAX, NULL, ip6gre_ikey),
	L_FN("okey", VT_INT, 0, U32MAX, NULL, ip6gre_okey),
	L_DEV("realdev", rtnl_link_ip6gre_set_link),
	L_U32("fwmark", rtnl_link_ip6gre_set_fwmark, 0, U32MAX),
	END,
};

static const struct kparam p_ipip[] = {
	R_ADDR("local", VT_IP4, IFLA_IPTUN_LOCAL, 0),
	R_ADDR("remote", VT_IP4, IFLA_IPTUN_REMOTE, 0),
	R_ENUM("mode", W_U8, IFLA_IPTUN_PROTO, ipip_modes),
	R_INT("ttl", W_U8, IFLA_IPTUN_TTL, 0, U8MAX),
	R_INT("tos", W_U8, IFLA_IPTUN_TOS, 0, U8MAX),
	R_BOOL("pmtudisc", W_U8, IFLA_IPTUN_PMTUDISC),
	R_DEV("realdev", IFLA_IPTUN_LINK),
	R_INT("fwmark", W_U32, IFLA_IPTUN_FWMARK, 0, U32MAX),
	R_FLAG("external", IFLA_IPTUN_COLLECT_METADATA),
	END,
};

static const struct kparam p_sit[] = {
	L_IN4("local", rtnl_link_sit_set_local),
	L_IN4("remote", rtnl_link_sit_set_remote),
	L_E8("mode", rtnl_link_sit_set_proto, sit_modes),
	L_U8("ttl", rtnl_link_sit_set_ttl, 0, U8MAX),
	L_U8("tos", rtnl_link_sit_set_tos, 0, U8MAX),
	L_BOOL("pmtudisc", rtnl_link_sit_set_pmtudisc),
	L_DEV("realdev", rtnl_link_sit_set_link),
	L_U32("fwmark", rtnl_link_sit_set_fwmark, 0, U32MAX),
	END,
};

static const struct kparam p_ip6tnl[] = {
	L_IN6("local", rtnl_link_ip6_tnl_set_local),
	L_IN6("remote", rtnl_link_ip6_tnl_set_remote),
	L_E8("mode", rtnl_link_ip6_tnl_set_proto, ip6tnl_modes),
	L_U8("ttl", rtnl_link_ip6_tnl_set_ttl, 0, U8MAX),
	L_U8("encaplimit", rtnl_link_ip6_tnl_set_encaplimit, 0, U8MAX),
	L_FN("flowinfo", VT_INT, 0, 0xfffff, NULL, ip6tnl_flowinfo),
	L_DEV("realdev", rtnl_link_ip6_tnl_set_link),
	L_U32("fwmark", rtnl_link_ip6_tnl_set_fwmark, 0, U32MAX),
	END,
};

static const struct kparam p_vti[] = {
	L_IN4("local", rtnl_link_ipvti_set_local),
	L_IN4("remote", rtnl_link_ipvti_set_remote),
	L_FN("key", VT_INT, 0, U32MAX, NULL, vti_key),
	L_FN("ikey", VT_INT, 0, U32MAX, NULL, vti_ikey),
	L_FN("okey", VT_INT, 0, U32MAX, NULL, vti_okey),
	L_DEV("realdev", rtnl_link_ipvti_set_link),
	L_U32("fwmark", rtnl_link_ipvti_set_fwmark, 0, U32MAX),
	END,
};

static const struct kparam p_vti6[] = {
	L_IN6("local", rtnl_link_ip6vti_set_local),
	L_IN6("remote", rtnl_link_ip6vti_set_remote),
	L_FN("key", VT_INT, 0, U32MAX, NULL, vti6_key),
	L_FN("ikey", VT_INT, 0, U32MAX, NULL, vti6_ikey),
	L_FN("okey", VT_INT, 0, U32MAX, NULL, vti6_okey),
	L_DEV("realdev", rtnl_link_ip6vti_set_link),
	L_U32("fwmark", rtnl_link_ip6vti_set_fwmark, 0, U32MAX),
	END,
};

static const struct kparam p_macsec[] = {
	L_FN("realdev", VT_DEV, 1, S32MAX, NULL, set_link),
	L_FN("sci", VT_U64, 0, 0, NULL, macsec_sci),
	L_U16("port", rtnl_link_macsec_set_port, 1, U16MAX),
	L_E64("cipher", rtnl_link_macsec_set_cipher_suite, macsec_ciphers),
	L_FN("icv_len", VT_INT, 8, 16, NULL, macsec_icv_len),
	L_BOOL("encrypt", rtnl_link_macsec_set_encrypt),
	L_BOOL("protect", rtnl_link_macsec_set_protect),
	L_BOOL("send_sci", rtnl_link_macsec_set_send_sci),
	L_BOOL("end_station", rtnl_link_macsec_set_end_station),
	L_BOOL("scb", rtnl_link_macsec_set_scb),
	L_BOOL("replay_protect", rtnl_link_macsec_set_replay_protect),
	L_U32("window", rtnl_link_macsec_set_window, 0, U32MAX),
	L_FN("validate", VT_ENUM, 0, 0, macsec_validates, macsec_validate),
	L_U8("encoding_sa", rtnl_link_macsec_set_encoding_sa, 0, 3),
	END,
};

static const struct kparam p_l2tp[] = {
	X("tunnel_id", VT_INT, 1, U32MAX),
	X("session_id", VT_INT, 1, U32MAX),
	X("peer_session_id", VT_INT, 1, U32MAX),
	X("cookie", VT_HEX, 0, 0),
	X("peer_cookie", VT_HEX, 0, 0),
	{ .name = "l2spec_type", .vt = VT_ENUM, .enums = l2spec_types },
	X("recv_seq", VT_BOOL, 0, 1),
	X("send_seq", VT_BOOL, 0, 1),
	END,
};

static const struct kparam p_wireguard[] = {
	X("private_key", VT_KEY, 0, 0),
	X("listen_port", VT_INT, 0, U16MAX),
	X("fwmark", VT_INT, 0, U32MAX),
	X("peers", VT_ARRAY, 0, 0),
	END,
};

static const struct kparam p_none[] = { END };

static const struct kparam p_vrf[] = {
	L_U32("table", rtnl_link_vrf_set_tableid, 1, U32MAX),
	END,
};

static const struct kparam p_tun[] = {
	X("owner", VT_INT, 0, U32MAX - 1),
	X("group", VT_INT, 0, U32MAX - 1),
	X("multi_queue", VT_BOOL, 0, 1),
	X("vnet_hdr", VT_BOOL, 0, 1),
	X("pi", VT_BOOL, 0, 1),
	END,
};

static const char *const req_realdev[] = { "realdev", NULL };
static const char *const req_vlan[] = { "realdev", "vlan_id", NULL };
static const char *const req_remote[] = { "remote", NULL };
static const char *const req_tunnel[] = { "local", "remote", NULL };
static const char *const req_l2tp[] = { "tunnel_id", "session_id", "peer_session_id", NULL };
static const char *const req_vrf[] = { "table", NULL };

static const struct kind kinds[] = {
	{ "veth", "veth", "t_veth", KIND_NEWLINK, rtnl_link_veth_alloc, p_veth, NULL, NULL, "{}" },
	{ "bridge", "bridge", "t_br", KIND_NEWLINK, NULL, p_bridge, NULL, NULL, "{}" },
	{ "bond", "bond", "t_bond", KIND_NEWLINK, NULL, p_bond, NULL, NULL, "{}" },
	{ "team", "team", "t_team", KIND_TEAMD, NULL, p_team, NULL, check_team, "{}" },
	{ "vlan", "vlan", "t_vlan", KIND_NEWLINK, rtnl_link_vlan_alloc, p_vlan, req_vlan, NULL,
	  "{\"realdev\":\"@\",\"vlan_id\":1}" },
	{ "macvlan", "macvlan", "t_macvlan", KIND_NEWLINK, rtnl_link_macvlan_alloc, p_macvlan, req_realdev,
	  NULL, "{\"realdev\":\"@\"}" },
	{ "macvtap", "macvtap", "t_macvtap", KIND_NEWLINK, rtnl_link_macvtap_alloc, p_macvtap, req_realdev,
	  NULL, "{\"realdev\":\"@\"}" },
	{ "ipvlan", "ipvlan", "t_ipvlan", KIND_NEWLINK, rtnl_link_ipvlan_alloc, p_ipvlan, req_realdev, NULL,
	  "{\"realdev\":\"@\"}" },
	{ "vxlan", "vxlan", "t_vxlan", KIND_NEWLINK, NULL, p_vxlan, NULL, check_vxlan,
	  "{\"vxlan_id\":1,\"remote\":\"203.0.113.1\"}" },
	{ "geneve", "geneve", "t_gnv", KIND_NEWLINK, NULL, p_geneve, NULL, check_geneve,
	  "{\"id\":1,\"remote\":\"203.0.113.1\"}" },
	{ "gre", "gre", "t_gre", KIND_NEWLINK, NULL, p_gre, NULL, check_gre, "{\"remote\":\"203.0.113.1\"}" },
	{ "gretap", "gretap", "t_gretap", KIND_NEWLINK, NULL, p_gre, NULL, check_gre,
	  "{\"remote\":\"203.0.113.1\"}" },
	{ "ip6gre", "ip6gre", "t_ip6gre", KIND_NEWLINK, rtnl_link_ip6gre_alloc, p_ip6gre, req_remote,
	  check_keys, "{\"remote\":\"2001:db8::1\"}" },
	{ "ipip", "ipip", "t_ipip", KIND_NEWLINK, NULL, p_ipip, NULL, check_ipip,
	  "{\"local\":\"203.0.113.2\",\"remote\":\"203.0.113.1\"}" },
	{ "sit", "sit", "t_sit", KIND_NEWLINK, rtnl_link_sit_alloc, p_sit, req_tunnel, NULL,
	  "{\"local\":\"203.0.113.2\",\"remote\":\"203.0.113.1\"}" },
	{ "ip6tnl", "ip6tnl", "t_ip6tnl", KIND_NEWLINK, rtnl_link_ip6_tnl_alloc, p_ip6tnl, req_tunnel, NULL,
	  "{\"local\":\"2001:db8::2\",\"remote\":\"2001:db8::1\"}" },
	{ "vti", "vti", "t_vti", KIND_NEWLINK, rtnl_link_ipvti_alloc, p_vti, NULL, check_vti,
	  "{\"remote\":\"203.0.113.1\"}" },
	{ "vti6", "vti6", "t_ip6vti", KIND_NEWLINK, rtnl_link_ip6vti_alloc, p_vti6, NULL, check_vti,
	  "{\"remote\":\"2001:db8::1\"}" },
	{ "macsec", "macsec", "t_macsec", KIND_NEWLINK, rtnl_link_macsec_alloc, p_macsec, req_realdev, check_macsec,
	  "{\"realdev\":\"@\"}" },
	{ "l2tp", "l2tp", "t_l2tp", KIND_L2TP, NULL, p_l2tp, req_l2tp, NULL, NULL },
	{ "wireguard", "wireguard", "t_wg", KIND_WIREGUARD, NULL, p_wireguard, NULL, check_wg_peers, "{}" },
	{ "dummy", "dummy", "t_dummy", KIND_NEWLINK, NULL, p_none, NULL, NULL, "{}" },
	{ "vrf", "vrf", "t_vrf", KIND_NEWLINK, rtnl_link_vrf_alloc, p_vrf, req_vrf, NULL, "{\"table\":10}" },
	{ "tun", "tun", "t_tun", KIND_TUN, NULL, p_tun, NULL, NULL, "{}" },
	{ "tap", "tun", "t_tap", KIND_TUN, NULL, p_tun, NULL, NULL, "{}" },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct kind *kinds_find(const char *name)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

size_t kinds_count(void)
{
	return NKINDS;
}

const struct kind *kinds_at(size_t i)
{
	return i < NKINDS ? &kinds[i] : NULL;
}

const char *kind_name(const struct kind *k)
{
	return k->name;
}

const char *kind_ifkind(const struct kind *k)
{
	return k->ifkind;
}

const char *kind_template(const struct kind *k)
{
	return k->tmpl;
}

enum kind_how kind_how(const struct kind *k)
{
	return k->how;
}

static const char *const generic_params[] = { "hwaddr", "master", "mtu", NULL };

void kind_param_names(const struct kind *k, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (const char *const *g = generic_params; *g; g++)
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", o ? ", " : "", *g);
	for (const struct kparam *p = k->params; p->name; p++)
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, ", %s", p->name);
}

/* ---- parsing ---------------------------------------------------------------- */

int kinds_valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -EINVAL;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return -EINVAL;
	return 0;
}

int kinds_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static const struct kparam *param_of(const struct kind *k, const char *name, int *idx)
{
	for (int i = 0; k->params[i].name; i++) {
		if (strcmp(k->params[i].name, name) == 0) {
			*idx = i;
			return &k->params[i];
		}
	}
	return NULL;
}

const struct kval *kinds_value(const struct kreq *r, const char *name)
{
	int i;
	const struct kparam *p = param_of(r->kind, name, &i);
	return p && r->v[i].set ? &r->v[i] : NULL;
}

static void enum_names(const struct kenum *e, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (; e->name; e++)
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", o ? ", " : "", e->name);
}

/* The JSON value as a 64-bit integer; -EINVAL when it is not an integer. */
static int json_int(const cJSON *j, int64_t *out)
{
	if (!cJSON_IsNumber(j))
		return -EINVAL;
	double d = j->valuedouble;
	if (d != (double)(int64_t)d || d < -9007199254740992.0 || d > 9007199254740992.0)
		return -EINVAL;
	*out = (int64_t)d;
	return 0;
}

static int parse_ip(const char *s, int want, struct kval *v)
{
	if (want != AF_INET6 && inet_pton(AF_INET, s, v->addr) == 1) {
		v->family = AF_INET;
		return 0;
	}
	if (want != AF_INET && inet_pton(AF_INET6, s, v->addr) == 1) {
		v->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int parse_hex(const char *s, struct kval *v)
{
	size_t n = strlen(s);
	if (n != 8 && n != 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		unsigned b;
		char pair[3] = { s[i], s[i + 1], 0 };
		char *end;
		if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1]))
			return -EINVAL;
		b = (unsigned)strtoul(pair, &end, 16);
		v->addr[i / 2] = (uint8_t)b;
	}
	v->n = (int)n / 2;
	return 0;
}

/* Parses one value. On error writes "must be ..." (what was expected). */
static int parse_value(const struct kparam *p, const cJSON *j, struct kval *v, char *what, size_t wn)
{
	int64_t i;
	char names[256];
	switch (p->vt) {
	case VT_INT:
		if (json_int(j, &i) || i < p->min || i > p->max) {
			snprintf(what, wn, "must be an integer between %lld and %lld", (long long)p->min,
				 (long long)p->max);
			return -EINVAL;
		}
		v->i = i;
		return 0;
	case VT_BOOL:
		if (cJSON_IsBool(j)) {
			v->i = cJSON_IsTrue(j);
			return 0;
		}
		if (!json_int(j, &i) && (i == 0 || i == 1)) {
			v->i = i;
			return 0;
		}
		snprintf(what, wn, "must be a boolean (true/false, or 1/0)");
		return -EINVAL;
	case VT_ENUM:
		if (cJSON_IsString(j)) {
			for (const struct kenum *e = p->enums; e->name; e++) {
				if (strcmp(e->name, j->valuestring) == 0) {
					v->i = e->value;
					return 0;
				}
			}
		} else if (!json_int(j, &i)) {
			for (const struct kenum *e = p->enums; e->name; e++) {
				if (e->value == i) {
					v->i = i;
					return 0;
				}
			}
		}
		enum_names(p->enums, names, sizeof(names));
		snprintf(what, wn, "must be one of %s", names);
		return -EINVAL;
	case VT_IP4:
	case VT_IP6:
	case VT_IP: {
		int fam = p->vt == VT_IP4 ? AF_INET : p->vt == VT_IP6 ? AF_INET6 : 0;
		if (!cJSON_IsString(j) || parse_ip(j->valuestring, fam, v)) {
			snprintf(what, wn, "must be an %s address", fam == AF_INET ? "IPv4" : fam == AF_INET6 ? "IPv6" : "IPv4 or IPv6");
			return -EINVAL;
		}
		return 0;
	}
	case VT_MAC:
		if (!cJSON_IsString(j) || kinds_parse_mac(j->valuestring, v->addr)) {
			snprintf(what, wn, "must be a MAC address like 02:00:00:00:00:01");
			return -EINVAL;
		}
		return 0;
	case VT_DEV:
		if (json_int(j, &i) || i < 1 || i > S32MAX) {
			snprintf(what, wn, "must be a device (an ifindex on this host)");
			return -EINVAL;
		}
		v->i = i;
		return 0;
	case VT_IFNAME:
		if (!cJSON_IsString(j) || kinds_valid_ifname(j->valuestring)) {
			snprintf(what, wn, "must be an interface name (1 to %d characters, no '/', ':' or spaces)",
				 IFNAMSIZ - 1);
			return -EINVAL;
		}
		v->s = j->valuestring;
		return 0;
	case VT_IP4LIST:
	case VT_IP6LIST: {
		int fam = p->vt == VT_IP4LIST ? AF_INET : AF_INET6;
		const cJSON *it;
		v->n = 0;
		if (cJSON_IsArray(j)) {
			cJSON_ArrayForEach(it, j) {
				struct kval one = { 0 };
				if (v->n == KINDS_MAX_LIST || !cJSON_IsString(it) || parse_ip(it->valuestring, fam, &one))
					goto bad_list;
				memcpy(v->list[v->n++], one.addr, 16);
			}
			v->family = fam;
			return 0;
		}
bad_list:
		snprintf(what, wn, "must be a list of at most %d %s addresses", KINDS_MAX_LIST,
			 fam == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	case VT_U64:
		if (cJSON_IsString(j)) {
			char *end;
			errno = 0;
			unsigned long long u = strtoull(j->valuestring, &end, 0);
			if (j->valuestring[0] && !*end && !errno && j->valuestring[0] != '-') {
				v->u64 = u;
				return 0;
			}
		} else if (!json_int(j, &i) && i >= 0) {
			v->u64 = (uint64_t)i;
			return 0;
		}
		snprintf(what, wn, "must be a 64-bit unsigned integer (a number or a \"0x...\" string)");
		return -EINVAL;
	case VT_KEY:
		if (!cJSON_IsString(j) || parse_key(j->valuestring, v->addr)) {
			snprintf(what, wn, "must be a base64 key of 32 bytes (as `wg genkey` prints)");
			return -EINVAL;
		}
		return 0;
	case VT_HEX:
		if (!cJSON_IsString(j) || parse_hex(j->valuestring, v)) {
			snprintf(what, wn, "must be 8 or 16 hexadecimal digits (4 or 8 bytes)");
			return -EINVAL;
		}
		return 0;
	case VT_OBJECT:
		if (!cJSON_IsObject(j)) {
			snprintf(what, wn, "must be a table with named fields");
			return -EINVAL;
		}
		v->json = j;
		return 0;
	case VT_ARRAY:
		if (!cJSON_IsArray(j)) {
			snprintf(what, wn, "must be a list");
			return -EINVAL;
		}
		v->json = j;
		return 0;
	}
	return -EINVAL;
}

int kinds_parse(const struct kind *k, const char *name, const cJSON *params, struct kreq *r,
		char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
	snprintf(r->name, sizeof(r->name), "%s", name);
	int n = snprintf(err, errlen, "%s %s: ", k->name, name);
	char *e = err + (n > 0 && (size_t)n < errlen ? n : 0);
	size_t en = errlen - (size_t)(e - err);
	const cJSON *it;
	cJSON_ArrayForEach(it, params) {
		const char *key = it->string;
		char what[300];
		if (strcmp(key, "kind") == 0 || strcmp(key, "name") == 0)
			continue;
		if (strcmp(key, "mtu") == 0) {
			int64_t i;
			if (json_int(it, &i) || i < 1 || i > S32MAX) {
				snprintf(e, en, "parameter 'mtu' must be a positive integer");
				return -EINVAL;
			}
			r->mtu = (int)i;
			continue;
		}
		if (strcmp(key, "hwaddr") == 0) {
			if (!cJSON_IsString(it) || kinds_parse_mac(it->valuestring, r->hwaddr)) {
				snprintf(e, en, "parameter 'hwaddr' must be a MAC address like 02:00:00:00:00:01");
				return -EINVAL;
			}
			r->has_hwaddr = 1;
			continue;
		}
		if (strcmp(key, "master") == 0) {
			int64_t i;
			if (json_int(it, &i) || i < 1 || i > S32MAX) {
				snprintf(e, en, "parameter 'master' must be a device (an ifindex on this host)");
				return -EINVAL;
			}
			r->master = (int)i;
			continue;
		}
		int idx;
		const struct kparam *p = param_of(k, key, &idx);
		if (!p) {
			char names[1024];
			kind_param_names(k, names, sizeof(names));
			snprintf(e, en, "unknown parameter '%s' (known: %s)", key, names);
			return -EINVAL;
		}
		if (parse_value(p, it, &r->v[idx], what, sizeof(what))) {
			char *shown = cJSON_PrintUnformatted(it);
			snprintf(e, en, "parameter '%s' %s, got %.60s", key, what, shown ? shown : "?");
			free(shown);
			return -EINVAL;
		}
		r->v[idx].set = 1;
	}
	for (const char *const *q = k->required; q && *q; q++) {
		if (!kinds_value(r, *q)) {
			snprintf(e, en, "missing mandatory parameter '%s'", *q);
			return -EINVAL;
		}
	}
	if (k->check && k->check(r, e, en))
		return -EINVAL;
	if (strcmp(k->name, "veth") == 0) {
		const struct kval *pn = kinds_value(r, "peer_name");
		if (pn) {
			snprintf(r->peer_name, sizeof(r->peer_name), "%s", pn->s);
		} else if (strlen(name) + 5 < IFNAMSIZ) {
			snprintf(r->peer_name, sizeof(r->peer_name), "peer_%s", name);
		} else {
			snprintf(e, en, "the default peer name 'peer_%s' is longer than %d characters: give 'peer_name'",
				 name, IFNAMSIZ - 1);
			return -EINVAL;
		}
		if (strcmp(r->peer_name, r->name) == 0) {
			snprintf(e, en, "'peer_name' must differ from the device's name");
			return -EINVAL;
		}
	}
	err[0] = 0;
	return 0;
}

int kinds_refs(const struct kreq *r, struct kref *refs, int max)
{
	int n = 0;
	if (r->master && n < max)
		refs[n++] = (struct kref){ "master", r->master };
	for (int i = 0; r->kind->params[i].name && n < max; i++)
		if (r->kind->params[i].vt == VT_DEV && r->v[i].set)
			refs[n++] = (struct kref){ r->kind->params[i].name, (int)r->v[i].i };
	return n;
}

/* ---- building ---------------------------------------------------------------- */

static int put_raw(struct nl_msg *m, const struct kparam *p, const struct kval *v)
{
	switch (p->wire) {
	case W_U8: return nla_put_u8(m, p->attr, (uint8_t)v->i);
	case W_U16: return nla_put_u16(m, p->attr, (uint16_t)v->i);
	case W_U32: return nla_put_u32(m, p->attr, (uint32_t)v->i);
	case W_BE16: return nla_put_u16(m, p->attr, htons((uint16_t)v->i));
	case W_BE32: return nla_put_u32(m, p->attr, htonl((uint32_t)v->i));
	case W_FLAG: return v->i ? nla_put_flag(m, p->attr) : 0;
	case W_MAC: return nla_put(m, p->attr, 6, v->addr);
	case W_ADDR:
		return v->family == AF_INET ? nla_put(m, p->attr, 4, v->addr) : nla_put(m, p->attr6, 16, v->addr);
	case W_LIST: {
		struct nlattr *l = nla_nest_start(m, p->attr);
		if (!l)
			return -ENOMEM;
		for (int i = 0; i < v->n; i++)
			if (nla_put(m, i, v->family == AF_INET ? 4 : 16, v->list[i]) < 0)
				return -ENOMEM;
		nla_nest_end(m, l);
		return 0;
	}
	}
	return 0;
}

static int set_libnl(struct rtnl_link *l, const struct kparam *p, const struct kval *v)
{
	switch (p->ls) {
	case LS_U8: return p->set.u8(l, (uint8_t)v->i);
	case LS_U16: return p->set.u16(l, (uint16_t)v->i);
	case LS_U32: return p->set.u32(l, (uint32_t)v->i);
	case LS_U64: return p->set.u64(l, p->vt == VT_U64 ? v->u64 : (uint64_t)v->i);
	case LS_IN4: {
		uint32_t a;
		memcpy(&a, v->addr, 4);
		return p->set.u32(l, a);
	}
	case LS_IN6: {
		struct in6_addr a;
		memcpy(&a, v->addr, 16);
		return p->set.in6(l, &a);
	}
	case LS_NLADDR: {
		struct nl_addr *a = nl_addr_build(v->family, v->addr, v->family == AF_INET ? 4 : 16);
		if (!a)
			return -ENOMEM;
		int err = p->set.nladdr(l, a);
		nl_addr_put(a);
		return err;
	}
	case LS_FN: return p->set.fn(l, v);
	}
	return 0;
}

int kinds_newlink(const struct kreq *r, struct nl_msg **out)
{
	const struct kind *k = r->kind;
	*out = NULL;
	if (k->how != KIND_NEWLINK && k->how != KIND_WIREGUARD)
		return -EINVAL;
	struct rtnl_link *l = k->alloc ? k->alloc() : rtnl_link_alloc();
	struct nl_msg *m = NULL;
	int err = -ENOMEM;
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, r->name);
	if (r->mtu)
		rtnl_link_set_mtu(l, (unsigned)r->mtu);
	if (r->master)
		rtnl_link_set_master(l, r->master);
	if (r->has_hwaddr) {
		struct nl_addr *a = nl_addr_build(AF_LLC, r->hwaddr, 6);
		if (!a)
			goto out;
		rtnl_link_set_addr(l, a);
		nl_addr_put(a);
	}
	if (strcmp(k->name, "veth") == 0) {
		struct rtnl_link *peer = rtnl_link_veth_get_peer(l); /* a reference of ours */
		rtnl_link_set_name(peer, r->peer_name);
		rtnl_link_put(peer);
	}
	if (k->alloc) {
		for (int i = 0; k->params[i].name; i++) {
			if (r->v[i].set && k->params[i].ls && k->params[i].ls != LS_PUT &&
			    set_libnl(l, &k->params[i], &r->v[i]) < 0) {
				err = -EINVAL;
				goto out;
			}
		}
	}
	if (rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &m) < 0)
		goto out;
	if (!k->alloc) {
		/* Raw kinds: IFLA_LINKINFO { KIND, DATA { ... } } after libnl's part. */
		struct nlattr *li = nla_nest_start(m, IFLA_LINKINFO);
		if (!li || nla_put_string(m, IFLA_INFO_KIND, k->ifkind) < 0)
			goto out;
		struct nlattr *data = NULL;
		for (int i = 0; k->params[i].name; i++) {
			const struct kparam *p = &k->params[i];
			if (!r->v[i].set || (!p->wire && p->ls != LS_PUT))
				continue;
			if (!data && !(data = nla_nest_start(m, IFLA_INFO_DATA)))
				goto out;
			if ((p->ls == LS_PUT ? p->set.put(m, &r->v[i]) : put_raw(m, p, &r->v[i])) < 0)
				goto out;
		}
		if (data)
			nla_nest_end(m, data);
		nla_nest_end(m, li);
	}
	*out = m;
	m = NULL;
	err = 0;
out:
	nlmsg_free(m);
	rtnl_link_put(l);
	return err;
}

static struct nl_msg *genl_msg(int family, int cmd, int version)
{
	struct nl_msg *m = nlmsg_alloc();
	if (m && !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_REQUEST | NLM_F_ACK,
			      (uint8_t)cmd, (uint8_t)version)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

int kinds_wg_msg(const struct kreq *r, int family, int ifindex, struct nl_msg **out)
{
	const struct kval *key = kinds_value(r, "private_key"), *port = kinds_value(r, "listen_port"),
			  *mark = kinds_value(r, "fwmark"), *peers = kinds_value(r, "peers");
	*out = NULL;
	if (!key && !port && !mark && !peers)
		return 0;
	struct nl_msg *m = genl_msg(family, WG_CMD_SET_DEVICE, WG_GENL_VERSION);
	if (!m)
		return -ENOMEM;
	if (nla_put_u32(m, WGDEVICE_A_IFINDEX, (uint32_t)ifindex) < 0 ||
	    (key && nla_put(m, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, key->addr) < 0) ||
	    (port && nla_put_u16(m, WGDEVICE_A_LISTEN_PORT, (uint16_t)port->i) < 0) ||
	    (mark && nla_put_u32(m, WGDEVICE_A_FWMARK, (uint32_t)mark->i) < 0))
		goto fail;
	if (peers) {
		struct nlattr *ps = nla_nest_start(m, WGDEVICE_A_PEERS);
		int pi = 0;
		const cJSON *peer;
		if (!ps)
			goto fail;
		cJSON_ArrayForEach(peer, peers->json) {
			uint8_t k[32];
			struct nlattr *pn = nla_nest_start(m, pi++);
			const cJSON *pk = cJSON_GetObjectItemCaseSensitive(peer, "public_key");
			const cJSON *psk = cJSON_GetObjectItemCaseSensitive(peer, "preshared_key");
			const cJSON *ep = cJSON_GetObjectItemCaseSensitive(peer, "endpoint");
			const cJSON *ka = cJSON_GetObjectItemCaseSensitive(peer, "persistent_keepalive");
			const cJSON *ips = cJSON_GetObjectItemCaseSensitive(peer, "allowed_ips");
			if (!pn || parse_key(pk->valuestring, k) || nla_put(m, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, k) < 0)
				goto fail;
			if (psk && (parse_key(psk->valuestring, k) ||
				    nla_put(m, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, k) < 0))
				goto fail;
			if (ep) {
				struct sockaddr_storage ss;
				socklen_t sl;
				if (parse_endpoint(ep->valuestring, &ss, &sl) ||
				    nla_put(m, WGPEER_A_ENDPOINT, (int)sl, &ss) < 0)
					goto fail;
			}
			if (ka && nla_put_u16(m, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, (uint16_t)ka->valueint) < 0)
				goto fail;
			if (ips) {
				struct nlattr *al = nla_nest_start(m, WGPEER_A_ALLOWEDIPS);
				int ai = 0;
				const cJSON *ip;
				if (!al)
					goto fail;
				cJSON_ArrayForEach(ip, ips) {
					int fam, pfx;
					uint8_t a[16];
					struct nlattr *one = nla_nest_start(m, ai++);
					if (!one || parse_cidr(ip->valuestring, &fam, a, &pfx) ||
					    nla_put_u16(m, WGALLOWEDIP_A_FAMILY, (uint16_t)fam) < 0 ||
					    nla_put(m, WGALLOWEDIP_A_IPADDR, fam == AF_INET ? 4 : 16, a) < 0 ||
					    nla_put_u8(m, WGALLOWEDIP_A_CIDR_MASK, (uint8_t)pfx) < 0)
						goto fail;
					nla_nest_end(m, one);
				}
				nla_nest_end(m, al);
			}
			nla_nest_end(m, pn);
		}
		nla_nest_end(m, ps);
	}
	*out = m;
	return 0;
fail:
	nlmsg_free(m);
	return -ENOMEM;
}

int kinds_teamd_argv(const struct kreq *r, const char **argv, char **config)
{
	const struct kval *c = kinds_value(r, "config"), *dbus = kinds_value(r, "dbus");
	cJSON *cfg = c ? cJSON_Duplicate(c->json, 1) : cJSON_CreateObject();
	if (!cfg)
		return -ENOMEM;
	if (!cJSON_GetObjectItemCaseSensitive(cfg, "device"))
		cJSON_AddStringToObject(cfg, "device", r->name);
	if (!cJSON_GetObjectItemCaseSensitive(cfg, "runner")) {
		cJSON *runner = cJSON_AddObjectToObject(cfg, "runner");
		cJSON_AddStringToObject(runner, "name", "roundrobin");
	}
	*config = cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	if (!*config)
		return -ENOMEM;
	int n = 0;
	argv[n++] = "teamd";
	argv[n++] = "-c";
	argv[n++] = *config;
	argv[n++] = "-t";
	argv[n++] = r->name;
	if (dbus && dbus->i)
		argv[n++] = "-D";
	argv[n] = NULL;
	return 0;
}

int kinds_tun(const struct kreq *r, struct kinds_tun *t)
{
	const struct kval *v;
	t->flags = strcmp(r->kind->name, "tap") == 0 ? IFF_TAP : IFF_TUN;
	v = kinds_value(r, "pi");
	if (!v || !v->i)
		t->flags |= IFF_NO_PI;
	if ((v = kinds_value(r, "multi_queue")) && v->i)
		t->flags |= IFF_MULTI_QUEUE;
	if ((v = kinds_value(r, "vnet_hdr")) && v->i)
		t->flags |= IFF_VNET_HDR;
	v = kinds_value(r, "owner");
	t->owner = v ? (long)v->i : -1;
	v = kinds_value(r, "group");
	t->group = v ? (long)v->i : -1;
	return 0;
}

int kinds_l2tp_session_msg(const struct kreq *r, int family, struct nl_msg **out)
{
	const struct kval *v;
	struct nl_msg *m = genl_msg(family, L2TP_CMD_SESSION_CREATE, L2TP_GENL_VERSION);
	*out = NULL;
	if (!m)
		return -ENOMEM;
	if (nla_put_u32(m, L2TP_ATTR_CONN_ID, (uint32_t)kinds_value(r, "tunnel_id")->i) < 0 ||
	    nla_put_u32(m, L2TP_ATTR_SESSION_ID, (uint32_t)kinds_value(r, "session_id")->i) < 0 ||
	    nla_put_u32(m, L2TP_ATTR_PEER_SESSION_ID, (uint32_t)kinds_value(r, "peer_session_id")->i) < 0 ||
	    nla_put_u16(m, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH) < 0 ||
	    nla_put_string(m, L2TP_ATTR_IFNAME, r->name) < 0)
		goto fail;
	if ((v = kinds_value(r, "cookie")) && nla_put(m, L2TP_ATTR_COOKIE, v->n, v->addr) < 0)
		goto fail;
	if ((v = kinds_value(r, "peer_cookie")) && nla_put(m, L2TP_ATTR_PEER_COOKIE, v->n, v->addr) < 0)
		goto fail;
	if ((v = kinds_value(r, "l2spec_type")) && nla_put_u8(m, L2TP_ATTR_L2SPEC_TYPE, (uint8_t)v->i) < 0)
		goto fail;
	if ((v = kinds_value(r, "recv_seq")) && nla_put_u8(m, L2TP_ATTR_RECV_SEQ, (uint8_t)v->i) < 0)
		goto fail;
	if ((v = kinds_value(r, "send_seq")) && nla_put_u8(m, L2TP_ATTR_SEND_SEQ, (uint8_t)v->i) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	nlmsg_free(m);
	return -ENOMEM;
}

/* The tunnel is not a device: its parameters are checked here, with the
 * same value rules as device parameters. */
static const struct kenum l2tp_encaps[] = { { "udp", L2TP_ENCAPTYPE_UDP }, { "ip", L2TP_ENCAPTYPE_IP }, { 0 } };
static const struct kparam p_l2tp_tunnel[] = {
	X("tunnel_id", VT_INT, 1, U32MAX),
	X("peer_tunnel_id", VT_INT, 1, U32MAX),
	{ .name = "encap", .vt = VT_ENUM, .enums = l2tp_encaps },
	X("local", VT_IP, 0, 0),
	X("remote", VT_IP, 0, 0),
	X("udp_sport", VT_INT, 1, U16MAX),
	X("udp_dport", VT_INT, 1, U16MAX),
	X("udp_csum", VT_BOOL, 0, 1),
	X("version", VT_INT, 2, 3),
	END,
};
static const struct kind l2tp_tunnel = { "l2tp_tunnel", NULL, NULL, KIND_L2TP, NULL, p_l2tp_tunnel,
					 NULL, NULL, NULL };

int kinds_l2tp_tunnel_msg(const cJSON *params, int family, struct nl_msg **out, uint32_t *tunnel_id,
			  char *err, size_t errlen)
{
	static const char *const req[] = { "tunnel_id", "peer_tunnel_id", "local", "remote", NULL };
	struct kreq *r = malloc(sizeof(*r));
	int rc = -EINVAL;
	*out = NULL;
	if (!r)
		return -ENOMEM;
	const cJSON *tid = cJSON_GetObjectItemCaseSensitive(params, "tunnel_id");
	char name[32];
	snprintf(name, sizeof(name), "%.0f", cJSON_IsNumber(tid) ? tid->valuedouble : 0.0);
	if (kinds_parse(&l2tp_tunnel, name, params, r, err, errlen))
		goto out;
	if (r->mtu || r->master || r->has_hwaddr) {
		snprintf(err, errlen, "l2tp_tunnel %s: mtu, hwaddr and master belong to sessions, not tunnels", name);
		goto out;
	}
	for (const char *const *q = req; *q; q++) {
		if (!kinds_value(r, *q)) {
			snprintf(err, errlen, "l2tp_tunnel %s: missing mandatory parameter '%s'", name, *q);
			goto out;
		}
	}
	const struct kval *loc = kinds_value(r, "local"), *rem = kinds_value(r, "remote"),
			  *enc = kinds_value(r, "encap"), *ver = kinds_value(r, "version"), *v;
	int udp = !enc || enc->i == L2TP_ENCAPTYPE_UDP;
	if (loc->family != rem->family) {
		snprintf(err, errlen, "l2tp_tunnel %s: 'local' and 'remote' must be of the same address family", name);
		goto out;
	}
	if (udp && (!kinds_value(r, "udp_sport") || !kinds_value(r, "udp_dport"))) {
		snprintf(err, errlen, "l2tp_tunnel %s: encap 'udp' needs 'udp_sport' and 'udp_dport'", name);
		goto out;
	}
	rc = -ENOMEM;
	struct nl_msg *m = genl_msg(family, L2TP_CMD_TUNNEL_CREATE, L2TP_GENL_VERSION);
	if (!m)
		goto out;
	*tunnel_id = (uint32_t)kinds_value(r, "tunnel_id")->i;
	int v4 = loc->family == AF_INET;
	if (nla_put_u32(m, L2TP_ATTR_CONN_ID, *tunnel_id) < 0 ||
	    nla_put_u32(m, L2TP_ATTR_PEER_CONN_ID, (uint32_t)kinds_value(r, "peer_tunnel_id")->i) < 0 ||
	    nla_put_u8(m, L2TP_ATTR_PROTO_VERSION, (uint8_t)(ver ? ver->i : 3)) < 0 ||
	    nla_put_u16(m, L2TP_ATTR_ENCAP_TYPE, udp ? L2TP_ENCAPTYPE_UDP : L2TP_ENCAPTYPE_IP) < 0 ||
	    nla_put(m, v4 ? L2TP_ATTR_IP_SADDR : L2TP_ATTR_IP6_SADDR, v4 ? 4 : 16, loc->addr) < 0 ||
	    nla_put(m, v4 ? L2TP_ATTR_IP_DADDR : L2TP_ATTR_IP6_DADDR, v4 ? 4 : 16, rem->addr) < 0 ||
	    ((v = kinds_value(r, "udp_sport")) && nla_put_u16(m, L2TP_ATTR_UDP_SPORT, (uint16_t)v->i) < 0) ||
	    ((v = kinds_value(r, "udp_dport")) && nla_put_u16(m, L2TP_ATTR_UDP_DPORT, (uint16_t)v->i) < 0) ||
	    ((v = kinds_value(r, "udp_csum")) && nla_put_u8(m, L2TP_ATTR_UDP_CSUM, (uint8_t)v->i) < 0)) {
		nlmsg_free(m);
		goto out;
	}
	*out = m;
	rc = 0;
out:
	free(r);
	return rc;
}

struct nl_msg *kinds_l2tp_tunnel_del_msg(int family, uint32_t tunnel_id)
{
	struct nl_msg *m = genl_msg(family, L2TP_CMD_TUNNEL_DELETE, L2TP_GENL_VERSION);
	if (m && nla_put_u32(m, L2TP_ATTR_CONN_ID, tunnel_id) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *kinds_l2tp_session_del_msg(int family, uint32_t tunnel_id, uint32_t session_id)
{
	struct nl_msg *m = genl_msg(family, L2TP_CMD_SESSION_DELETE, L2TP_GENL_VERSION);
	if (m && (nla_put_u32(m, L2TP_ATTR_CONN_ID, tunnel_id) < 0 ||
		  nla_put_u32(m, L2TP_ATTR_SESSION_ID, session_id) < 0)) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

/* ---- capability probe ----------------------------------------------------------- */

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* A netlink socket whose errors carry the kernel's explanation. */
static struct nl_sock *probe_socket(int proto)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return NULL;
	if ((proto == NETLINK_GENERIC ? genl_connect(sk) : nl_connect(sk, proto)) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	int one = 1, fd = nl_socket_get_fd(sk);
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return sk;
}

/* Sends m (consumed) and waits for its ACK: 0 or -errno, the kernel's
 * explanation (extended ACK) in why. */
static int probe_send(struct nl_sock *sk, struct nl_msg *m, char *why, size_t n)
{
	why[0] = 0;
	struct nlmsghdr *h = nlmsg_hdr(m);
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nl_complete_msg(sk, m);
	uint32_t seq = h->nlmsg_seq;
	int err = nl_send(sk, m);
	nlmsg_free(m);
	if (err < 0)
		return -EIO;
	for (;;) {
		union {
			struct nlmsghdr h;
			char b[8192];
		} buf;
		ssize_t got = recv(nl_socket_get_fd(sk), buf.b, sizeof(buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -EIO;
		int len = (int)got;
		for (struct nlmsghdr *a = &buf.h; nlmsg_ok(a, len); a = nlmsg_next(a, &len)) {
			if (a->nlmsg_seq != seq || a->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = nlmsg_data(a);
			int off = NLMSG_HDRLEN + (int)NLMSG_ALIGN(sizeof(*e));
			struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
			if (e->error && (a->nlmsg_flags & NLM_F_ACK_TLVS) && (int)a->nlmsg_len > off &&
			    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)a + off),
				      (int)a->nlmsg_len - off, NULL) == 0 &&
			    tb[NLMSGERR_ATTR_MSG])
				snprintf(why, n, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
					 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
			return e->error > 0 ? -e->error : e->error;
		}
	}
}

/* "<strerror>: <the kernel's explanation>" for a failed probe step. */
static void probe_why(char *out, size_t n, const char *what, int rc, const char *ext)
{
	snprintf(out, n, "%s%s%s%s%s", what, what[0] ? ": " : "", strerror(rc < 0 ? -rc : EIO), ext[0] ? ": " : "",
		 ext);
}

/* Creates a device of kind k from json, or with change = 1 changes the
 * existing device `name` of that kind (a feature that fails on a new device
 * costs an unregistration, on an existing one nothing). 0, or -errno with
 * why saying what failed. */
static int probe_newlink(struct nl_sock *sk, const struct kind *k, const char *name, int realdev,
			 const char *json, int change, char *why, size_t n)
{
	struct kreq *r = malloc(sizeof(*r));
	char err[256], buf[128], ext[256] = "";
	int rc = -EINVAL;
	if (!r) {
		snprintf(why, n, "out of memory");
		return -ENOMEM;
	}
	/* "@" in the probe params stands for the parent device. */
	const char *at = strchr(json, '@');
	if (at)
		snprintf(buf, sizeof(buf), "%.*s%d%s", (int)(at - json - 1), json, realdev, at + 2);
	else
		snprintf(buf, sizeof(buf), "%s", json);
	cJSON *params = cJSON_Parse(buf);
	struct nl_msg *m = NULL;
	if (!params) {
		snprintf(why, n, "the probe's parameters %s are not JSON", buf);
	} else if ((rc = kinds_parse(k, name, params, r, err, sizeof(err)))) {
		snprintf(why, n, "the probe's parameters were refused: %s", err);
	} else if ((rc = kinds_newlink(r, &m))) {
		probe_why(why, n, "building the RTM_NEWLINK failed", rc, "");
	} else {
		if (change)
			nlmsg_hdr(m)->nlmsg_flags &= (uint16_t)~(NLM_F_CREATE | NLM_F_EXCL);
		if ((rc = probe_send(sk, m, ext, sizeof(ext))))
			probe_why(why, n, "", rc, ext);
	}
	cJSON_Delete(params);
	free(r);
	return rc;
}

static int probe_rawkind(struct nl_sock *sk, const char *ifkind, const char *name, char *why, size_t n)
{
	struct rtnl_link *l = rtnl_link_alloc();
	struct nl_msg *m = NULL;
	char ext[256] = "";
	int rc = -ENOMEM;
	if (!l) {
		snprintf(why, n, "out of memory");
		return rc;
	}
	rtnl_link_set_name(l, name);
	if (rtnl_link_set_type(l, ifkind) == 0 && rtnl_link_build_add_request(l, NLM_F_CREATE | NLM_F_EXCL, &m) == 0)
		rc = probe_send(sk, m, ext, sizeof(ext));
	probe_why(why, n, "", rc, ext);
	rtnl_link_put(l);
	return rc;
}

/* The tun driver answers TUNGETFEATURES without creating a device (one
 * created and closed would wait for an RCU grace period, ~20 ms here). */
static int probe_tun(short flags, char *why, size_t n)
{
	unsigned int features = 0;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		probe_why(why, n, "/dev/net/tun", -errno, "");
		return -1;
	}
	int rc = ioctl(fd, TUNGETFEATURES, &features);
	if (rc < 0)
		probe_why(why, n, "TUNGETFEATURES", -errno, "");
	else if (!(features & (unsigned)flags))
		snprintf(why, n, "the tun driver does not offer %s", flags == IFF_TAP ? "IFF_TAP" : "IFF_TUN");
	close(fd);
	return rc == 0 && (features & (unsigned)flags) ? 0 : -1;
}

static int probe_l2tp(char *why, size_t n)
{
	struct nl_sock *g = probe_socket(NETLINK_GENERIC);
	struct kreq *r = NULL;
	cJSON *tp = NULL, *sp = NULL;
	char err[256], ext[256] = "";
	int rc = -1, fam;
	if (!g || (fam = genl_ctrl_resolve(g, L2TP_GENL_NAME)) < 0) {
		snprintf(why, n, "the %s generic netlink family is not available", L2TP_GENL_NAME);
		goto out;
	}
	tp = cJSON_Parse("{\"tunnel_id\":1,\"peer_tunnel_id\":1,\"local\":\"127.0.0.1\","
			 "\"remote\":\"127.0.0.1\",\"udp_sport\":1701,\"udp_dport\":1701}");
	struct nl_msg *m = NULL;
	uint32_t tid;
	if (!tp || kinds_l2tp_tunnel_msg(tp, fam, &m, &tid, err, sizeof(err))) {
		snprintf(why, n, "the probe's tunnel was refused: %s", tp ? err : "out of memory");
		goto out;
	}
	if ((rc = probe_send(g, m, ext, sizeof(ext)))) {
		probe_why(why, n, "creating an L2TP tunnel", rc, ext);
		goto out;
	}
	sp = cJSON_Parse("{\"tunnel_id\":1,\"session_id\":1,\"peer_session_id\":1}");
	r = malloc(sizeof(*r));
	rc = -1;
	if (!sp || !r || kinds_parse(kinds_find("l2tp"), "p_l2tp", sp, r, err, sizeof(err)) ||
	    kinds_l2tp_session_msg(r, fam, &m)) {
		snprintf(why, n, "the probe's session was refused");
		goto out;
	}
	if ((rc = probe_send(g, m, ext, sizeof(ext))))
		probe_why(why, n, "creating an L2TP session", rc, ext);
out:
	free(r);
	cJSON_Delete(tp);
	cJSON_Delete(sp);
	if (g)
		nl_socket_free(g);
	return rc;
}

static const struct {
	const char *name, *kind, *json;
} features[] = {
	/* CONFIG_BRIDGE_VLAN_FILTERING: bridge VLANs (vlan_filtering, vlan_add).
	 * Tried as a change of the probe's bridge. */
	{ "bridge_vlan_filtering", "bridge", "{\"vlan_filtering\":true}" },
};

size_t kinds_feature_count(void)
{
	return sizeof(features) / sizeof(features[0]);
}

const char *kinds_feature_at(size_t i)
{
	return i < kinds_feature_count() ? features[i].name : NULL;
}

/* A parent for the probe of kind number i: a veth of its own, so that one
 * kind's device on it (a macvlan's rx handler) cannot make another's
 * creation fail (macsec and ipvlan then get EBUSY). Its ifindex, or 0 with
 * why set. */
static int probe_parent(struct nl_sock *sk, size_t i, char *why, size_t n)
{
	char name[IFNAMSIZ], peer[64], ext[256];
	snprintf(name, sizeof(name), "lnpp%zu", i);
	snprintf(peer, sizeof(peer), "{\"peer_name\":\"lnpq%zu\"}", i);
	if (probe_newlink(sk, kinds_find("veth"), name, 0, peer, 0, ext, sizeof(ext))) {
		snprintf(why, n, "its parent veth could not be created: %s", ext);
		return 0;
	}
	return (int)if_nametoindex(name);
}

/* Writes the probe's findings to wfd: the kinds it could create, the
 * features that worked (space-separated lines), then one line
 * "<kind> <reason>" per kind it could not create, then "end". */
static void probe_child(int wfd)
{
	static char out[8192];
	size_t o = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET) < 0)
		_exit(1);
	struct nl_sock *sk = probe_socket(NETLINK_ROUTE);
	if (!sk)
		_exit(1);
	/* lo up, for the L2TP probe's 127.0.0.1 tunnel. */
	struct rtnl_link *lo = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	if (lo && chg) {
		rtnl_link_set_ifindex(lo, 1);
		rtnl_link_set_flags(chg, IFF_UP);
		rtnl_link_change(sk, lo, chg, 0);
	}
	char made[NKINDS] = { 0 };
	static char why[NKINDS][300];
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];
		char name[IFNAMSIZ];
		int ok;
		snprintf(name, sizeof(name), "lnp%zu", i);
		why[i][0] = 0;
		if (k->how == KIND_NEWLINK || k->how == KIND_WIREGUARD) {
			int parent = strchr(k->probe, '@') ? probe_parent(sk, i, why[i], sizeof(why[i])) : 0;
			ok = (!strchr(k->probe, '@') || parent > 0) &&
			     probe_newlink(sk, k, name, parent, k->probe, 0, why[i], sizeof(why[i])) == 0;
		} else if (k->how == KIND_TEAMD) {
			ok = probe_rawkind(sk, k->ifkind, name, why[i], sizeof(why[i])) == 0;
		} else if (k->how == KIND_TUN) {
			ok = probe_tun(strcmp(k->name, "tap") == 0 ? IFF_TAP : IFF_TUN, why[i], sizeof(why[i])) == 0;
		} else {
			ok = probe_l2tp(why[i], sizeof(why[i])) == 0;
		}
		made[i] = ok && (k->how == KIND_NEWLINK || k->how == KIND_WIREGUARD);
		if (ok) {
			why[i][0] = 0;
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", o ? " " : "", k->name);
		} else if (!why[i][0]) {
			snprintf(why[i], sizeof(why[i]), "the probe failed");
		}
	}
	/* Features: what some kernels build without (second line). */
	o += (size_t)snprintf(out + o, sizeof(out) - o, "\n");
	size_t f0 = o;
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct kind *k = kinds_find(features[i].kind);
		size_t ki = (size_t)(k - kinds);
		char name[IFNAMSIZ], fwhy[300];
		snprintf(name, sizeof(name), "lnp%zu", ki);
		if (made[ki] && probe_newlink(sk, k, name, 0, features[i].json, 1, fwhy, sizeof(fwhy)) == 0)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", o > f0 ? " " : "", features[i].name);
	}
	o += (size_t)snprintf(out + o, sizeof(out) - o, "\n");
	for (size_t i = 0; i < NKINDS && o < sizeof(out); i++) {
		if (!why[i][0])
			continue;
		for (char *c = why[i]; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s %s\n", kinds[i].name, why[i]);
	}
	if (o < sizeof(out))
		o += (size_t)snprintf(out + o, sizeof(out) - o, "end\n");
	if (o > sizeof(out) - 1)
		o = sizeof(out) - 1;
	for (size_t w = 0; w < o;) {
		ssize_t n = write(wfd, out + w, o - w);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		w += (size_t)n;
	}
	_exit(0);
}

int kinds_probe_start(pid_t *pid, int *fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t c = fork();
	if (c < 0) {
		int err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (c == 0) {
		/* Nothing of the agent's (its controller socket above all) stays
		 * open in the child: only the pipe's write end. */
		int w = p[1];
		if (w != 3) {
			if (dup2(w, 3) < 0)
				_exit(1);
			w = 3;
		}
		close_range(4, ~0U, 0);
		probe_child(w);
	}
	close(p[1]);
	*pid = c;
	*fd = p[0];
	return 0;
}
