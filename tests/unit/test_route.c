/* test_route.c - unit tests for the route, neighbour and rule messages
 * (src/agent/rtmsg.c): each message is decoded with libnl and checked
 * against the layout the kernel expects; descriptions read back from a
 * message build the same message again; bad descriptions are refused with
 * the key named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/lwtunnel.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <string.h>

#include "rtmsg.h"

static char err[512];

static struct nl_msg *build_route(int type, const char *json)
{
	cJSON *spec = cJSON_Parse(json);
	assert_non_null(spec);
	struct nl_msg *m = NULL;
	err[0] = 0;
	int r = rtmsg_route(&m, type, spec, err, sizeof(err));
	cJSON_Delete(spec);
	if (r)
		print_message("rtmsg_route: %s\n", err);
	assert_int_equal(r, 0);
	return m;
}

static int refuse(int (*fn)(struct nl_msg **, int, const cJSON *, char *, size_t), int type,
		  const char *json, const char *words)
{
	cJSON *spec = cJSON_Parse(json);
	assert_non_null(spec);
	struct nl_msg *m = NULL;
	err[0] = 0;
	int r = fn(&m, type, spec, err, sizeof(err));
	cJSON_Delete(spec);
	assert_int_equal(r, -EINVAL);
	assert_null(m);
	if (!strstr(err, words))
		fail_msg("error '%s' lacks '%s'", err, words);
	return 0;
}

static void check_ip4(struct nlattr *a, const char *want)
{
	assert_non_null(a);
	assert_int_equal(nla_len(a), 4);
	struct in_addr x;
	inet_pton(AF_INET, want, &x);
	assert_memory_equal(nla_data(a), &x, 4);
}

static void test_route_single(void **state)
{
	(void)state;
	struct nl_msg *m = build_route(RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.254\","
						     "\"ifindex\":7,\"metric\":20,\"table\":1000}");
	struct nlmsghdr *h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(h->nlmsg_flags, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = nlmsg_data(h);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 24);
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC); /* > 255: only in RTA_TABLE */
	assert_int_equal(rtm->rtm_protocol, RTPROT_BOOT);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	struct nlattr *tb[RTA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL), 0);
	check_ip4(tb[RTA_DST], "203.0.113.0");
	check_ip4(tb[RTA_GATEWAY], "198.51.100.254");
	assert_int_equal(nla_get_u32(tb[RTA_OIF]), 7);
	assert_int_equal(nla_get_u32(tb[RTA_PRIORITY]), 20);
	assert_int_equal(nla_get_u32(tb[RTA_TABLE]), 1000);
	assert_null(tb[RTA_MULTIPATH]);
	nlmsg_free(m);

	/* A device route is link-scoped; main is table 254 in both places. */
	m = build_route(RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/25\",\"ifindex\":3}");
	rtm = nlmsg_data(nlmsg_hdr(m));
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	nlmsg_free(m);
}

static void test_route_delete(void **state)
{
	(void)state;
	/* As iproute2: any scope, protocol and type match unless given. */
	struct nl_msg *m = build_route(RTM_DELROUTE, "{\"dst\":\"203.0.113.0/24\"}");
	struct nlmsghdr *h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_flags, 0);
	struct rtmsg *rtm = nlmsg_data(h);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_NOWHERE);
	assert_int_equal(rtm->rtm_protocol, 0);
	assert_int_equal(rtm->rtm_type, 0);
	nlmsg_free(m);
}

static void test_route_multipath(void **state)
{
	(void)state;
	struct nl_msg *m = build_route(RTM_NEWROUTE,
		"{\"dst\":\"203.0.113.128/25\",\"nexthops\":[{\"via\":\"198.51.100.1\",\"ifindex\":2,\"weight\":3},"
		"{\"via\":\"198.51.100.2\",\"onlink\":true}]}");
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct nlattr *tb[RTA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(struct rtmsg), tb, RTA_MAX, NULL), 0);
	assert_null(tb[RTA_GATEWAY]);
	assert_non_null(tb[RTA_MULTIPATH]);
	struct rtnexthop *nh = nla_data(tb[RTA_MULTIPATH]);
	int rem = nla_len(tb[RTA_MULTIPATH]);
	const char *via[2] = { "198.51.100.1", "198.51.100.2" };
	int hops[2] = { 2, 0 }, ifi[2] = { 2, 0 }, flags[2] = { 0, RTNH_F_ONLINK }, n = 0;
	while (rem >= (int)sizeof(*nh) && nh->rtnh_len <= rem) {
		assert_true(n < 2);
		/* Each nexthop: the header, then its gateway attribute. */
		assert_int_equal(nh->rtnh_len, sizeof(*nh) + NLA_HDRLEN + 4);
		assert_int_equal(nh->rtnh_hops, hops[n]);
		assert_int_equal(nh->rtnh_ifindex, ifi[n]);
		assert_int_equal(nh->rtnh_flags, flags[n]);
		struct nlattr *nt[RTA_MAX + 1];
		assert_int_equal(nla_parse(nt, RTA_MAX, (struct nlattr *)RTNH_DATA(nh),
					   nh->rtnh_len - (int)sizeof(*nh), NULL), 0);
		check_ip4(nt[RTA_GATEWAY], via[n]);
		rem -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(rem, 0);
	nlmsg_free(m);
}

