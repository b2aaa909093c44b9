/* rtmsg.c - route, neighbour and rule messages <-> JSON (rtmsg.h). */
#include "rtmsg.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/lwtunnel.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------------- */

struct ipaddr {
	int family;
	uint8_t a[16];
	int plen;
};

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* "198.51.100.1", "2001:db8::/64"; with_prefix = 0 rejects a prefix. */
static int parse_ip(const char *s, struct ipaddr *ip, int with_prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (slash) {
		if (!with_prefix)
			return -EINVAL;
		*slash = 0;
	}
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->a) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip->a) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	int max = alen(ip->family) * 8;
	ip->plen = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || p < 0 || p > max)
			return -EINVAL;
		ip->plen = (int)p;
	}
	return 0;
}

static void ip_str(int family, const void *a, int plen, char *out, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(family, a, buf, sizeof(buf));
	if (plen >= 0)
		snprintf(out, n, "%s/%d", buf, plen);
	else
		snprintf(out, n, "%s", buf);
}

static int bad(char *err, size_t n, const char *fmt, const char *what, const char *key)
{
	snprintf(err, n, fmt, what, key);
	return -EINVAL;
}

static int check_keys(const cJSON *spec, const char *const *known, const char *what, char *err,
		      size_t n)
{
	if (!cJSON_IsObject(spec)) {
		snprintf(err, n, "%s: the description must be an object", what);
		return -EINVAL;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, spec) {
		int ok = 0;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, it->string) == 0;
		if (!ok) {
			size_t o = (size_t)snprintf(err, n, "%s: unknown key '%s' (known:", what, it->string);
			for (const char *const *k = known; *k && o < n; k++)
				o += (size_t)snprintf(err + o, n - o, " %s", *k);
			if (o < n)
				snprintf(err + o, n - o, ")");
			return -EINVAL;
		}
	}
	return 0;
}

/* An optional unsigned integer <= max: 0 absent, 1 present, -EINVAL bad. */
static int get_uint(const cJSON *o, const char *key, double max, uint64_t *out, const char *what,
		    char *err, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    floor(v->valuedouble) != v->valuedouble) {
		snprintf(err, n, "%s: '%s' must be an integer from 0 to %.0f", what, key, max);
		return -EINVAL;
	}
	*out = (uint64_t)v->valuedouble;
	return 1;
}

/* An optional string: NULL absent; *bad set when present but not a string. */
static const char *get_str(const cJSON *o, const char *key, int *bad_type)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad_type = 1;
		return NULL;
	}
	return v->valuestring;
}

/* An optional boolean: 0/1, or -EINVAL. */
static int get_bool(const cJSON *o, const char *key, const char *what, char *err, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsBool(v)) {
		snprintf(err, n, "%s: '%s' must be true or false", what, key);
		return -EINVAL;
	}
	return cJSON_IsTrue(v);
}

struct name_val {
	const char *name;
	int val;
};

static const struct name_val scopes[] = {
	{ "global", RT_SCOPE_UNIVERSE }, { "site", RT_SCOPE_SITE }, { "link", RT_SCOPE_LINK },
	{ "host", RT_SCOPE_HOST },       { "nowhere", RT_SCOPE_NOWHERE }, { NULL, 0 },
};
static const struct name_val types[] = {
	{ "unicast", RTN_UNICAST },       { "local", RTN_LOCAL },         { "broadcast", RTN_BROADCAST },
	{ "anycast", RTN_ANYCAST },       { "multicast", RTN_MULTICAST }, { "blackhole", RTN_BLACKHOLE },
	{ "unreachable", RTN_UNREACHABLE }, { "prohibit", RTN_PROHIBIT }, { "throw", RTN_THROW },
	{ "nat", RTN_NAT },               { NULL, 0 },
};
static const struct name_val protos[] = {
	{ "redirect", RTPROT_REDIRECT }, { "kernel", RTPROT_KERNEL }, { "boot", RTPROT_BOOT },
	{ "static", RTPROT_STATIC },     { "ra", RTPROT_RA },         { "dhcp", RTPROT_DHCP },
	{ NULL, 0 },
};
static const struct name_val nud_states[] = {
	{ "permanent", NUD_PERMANENT }, { "noarp", NUD_NOARP }, { "reachable", NUD_REACHABLE },
	{ "stale", NUD_STALE },         { "delay", NUD_DELAY }, { "probe", NUD_PROBE },
	{ "failed", NUD_FAILED },       { "incomplete", NUD_INCOMPLETE }, { "none", NUD_NONE },
	{ NULL, 0 },
};
static const struct name_val actions[] = {
	{ "lookup", FR_ACT_TO_TBL },     { "nop", FR_ACT_NOP },           { "blackhole", FR_ACT_BLACKHOLE },
	{ "unreachable", FR_ACT_UNREACHABLE }, { "prohibit", FR_ACT_PROHIBIT }, { NULL, 0 },
};