static void test_route_encap(void **state)
{
	(void)state;
	struct nl_msg *m = build_route(RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"ifindex\":4,"
						     "\"encap\":{\"type\":\"ip\",\"id\":42,\"dst\":\"198.51.100.9\",\"ttl\":5}}");
	struct nlattr *tb[RTA_MAX + 1], *et[LWTUNNEL_IP_MAX + 1];
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), sizeof(struct rtmsg), tb, RTA_MAX, NULL), 0);
	assert_int_equal(nla_get_u16(tb[RTA_ENCAP_TYPE]), LWTUNNEL_ENCAP_IP);
	assert_int_equal(nla_parse_nested(et, LWTUNNEL_IP_MAX, tb[RTA_ENCAP], NULL), 0);
	assert_int_equal(nla_len(et[LWTUNNEL_IP_ID]), 8);
	assert_int_equal(be64toh(nla_get_u64(et[LWTUNNEL_IP_ID])), 42); /* network order */
	check_ip4(et[LWTUNNEL_IP_DST], "198.51.100.9");
	assert_int_equal(nla_get_u8(et[LWTUNNEL_IP_TTL]), 5);
	assert_null(et[LWTUNNEL_IP_SRC]);
	nlmsg_free(m);

	/* IPv6 metadata: LWTUNNEL_ENCAP_IP6 with a 16-byte destination. */
	m = build_route(RTM_NEWROUTE, "{\"dst\":\"2001:db8:2::/64\",\"ifindex\":4,"
				      "\"encap\":{\"id\":7,\"dst\":\"2001:db8::9\"}}");
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), sizeof(struct rtmsg), tb, RTA_MAX, NULL), 0);
	assert_int_equal(nla_get_u16(tb[RTA_ENCAP_TYPE]), LWTUNNEL_ENCAP_IP6);
	assert_int_equal(nla_parse_nested(et, LWTUNNEL_IP6_MAX, tb[RTA_ENCAP], NULL), 0);
	assert_int_equal(nla_len(et[LWTUNNEL_IP6_DST]), 16);
	nlmsg_free(m);
}

static void test_route_default_v6(void **state)
{
	(void)state;
	struct nl_msg *m = build_route(RTM_NEWROUTE, "{\"dst\":\"default\",\"via\":\"2001:db8::1\",\"ifindex\":2}");
	struct rtmsg *rtm = nlmsg_data(nlmsg_hdr(m));
	struct nlattr *tb[RTA_MAX + 1];
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), sizeof(*rtm), tb, RTA_MAX, NULL), 0);
	assert_null(tb[RTA_DST]);
	assert_int_equal(nla_len(tb[RTA_GATEWAY]), 16);
	nlmsg_free(m);
}

/* A message read back as a description builds the same message. */
static void test_route_round_trip(void **state)
{
	(void)state;
	const char *specs[] = {
		"{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.254\",\"ifindex\":7,\"metric\":20,\"table\":100}",
		"{\"dst\":\"203.0.113.128/25\",\"nexthops\":[{\"via\":\"198.51.100.1\",\"ifindex\":2,\"weight\":3},"
		"{\"via\":\"198.51.100.2\",\"ifindex\":2}]}",
		"{\"dst\":\"203.0.113.0/24\",\"ifindex\":4,\"encap\":{\"id\":42,\"dst\":\"198.51.100.9\",\"ttl\":5}}",
		"{\"dst\":\"2001:db8:2::/64\",\"via\":\"2001:db8::1\",\"src\":\"2001:db8::5\"}",
		"{\"dst\":\"203.0.113.7/32\",\"type\":\"blackhole\"}",
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct nl_msg *m = build_route(RTM_NEWROUTE, specs[i]);
		cJSON *desc = rtmsg_route_json(nlmsg_hdr(m));
		assert_non_null(desc);
		cJSON *spec = cJSON_Parse(specs[i]);
		assert_true(rtmsg_route_match(desc, spec));
		cJSON_Delete(spec);
		struct nl_msg *again = NULL;
		if (rtmsg_route(&again, RTM_NEWROUTE, desc, err, sizeof(err)))
			fail_msg("rebuilding %s: %s", cJSON_PrintUnformatted(desc), err);
		assert_int_equal(nlmsg_hdr(again)->nlmsg_len, nlmsg_hdr(m)->nlmsg_len);
		assert_memory_equal(nlmsg_hdr(again), nlmsg_hdr(m), nlmsg_hdr(m)->nlmsg_len);
		cJSON_Delete(desc);
		nlmsg_free(m);
		nlmsg_free(again);
	}
}

static void test_route_refused(void **state)
{
	(void)state;
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"via\":\"198.51.100.1\"}", "'dst' is required");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/33\",\"via\":\"198.51.100.1\"}", "'dst'");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\"}", "needs 'via'");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"via\":\"2001:db8::1\"}",
	       "'via' is an IPv6 address but the route is IPv4");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"gw\":\"198.51.100.1\"}", "unknown key 'gw'");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.1\",\"table\":0}",
	       "'table' must be from 1");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.1\",\"metric\":-1}",
	       "'metric' must be an integer");
	refuse(rtmsg_route, RTM_NEWROUTE,
	       "{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.1\",\"nexthops\":[{\"via\":\"198.51.100.2\"}]}",
	       "either 'nexthops' or 'via'");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"nexthops\":[{\"weight\":2}]}",
	       "nexthop 1: needs 'via' or 'ifindex'");
	refuse(rtmsg_route, RTM_NEWROUTE,
	       "{\"dst\":\"203.0.113.0/24\",\"nexthops\":[{\"via\":\"198.51.100.2\",\"weight\":257}]}", "'weight'");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"ifindex\":2,\"encap\":{\"id\":1}}",
	       "'dst' (the tunnel's remote address) is required");
	refuse(rtmsg_route, RTM_NEWROUTE, "{\"dst\":\"203.0.113.0/24\",\"ifindex\":2,\"scope\":\"galaxy\"}",
	       "'scope' must be one of global site link host nowhere");
}

static void test_neigh(void **state)
{
	(void)state;
	cJSON *spec = cJSON_Parse("{\"ifindex\":5,\"dst\":\"198.51.100.7\",\"lladdr\":\"02:00:00:00:00:07\",\"router\":true}");
	struct nl_msg *m;
	assert_int_equal(rtmsg_neigh(&m, RTM_NEWNEIGH, spec, err, sizeof(err)), 0);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct ndmsg *ndm = nlmsg_data(h);
	assert_int_equal(h->nlmsg_flags, NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(ndm->ndm_family, AF_INET);
	assert_int_equal(ndm->ndm_ifindex, 5);
	assert_int_equal(ndm->ndm_state, NUD_PERMANENT);
	assert_int_equal(ndm->ndm_flags, NTF_ROUTER);
	struct nlattr *tb[NDA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL), 0);
	check_ip4(tb[NDA_DST], "198.51.100.7");
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	assert_int_equal(nla_len(tb[NDA_LLADDR]), 6);
	assert_memory_equal(nla_data(tb[NDA_LLADDR]), mac, 6);
	/* Read back, it matches and builds the same message. */
	cJSON *desc = rtmsg_neigh_json(h);
	assert_true(rtmsg_neigh_match(desc, spec));
	assert_string_equal(cJSON_GetObjectItem(desc, "state")->valuestring, "permanent");
	struct nl_msg *again;
	assert_int_equal(rtmsg_neigh(&again, RTM_NEWNEIGH, desc, err, sizeof(err)), 0);
	assert_memory_equal(nlmsg_hdr(again), h, h->nlmsg_len);
	nlmsg_free(again);
	nlmsg_free(m);
	cJSON_Delete(desc);
	cJSON_Delete(spec);
	refuse(rtmsg_neigh, RTM_NEWNEIGH, "{\"ifindex\":5,\"dst\":\"198.51.100.7\"}", "'lladdr' is required");
	refuse(rtmsg_neigh, RTM_NEWNEIGH, "{\"dst\":\"198.51.100.7\",\"lladdr\":\"02:00:00:00:00:07\"}",
	       "'ifindex' (the device) is required");
	refuse(rtmsg_neigh, RTM_NEWNEIGH, "{\"ifindex\":5,\"dst\":\"198.51.100.7\",\"lladdr\":\"02:00:zz\"}",
	       "'lladdr' must be a link-layer address");
	refuse(rtmsg_neigh, RTM_NEWNEIGH,
	       "{\"ifindex\":5,\"dst\":\"198.51.100.7\",\"lladdr\":\"02:00:00:00:00:07\",\"state\":\"happy\"}",
	       "'state' must be one of permanent noarp");
}