static const char *name_of(const struct name_val *t, int v)
{
	for (; t->name; t++)
		if (t->val == v)
			return t->name;
	return NULL;
}

/* A named value ("link") or, where numbers are allowed, an integer:
 * 0 absent, 1 present, -EINVAL neither. */
static int get_named(const cJSON *o, const char *key, const struct name_val *t, int numeric_max,
		     int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (cJSON_IsString(v)) {
		for (; t->name; t++) {
			if (strcmp(t->name, v->valuestring) == 0) {
				*out = t->val;
				return 1;
			}
		}
	} else if (numeric_max && cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		   v->valuedouble <= numeric_max && floor(v->valuedouble) == v->valuedouble) {
		*out = (int)v->valuedouble;
		return 1;
	}
	return -EINVAL;
}

/* Fills err for get_named failures with the list of names. */
static int named_error(const struct name_val *t, int numeric, const char *what, const char *key,
		       char *err, size_t n)
{
	size_t o = (size_t)snprintf(err, n, "%s: '%s' must be one of", what, key);
	for (; t->name && o < n; t++)
		o += (size_t)snprintf(err + o, n - o, " %s", t->name);
	if (numeric && o < n)
		snprintf(err + o, n - o, " or a number");
	return -EINVAL;
}

static int named(const cJSON *o, const char *key, const struct name_val *t, int numeric_max, int *out,
		 const char *what, char *err, size_t n)
{
	int r = get_named(o, key, t, numeric_max, out);
	if (r < 0)
		return named_error(t, numeric_max, what, key, err, n);
	return r;
}

static int family_of(const cJSON *o, const char *what, int *fam, char *err, size_t n)
{
	int bt = 0;
	const char *f = get_str(o, "family", &bt);
	if (bt || (f && strcmp(f, "ipv4") && strcmp(f, "ipv6"))) {
		snprintf(err, n, "%s: 'family' must be \"ipv4\" or \"ipv6\"", what);
		return -EINVAL;
	}
	if (f)
		*fam = strcmp(f, "ipv4") == 0 ? AF_INET : AF_INET6;
	return 0;
}

/* An address key of the given family (0: any); 0 absent, 1 present. */
static int get_addr(const cJSON *o, const char *key, int with_prefix, struct ipaddr *ip,
		    const char *what, char *err, size_t n)
{
	int bt = 0;
	const char *s = get_str(o, key, &bt);
	if (!s && !bt)
		return 0;
	if (bt || parse_ip(s, ip, with_prefix))
		return bad(err, n,
			   with_prefix ? "%s: '%s' must be an IP address with an optional /prefix"
				       : "%s: '%s' must be an IP address (no prefix)",
			   what, key);
	return 1;
}

static int family_clash(int want, const struct ipaddr *ip, const char *what, const char *key,
			char *err, size_t n)
{
	if (want && ip->family != want) {
		snprintf(err, n, "%s: '%s' is an %s address but the route is %s", what, key,
			 ip->family == AF_INET ? "IPv4" : "IPv6", want == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	return 0;
}

/* ---- routes ----------------------------------------------------------------------- */

static int put_encap(struct nl_msg *m, const cJSON *enc, int route_family, char *err, size_t n)
{
	static const char *const known[] = { "type", "id", "dst", "src", "ttl", "tos", NULL };
	const char *what = "route encap";
	if (check_keys(enc, known, what, err, n))
		return -EINVAL;
	struct ipaddr dst, src;
	int has_dst = get_addr(enc, "dst", 0, &dst, what, err, n);
	if (has_dst < 0)
		return -EINVAL;
	int has_src = get_addr(enc, "src", 0, &src, what, err, n);
	if (has_src < 0)
		return -EINVAL;
	int bt = 0;
	const char *type = get_str(enc, "type", &bt);
	int fam;
	if (bt || (type && strcmp(type, "ip") && strcmp(type, "ip6"))) {
		snprintf(err, n, "%s: 'type' must be \"ip\" or \"ip6\" (lightweight tunnel metadata)", what);
		return -EINVAL;
	}
	if (type)
		fam = strcmp(type, "ip") == 0 ? AF_INET : AF_INET6;
	else
		fam = has_dst ? dst.family : route_family;
	if (!has_dst) {
		snprintf(err, n, "%s: 'dst' (the tunnel's remote address) is required", what);
		return -EINVAL;
	}
	if (family_clash(fam, &dst, what, "dst", err, n) || (has_src && family_clash(fam, &src, what, "src", err, n)))
		return -EINVAL;
	uint64_t id = 0, ttl = 0, tos = 0;
	int has_id = get_uint(enc, "id", 9007199254740991.0, &id, what, err, n);
	int has_ttl = get_uint(enc, "ttl", 255, &ttl, what, err, n);
	int has_tos = get_uint(enc, "tos", 255, &tos, what, err, n);
	if (has_id < 0 || has_ttl < 0 || has_tos < 0)
		return -EINVAL;
	if (nla_put_u16(m, RTA_ENCAP_TYPE, fam == AF_INET ? LWTUNNEL_ENCAP_IP : LWTUNNEL_ENCAP_IP6) < 0)
		return -ENOMEM;
	struct nlattr *nest = nla_nest_start(m, RTA_ENCAP);
	if (!nest)
		return -ENOMEM;
	int r = 0;
	if (has_id)
		r |= nla_put_u64(m, LWTUNNEL_IP_ID, htobe64(id));
	r |= nla_put(m, LWTUNNEL_IP_DST, alen(fam), dst.a);
	if (has_src)
		r |= nla_put(m, LWTUNNEL_IP_SRC, alen(fam), src.a);
	if (has_ttl)
		r |= nla_put_u8(m, LWTUNNEL_IP_TTL, (uint8_t)ttl); /* = LWTUNNEL_IP6_HOPLIMIT */
	if (has_tos)
		r |= nla_put_u8(m, LWTUNNEL_IP_TOS, (uint8_t)tos); /* = LWTUNNEL_IP6_TC */
	if (r < 0)
		return -ENOMEM;
	nla_nest_end(m, nest);
	return 0;
}

static int put_nexthops(struct nl_msg *m, const cJSON *nhs, int family, char *err, size_t n)
{
	static const char *const known[] = { "via", "ifindex", "weight", "onlink", NULL };
	const char *what = "route nexthop";
	if (!cJSON_IsArray(nhs) || cJSON_GetArraySize(nhs) < 1) {
		snprintf(err, n, "route: 'nexthops' must be a non-empty list of {via=, ifindex=, weight=}");
		return -EINVAL;
	}
	struct nlattr *mp = nla_nest_start(m, RTA_MULTIPATH);
	if (!mp)
		return -ENOMEM;
	const cJSON *nh;
	int i = 0;
	cJSON_ArrayForEach(nh, nhs) {
		i++;
		if (check_keys(nh, known, what, err, n))
			return -EINVAL;
		struct ipaddr via;
		int has_via = get_addr(nh, "via", 0, &via, what, err, n);
		uint64_t ifindex = 0, weight = 1;
		int has_if = get_uint(nh, "ifindex", 0x7fffffff, &ifindex, what, err, n);
		int has_w = get_uint(nh, "weight", 256, &weight, what, err, n);
		int onlink = get_bool(nh, "onlink", what, err, n);
		if (has_via < 0 || has_if < 0 || has_w < 0 || onlink < 0)
			return -EINVAL;
		if (!has_via && !has_if) {
			snprintf(err, n, "route nexthop %d: needs 'via' or 'ifindex'", i);
			return -EINVAL;
		}
		if (has_w && weight < 1) {
			snprintf(err, n, "route nexthop %d: 'weight' must be from 1 to 256", i);
			return -EINVAL;
		}
		if (has_via && family_clash(family, &via, what, "via", err, n))
			return -EINVAL;
		struct rtnexthop rtnh = { .rtnh_flags = onlink ? RTNH_F_ONLINK : 0,
					  .rtnh_hops = (unsigned char)(weight - 1),
					  .rtnh_ifindex = (int)ifindex };
		/* The length is patched once the gateway is in. */
		void *slot = nlmsg_reserve(m, sizeof(rtnh), NLMSG_ALIGNTO);
		if (!slot)
			return -ENOMEM;
		size_t start = (size_t)((char *)slot - (char *)nlmsg_hdr(m));
		if (has_via && nla_put(m, RTA_GATEWAY, alen(via.family), via.a) < 0)
			return -ENOMEM;
		rtnh.rtnh_len = (unsigned short)(nlmsg_hdr(m)->nlmsg_len - start);
		memcpy((char *)nlmsg_hdr(m) + start, &rtnh, sizeof(rtnh));
	}
	nla_nest_end(m, mp);
	return 0;
}

int rtmsg_route(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t n)
{
	static const char *const known[] = { "dst",  "family", "via",   "ifindex", "table",
					     "metric", "src",  "scope", "type",    "proto",
					     "onlink", "nexthops", "encap", NULL };
	const char *what = "route";
	int del = type == RTM_DELROUTE;
	if (check_keys(spec, known, what, err, n))
		return -EINVAL;
	int bt = 0, fam = 0;
	const char *dsts = get_str(spec, "dst", &bt);
	if (!dsts || bt) {
		snprintf(err, n, "route: 'dst' is required: a network like \"203.0.113.0/24\" or \"default\"");
		return -EINVAL;
	}
	if (family_of(spec, what, &fam, err, n))
		return -EINVAL;
	struct ipaddr dst = { 0 }, via, src;
	int is_default = strcmp(dsts, "default") == 0;
	if (!is_default && parse_ip(dsts, &dst, 1))
		return bad(err, n, "%s: '%s' must be a network like \"203.0.113.0/24\" or \"default\"", what, "dst");
	int has_via = get_addr(spec, "via", 0, &via, what, err, n);
	int has_src = get_addr(spec, "src", 0, &src, what, err, n);
	if (has_via < 0 || has_src < 0)
		return -EINVAL;
	const cJSON *nhs = cJSON_GetObjectItemCaseSensitive(spec, "nexthops");
	if (is_default) {
		if (!fam && has_via)
			fam = via.family;
		if (!fam && cJSON_IsArray(nhs)) {
			struct ipaddr first;
			int bt2 = 0;
			const char *v = get_str(cJSON_GetArrayItem(nhs, 0), "via", &bt2);
			if (v && !parse_ip(v, &first, 0))
				fam = first.family;
		}
		dst.family = fam ? fam : AF_INET;
		dst.plen = 0;
	} else if (fam && fam != dst.family) {
		snprintf(err, n, "route: 'family' does not match 'dst' %s", dsts);
		return -EINVAL;
	}
	fam = dst.family;
	if ((has_via && family_clash(fam, &via, what, "via", err, n)) ||
	    (has_src && family_clash(fam, &src, what, "src", err, n)))
		return -EINVAL;
	uint64_t ifindex = 0, table = RT_TABLE_MAIN, metric = 0;
	int has_if = get_uint(spec, "ifindex", 0x7fffffff, &ifindex, what, err, n);
	int has_table = get_uint(spec, "table", 4294967295.0, &table, what, err, n);
	int has_metric = get_uint(spec, "metric", 4294967295.0, &metric, what, err, n);
	int onlink = get_bool(spec, "onlink", what, err, n);
	if (has_if < 0 || has_table < 0 || has_metric < 0 || onlink < 0)
		return -EINVAL;
	if (has_table && table == 0) {
		snprintf(err, n, "route: 'table' must be from 1 to 4294967295 (254 is main)");
		return -EINVAL;
	}
	if (nhs && (has_via || has_if)) {
		snprintf(err, n, "route: give either 'nexthops' or 'via'/'ifindex', not both");
		return -EINVAL;
	}
	int rtype = del ? 0 : RTN_UNICAST, scope, proto = del ? 0 : RTPROT_BOOT;
	if (named(spec, "type", types, 0, &rtype, what, err, n) < 0 ||
	    named(spec, "proto", protos, 255, &proto, what, err, n) < 0)
		return -EINVAL;
	if (rtype == RTN_LOCAL || rtype == RTN_NAT)
		scope = RT_SCOPE_HOST;
	else if (rtype == RTN_BROADCAST || rtype == RTN_MULTICAST || rtype == RTN_ANYCAST)
		scope = RT_SCOPE_LINK;
	else if (del)
		scope = RT_SCOPE_NOWHERE;
	else
		scope = has_via || nhs ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (named(spec, "scope", scopes, 0, &scope, what, err, n) < 0)
		return -EINVAL;
	if (!del && rtype == RTN_UNICAST && !has_via && !has_if && !nhs) {
		snprintf(err, n, "route to %s: needs 'via', a device or 'nexthops'", dsts);
		return -EINVAL;
	}
	struct nl_msg *m = nlmsg_alloc_simple(type, del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
	if (!m)
		return -ENOMEM;
	struct rtmsg rtm = { .rtm_family = (unsigned char)fam, .rtm_dst_len = (unsigned char)dst.plen,
			     .rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC,
			     .rtm_protocol = (unsigned char)proto, .rtm_scope = (unsigned char)scope,
			     .rtm_type = (unsigned char)rtype, .rtm_flags = onlink ? RTNH_F_ONLINK : 0 };
	int r = nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
	if (!r && dst.plen)
		r = nla_put(m, RTA_DST, alen(fam), dst.a);
	if (!r)
		r = nla_put_u32(m, RTA_TABLE, (uint32_t)table);
	if (!r && has_via)
		r = nla_put(m, RTA_GATEWAY, alen(fam), via.a);
	if (!r && has_if)
		r = nla_put_u32(m, RTA_OIF, (uint32_t)ifindex);
	if (!r && has_metric)
		r = nla_put_u32(m, RTA_PRIORITY, (uint32_t)metric);
	if (!r && has_src)
		r = nla_put(m, RTA_PREFSRC, alen(fam), src.a);
	if (r < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	if (nhs && (r = put_nexthops(m, nhs, fam, err, n)) < 0) {
		nlmsg_free(m);
		return r;
	}
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(spec, "encap");
	if (enc && (r = put_encap(m, enc, fam, err, n)) < 0) {
		nlmsg_free(m);
		return r;
	}
	*out = m;
	return 0;
}

static cJSON *encap_json(struct nlattr *type, struct nlattr *enc)
{
	int t = nla_get_u16(type);
	if (t != LWTUNNEL_ENCAP_IP && t != LWTUNNEL_ENCAP_IP6)
		return NULL;
	int fam = t == LWTUNNEL_ENCAP_IP ? AF_INET : AF_INET6;
	struct nlattr *tb[LWTUNNEL_IP_MAX + 1];
	if (nla_parse_nested(tb, LWTUNNEL_IP_MAX, enc, NULL) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char buf[64];
	cJSON_AddStringToObject(o, "type", fam == AF_INET ? "ip" : "ip6");
	if (tb[LWTUNNEL_IP_ID] && nla_len(tb[LWTUNNEL_IP_ID]) >= 8)
		cJSON_AddNumberToObject(o, "id", (double)be64toh(nla_get_u64(tb[LWTUNNEL_IP_ID])));
	if (tb[LWTUNNEL_IP_DST] && nla_len(tb[LWTUNNEL_IP_DST]) >= alen(fam)) {
		ip_str(fam, nla_data(tb[LWTUNNEL_IP_DST]), -1, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "dst", buf);
	}
	if (tb[LWTUNNEL_IP_SRC] && nla_len(tb[LWTUNNEL_IP_SRC]) >= alen(fam)) {
		static const uint8_t zero[16];
		if (memcmp(nla_data(tb[LWTUNNEL_IP_SRC]), zero, (size_t)alen(fam)) != 0) {
			ip_str(fam, nla_data(tb[LWTUNNEL_IP_SRC]), -1, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "src", buf);
		}
	}
	if (tb[LWTUNNEL_IP_TTL])
		cJSON_AddNumberToObject(o, "ttl", nla_get_u8(tb[LWTUNNEL_IP_TTL]));
	if (tb[LWTUNNEL_IP_TOS])
		cJSON_AddNumberToObject(o, "tos", nla_get_u8(tb[LWTUNNEL_IP_TOS]));
	return o;
}

static cJSON *nexthops_json(struct nlattr *mp, int fam)
{
	cJSON *arr = cJSON_CreateArray();
	struct rtnexthop *nh = nla_data(mp);
	int rem = nla_len(mp);
	while (rem >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= rem) {
		cJSON *o = cJSON_CreateObject();
		struct nlattr *tb[RTA_MAX + 1];
		int alen_nh = nh->rtnh_len - (int)sizeof(*nh);
		if (nla_parse(tb, RTA_MAX, (struct nlattr *)RTNH_DATA(nh), alen_nh, NULL) == 0 &&
		    tb[RTA_GATEWAY] && nla_len(tb[RTA_GATEWAY]) >= alen(fam)) {
			char buf[64];
			ip_str(fam, nla_data(tb[RTA_GATEWAY]), -1, buf, sizeof(buf));
			cJSON_AddStringToObject(o, "via", buf);
		}
		if (nh->rtnh_ifindex)
			cJSON_AddNumberToObject(o, "ifindex", nh->rtnh_ifindex);
		cJSON_AddNumberToObject(o, "weight", nh->rtnh_hops + 1);
		if (nh->rtnh_flags & RTNH_F_ONLINK)
			cJSON_AddBoolToObject(o, "onlink", 1);
		cJSON_AddItemToArray(arr, o);
		rem -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return arr;
}

static void add_named(cJSON *o, const char *key, const struct name_val *t, int v)
{
	const char *s = name_of(t, v);
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNumberToObject(o, key, v);
}

cJSON *rtmsg_route_json(const struct nlmsghdr *h)
{
	if (h->nlmsg_type != RTM_NEWROUTE || nlmsg_datalen(h) < (int)sizeof(struct rtmsg))
		return NULL;
	struct rtmsg *rtm = nlmsg_data(h);
	if (rtm->rtm_flags & RTM_F_CLONED)
		return NULL;
	int fam = rtm->rtm_family;
	if (fam != AF_INET && fam != AF_INET6)
		return NULL;
	struct nlattr *tb[RTA_MAX + 1];
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char buf[64];
	cJSON_AddStringToObject(o, "family", fam == AF_INET ? "ipv4" : "ipv6");
	if (rtm->rtm_dst_len == 0 || !tb[RTA_DST]) {
		cJSON_AddStringToObject(o, "dst", "default");
	} else {
		ip_str(fam, nla_data(tb[RTA_DST]), rtm->rtm_dst_len, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "dst", buf);
	}
	cJSON_AddNumberToObject(o, "table", tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table);
	add_named(o, "type", types, rtm->rtm_type);
	add_named(o, "proto", protos, rtm->rtm_protocol);
	add_named(o, "scope", scopes, rtm->rtm_scope);
	if (tb[RTA_PRIORITY])
		cJSON_AddNumberToObject(o, "metric", nla_get_u32(tb[RTA_PRIORITY]));
	if (tb[RTA_OIF])
		cJSON_AddNumberToObject(o, "ifindex", nla_get_u32(tb[RTA_OIF]));
	if (tb[RTA_GATEWAY] && nla_len(tb[RTA_GATEWAY]) >= alen(fam)) {
		ip_str(fam, nla_data(tb[RTA_GATEWAY]), -1, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "via", buf);
	}
	if (tb[RTA_PREFSRC] && nla_len(tb[RTA_PREFSRC]) >= alen(fam)) {
		ip_str(fam, nla_data(tb[RTA_PREFSRC]), -1, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "src", buf);
	}
	if (rtm->rtm_flags & RTNH_F_ONLINK)
		cJSON_AddBoolToObject(o, "onlink", 1);
	if (tb[RTA_MULTIPATH])
		cJSON_AddItemToObject(o, "nexthops", nexthops_json(tb[RTA_MULTIPATH], fam));
	if (tb[RTA_ENCAP_TYPE] && tb[RTA_ENCAP]) {
		cJSON *e = encap_json(tb[RTA_ENCAP_TYPE], tb[RTA_ENCAP]);
		if (e)
			cJSON_AddItemToObject(o, "encap", e);
	}
	return o;
}

static int same_addr(const char *a, const char *b, int with_prefix)
{
	struct ipaddr x, y;
	if (strcmp(a, "default") == 0 || strcmp(b, "default") == 0)
		return strcmp(a, b) == 0;
	if (parse_ip(a, &x, with_prefix) || parse_ip(b, &y, with_prefix))
		return 0;
	return x.family == y.family && x.plen == y.plen && !memcmp(x.a, y.a, (size_t)alen(x.family));
}

static double num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int rtmsg_route_match(const cJSON *route, const cJSON *spec)
{
	int bt = 0;
	const char *rd = get_str(route, "dst", &bt), *sd = get_str(spec, "dst", &bt);
	if (!rd || !sd || !same_addr(rd, sd, 1))
		return 0;
	if (strcmp(sd, "default") == 0) {
		const char *rf = get_str(route, "family", &bt), *sf = get_str(spec, "family", &bt);
		const char *sv = get_str(spec, "via", &bt);
		struct ipaddr v;
		if (sf && rf && strcmp(sf, rf))
			return 0;
		if (!sf && sv && !parse_ip(sv, &v, 0) && rf &&
		    strcmp(rf, v.family == AF_INET ? "ipv4" : "ipv6"))
			return 0;
		if (!sf && !sv && rf && strcmp(rf, "ipv4"))
			return 0;
	}
	if (num(route, "table", RT_TABLE_MAIN) != num(spec, "table", RT_TABLE_MAIN))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(spec, "metric") &&
	    num(route, "metric", 0) != num(spec, "metric", 0))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(spec, "ifindex") &&
	    num(route, "ifindex", 0) != num(spec, "ifindex", 0))
		return 0;
	const char *sv = get_str(spec, "via", &bt), *rv = get_str(route, "via", &bt);
	if (sv && (!rv || !same_addr(sv, rv, 0)))
		return 0;
	return 1;
}

/* ---- neighbours --------------------------------------------------------------------- */

static int parse_lladdr(const char *s, uint8_t *mac, int *len)
{
	int n = 0;
	const char *p = s;
	while (*p && n < 32) {
		char *end;
		long v = strtol(p, &end, 16);
		if (end == p || end - p > 2 || v < 0 || v > 255)
			return -EINVAL;
		mac[n++] = (uint8_t)v;
		p = end;
		if (*p == ':')
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (!n || *p || s[strlen(s) - 1] == ':')
		return -EINVAL;
	*len = n;
	return 0;
}

int rtmsg_neigh(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t n)
{
	static const char *const known[] = { "ifindex", "dst", "lladdr", "state", "router", "proxy", "family", NULL };
	const char *what = "neighbour";
	int del = type == RTM_DELNEIGH;
	if (check_keys(spec, known, what, err, n))
		return -EINVAL;
	uint64_t ifindex = 0;
	int has_if = get_uint(spec, "ifindex", 0x7fffffff, &ifindex, what, err, n);
	if (has_if < 0)
		return -EINVAL;
	if (!has_if || !ifindex) {
		snprintf(err, n, "neighbour: 'ifindex' (the device) is required");
		return -EINVAL;
	}
	struct ipaddr dst;
	int has_dst = get_addr(spec, "dst", 0, &dst, what, err, n);
	if (has_dst < 0)
		return -EINVAL;
	if (!has_dst) {
		snprintf(err, n, "neighbour: 'dst' (its IP address) is required");
		return -EINVAL;
	}
	int fam = 0;
	if (family_of(spec, what, &fam, err, n) || (fam && family_clash(fam, &dst, what, "dst", err, n)))
		return -EINVAL;
	int bt = 0;
	const char *ll = get_str(spec, "lladdr", &bt);
	uint8_t mac[32];
	int maclen = 0;
	if (bt || (ll && parse_lladdr(ll, mac, &maclen))) {
		snprintf(err, n, "neighbour: 'lladdr' must be a link-layer address like \"02:00:00:00:00:01\"");
		return -EINVAL;
	}
	int router = get_bool(spec, "router", what, err, n), proxy = get_bool(spec, "proxy", what, err, n);
	if (router < 0 || proxy < 0)
		return -EINVAL;
	int state = NUD_PERMANENT;
	if (named(spec, "state", nud_states, 0, &state, what, err, n) < 0)
		return -EINVAL;
	if (!del && !ll && !proxy && !(state & (NUD_NOARP | NUD_FAILED | NUD_INCOMPLETE))) {
		snprintf(err, n, "neighbour %s: 'lladdr' is required (or proxy = true)", get_str(spec, "dst", &bt));
		return -EINVAL;
	}
	struct nl_msg *m = nlmsg_alloc_simple(type, del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
	if (!m)
		return -ENOMEM;
	struct ndmsg ndm = { .ndm_family = (unsigned char)dst.family, .ndm_ifindex = (int)ifindex,
			     .ndm_state = del ? 0 : (uint16_t)state,
			     .ndm_flags = (router ? NTF_ROUTER : 0) | (proxy ? NTF_PROXY : 0) };
	int r = nlmsg_append(m, &ndm, sizeof(ndm), NLMSG_ALIGNTO);
	if (!r)
		r = nla_put(m, NDA_DST, alen(dst.family), dst.a);
	if (!r && ll && !del)
		r = nla_put(m, NDA_LLADDR, maclen, mac);
	if (r < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

cJSON *rtmsg_neigh_json(const struct nlmsghdr *h)
{
	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_datalen(h) < (int)sizeof(struct ndmsg))
		return NULL;
	struct ndmsg *ndm = nlmsg_data(h);
	int fam = ndm->ndm_family;
	if (fam != AF_INET && fam != AF_INET6)
		return NULL;
	struct nlattr *tb[NDA_MAX + 1];
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0 || !tb[NDA_DST] ||
	    nla_len(tb[NDA_DST]) < alen(fam))
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char buf[128];
	cJSON_AddStringToObject(o, "family", fam == AF_INET ? "ipv4" : "ipv6");
	cJSON_AddNumberToObject(o, "ifindex", ndm->ndm_ifindex);
	ip_str(fam, nla_data(tb[NDA_DST]), -1, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "dst", buf);
	if (tb[NDA_LLADDR]) {
		const uint8_t *mac = nla_data(tb[NDA_LLADDR]);
		size_t o2 = 0;
		buf[0] = 0;
		for (int i = 0; i < nla_len(tb[NDA_LLADDR]) && o2 + 4 < sizeof(buf); i++)
			o2 += (size_t)snprintf(buf + o2, sizeof(buf) - o2, i ? ":%02x" : "%02x", mac[i]);
		cJSON_AddStringToObject(o, "lladdr", buf);
	}
	const char *st = NULL;
	for (const struct name_val *t = nud_states; t->name && !st; t++)
		if (ndm->ndm_state & t->val)
			st = t->name;
	cJSON_AddStringToObject(o, "state", st ? st : "none");
	if (ndm->ndm_flags & NTF_ROUTER)
		cJSON_AddBoolToObject(o, "router", 1);
	if (ndm->ndm_flags & NTF_PROXY)
		cJSON_AddBoolToObject(o, "proxy", 1);
	return o;
}

int rtmsg_neigh_match(const cJSON *neigh, const cJSON *spec)
{
	int bt = 0;
	const char *a = get_str(neigh, "dst", &bt), *b = get_str(spec, "dst", &bt);
	return a && b && same_addr(a, b, 0) && num(neigh, "ifindex", -1) == num(spec, "ifindex", -2) &&
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(neigh, "proxy")) ==
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "proxy"));
}

/* ---- rules ------------------------------------------------------------------------------ */

int rtmsg_rule(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t n)
{
	static const char *const known[] = { "family", "priority", "table", "from", "to", "iif", "oif",
					     "fwmark", "fwmask", "action", "not", NULL };
	const char *what = "rule";
	int del = type == RTM_DELRULE;
	if (check_keys(spec, known, what, err, n))
		return -EINVAL;
	int fam = 0;
	if (family_of(spec, what, &fam, err, n))
		return -EINVAL;
	struct ipaddr from, to;
	int has_from = get_addr(spec, "from", 1, &from, what, err, n);
	int has_to = get_addr(spec, "to", 1, &to, what, err, n);
	if (has_from < 0 || has_to < 0)
		return -EINVAL;
	if (!fam)
		fam = has_from ? from.family : has_to ? to.family : AF_INET;
	if ((has_from && family_clash(fam, &from, what, "from", err, n)) ||
	    (has_to && family_clash(fam, &to, what, "to", err, n)))
		return -EINVAL;
	uint64_t prio = 0, table = 0, mark = 0, mask = 0;
	int has_prio = get_uint(spec, "priority", 4294967295.0, &prio, what, err, n);
	int has_table = get_uint(spec, "table", 4294967295.0, &table, what, err, n);
	int has_mark = get_uint(spec, "fwmark", 4294967295.0, &mark, what, err, n);
	int has_mask = get_uint(spec, "fwmask", 4294967295.0, &mask, what, err, n);
	int inv = get_bool(spec, "not", what, err, n);
	if (has_prio < 0 || has_table < 0 || has_mark < 0 || has_mask < 0 || inv < 0)
		return -EINVAL;
	int bt = 0;
	const char *iif = get_str(spec, "iif", &bt), *oif = get_str(spec, "oif", &bt);
	if (bt || (iif && (!*iif || strlen(iif) >= 16)) || (oif && (!*oif || strlen(oif) >= 16))) {
		snprintf(err, n, "rule: 'iif' and 'oif' must be device names");
		return -EINVAL;
	}
	int action = del ? 0 : FR_ACT_TO_TBL;
	if (named(spec, "action", actions, 0, &action, what, err, n) < 0)
		return -EINVAL;
	if (!del && action == FR_ACT_TO_TBL && !has_table)
		table = RT_TABLE_MAIN, has_table = 1;
	if (!del && action == FR_ACT_TO_TBL && table == 0) {
		snprintf(err, n, "rule: 'table' must be from 1 to 4294967295");
		return -EINVAL;
	}
	struct nl_msg *m = nlmsg_alloc_simple(type, del ? 0 : NLM_F_CREATE | NLM_F_EXCL);
	if (!m)
		return -ENOMEM;
	struct fib_rule_hdr frh = { .family = (uint8_t)fam,
				    .dst_len = has_to ? (uint8_t)to.plen : 0,
				    .src_len = has_from ? (uint8_t)from.plen : 0,
				    .table = has_table && table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
				    .action = (uint8_t)action, .flags = inv ? FIB_RULE_INVERT : 0 };
	int r = nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO);
	if (!r && has_from && from.plen)
		r = nla_put(m, FRA_SRC, alen(fam), from.a);
	if (!r && has_to && to.plen)
		r = nla_put(m, FRA_DST, alen(fam), to.a);
	if (!r && has_prio)
		r = nla_put_u32(m, FRA_PRIORITY, (uint32_t)prio);
	if (!r && has_table)
		r = nla_put_u32(m, FRA_TABLE, (uint32_t)table);
	if (!r && has_mark)
		r = nla_put_u32(m, FRA_FWMARK, (uint32_t)mark);
	if (!r && has_mask)
		r = nla_put_u32(m, FRA_FWMASK, (uint32_t)mask);
	if (!r && iif)
		r = nla_put_string(m, FRA_IIFNAME, iif);
	if (!r && oif)
		r = nla_put_string(m, FRA_OIFNAME, oif);
	if (!r && !del)
		r = nla_put_u8(m, FRA_PROTOCOL, RTPROT_BOOT);
	if (r < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

cJSON *rtmsg_rule_json(const struct nlmsghdr *h)
{
	if (h->nlmsg_type != RTM_NEWRULE || nlmsg_datalen(h) < (int)sizeof(struct fib_rule_hdr))
		return NULL;
	struct fib_rule_hdr *frh = nlmsg_data(h);
	int fam = frh->family;
	if (fam != AF_INET && fam != AF_INET6)
		return NULL;
	struct nlattr *tb[FRA_MAX + 1];
	if (nlmsg_parse((struct nlmsghdr *)h, sizeof(*frh), tb, FRA_MAX, NULL) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char buf[64];
	cJSON_AddStringToObject(o, "family", fam == AF_INET ? "ipv4" : "ipv6");
	if (tb[FRA_PRIORITY])
		cJSON_AddNumberToObject(o, "priority", nla_get_u32(tb[FRA_PRIORITY]));
	if (frh->src_len && tb[FRA_SRC] && nla_len(tb[FRA_SRC]) >= alen(fam)) {
		ip_str(fam, nla_data(tb[FRA_SRC]), frh->src_len, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "from", buf);
	}
	if (frh->dst_len && tb[FRA_DST] && nla_len(tb[FRA_DST]) >= alen(fam)) {
		ip_str(fam, nla_data(tb[FRA_DST]), frh->dst_len, buf, sizeof(buf));
		cJSON_AddStringToObject(o, "to", buf);
	}
	if (tb[FRA_IIFNAME])
		cJSON_AddStringToObject(o, "iif", nla_get_string(tb[FRA_IIFNAME]));
	if (tb[FRA_OIFNAME])
		cJSON_AddStringToObject(o, "oif", nla_get_string(tb[FRA_OIFNAME]));
	if (tb[FRA_FWMARK])
		cJSON_AddNumberToObject(o, "fwmark", nla_get_u32(tb[FRA_FWMARK]));
	if (tb[FRA_FWMASK] && tb[FRA_FWMARK])
		cJSON_AddNumberToObject(o, "fwmask", nla_get_u32(tb[FRA_FWMASK]));
	uint32_t table = tb[FRA_TABLE] ? nla_get_u32(tb[FRA_TABLE]) : frh->table;
	if (table)
		cJSON_AddNumberToObject(o, "table", table);
	add_named(o, "action", actions, frh->action);
	if (frh->flags & FIB_RULE_INVERT)
		cJSON_AddBoolToObject(o, "not", 1);
	return o;
}