static void test_rule(void **state)
{
	(void)state;
	cJSON *spec = cJSON_Parse("{\"from\":\"198.51.100.0/24\",\"table\":100,\"priority\":1000,\"iif\":\"eth0\"}");
	struct nl_msg *m;
	assert_int_equal(rtmsg_rule(&m, RTM_NEWRULE, spec, err, sizeof(err)), 0);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct fib_rule_hdr *frh = nlmsg_data(h);
	assert_int_equal(frh->family, AF_INET);
	assert_int_equal(frh->src_len, 24);
	assert_int_equal(frh->dst_len, 0);
	assert_int_equal(frh->table, 100);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	struct nlattr *tb[FRA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*frh), tb, FRA_MAX, NULL), 0);
	check_ip4(tb[FRA_SRC], "198.51.100.0");
	assert_null(tb[FRA_DST]);
	assert_int_equal(nla_get_u32(tb[FRA_TABLE]), 100);
	assert_int_equal(nla_get_u32(tb[FRA_PRIORITY]), 1000);
	assert_string_equal(nla_get_string(tb[FRA_IIFNAME]), "eth0");
	assert_int_equal(nla_get_u8(tb[FRA_PROTOCOL]), RTPROT_BOOT);
	cJSON *desc = rtmsg_rule_json(h);
	assert_string_equal(cJSON_GetObjectItem(desc, "from")->valuestring, "198.51.100.0/24");
	assert_string_equal(cJSON_GetObjectItem(desc, "action")->valuestring, "lookup");
	cJSON_Delete(desc);
	nlmsg_free(m);
	/* Without a table a lookup rule uses main. */
	cJSON_Delete(spec);
	spec = cJSON_Parse("{\"to\":\"203.0.113.0/24\",\"not\":true}");
	assert_int_equal(rtmsg_rule(&m, RTM_NEWRULE, spec, err, sizeof(err)), 0);
	frh = nlmsg_data(nlmsg_hdr(m));
	assert_int_equal(frh->table, RT_TABLE_MAIN);
	assert_int_equal(frh->flags, FIB_RULE_INVERT);
	assert_int_equal(frh->dst_len, 24);
	nlmsg_free(m);
	cJSON_Delete(spec);
	refuse(rtmsg_rule, RTM_NEWRULE, "{\"from\":\"198.51.100.0/24\",\"to\":\"2001:db8::/32\"}",
	       "'to' is an IPv6 address but the route is IPv4");
	refuse(rtmsg_rule, RTM_NEWRULE, "{\"action\":\"jump\"}", "'action' must be one of lookup");
}

static void test_match(void **state)
{
	(void)state;
	cJSON *route = cJSON_Parse("{\"family\":\"ipv4\",\"dst\":\"203.0.113.0/24\",\"table\":254,\"metric\":20,"
				   "\"ifindex\":3,\"via\":\"198.51.100.254\"}");
	const char *yes[] = { "{\"dst\":\"203.0.113.0/24\"}", "{\"dst\":\"203.0.113.0/24\",\"metric\":20}",
			      "{\"dst\":\"203.0.113.0/24\",\"via\":\"198.51.100.254\",\"ifindex\":3}" };
	const char *no[] = { "{\"dst\":\"203.0.113.0/25\"}", "{\"dst\":\"203.0.113.0/24\",\"metric\":21}",
			     "{\"dst\":\"203.0.113.0/24\",\"table\":100}", "{\"dst\":\"203.0.113.0/24\",\"ifindex\":4}",
			     "{\"dst\":\"default\"}" };
	for (size_t i = 0; i < 3; i++) {
		cJSON *s = cJSON_Parse(yes[i]);
		assert_true(rtmsg_route_match(route, s));
		cJSON_Delete(s);
	}
	for (size_t i = 0; i < 5; i++) {
		cJSON *s = cJSON_Parse(no[i]);
		assert_false(rtmsg_route_match(route, s));
		cJSON_Delete(s);
	}
	cJSON_Delete(route);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_single),   cmocka_unit_test(test_route_delete),
		cmocka_unit_test(test_route_multipath), cmocka_unit_test(test_route_encap),
		cmocka_unit_test(test_route_default_v6), cmocka_unit_test(test_route_round_trip),
		cmocka_unit_test(test_route_refused),  cmocka_unit_test(test_neigh),
		cmocka_unit_test(test_rule),           cmocka_unit_test(test_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
