/* test_link.c - soft device messages (src/agent/kinds.c, brmsg.c).
 *
 * For every kind the agent can create, builds the creation message from
 * request params as the wire carries them, decodes it with libnl's parser
 * and compares it with the layout the kernel expects: message type and
 * flags, IFLA_IFNAME, IFLA_LINKINFO/IFLA_INFO_KIND, and each IFLA_INFO_DATA
 * attribute with its width and value (byte order included). Kinds this
 * machine's kernel lacks are covered here too: nothing needs the kernel.
 * Also: the parameter checks with their exact error texts, the generic
 * netlink messages (wireguard, L2TP), teamd's argv, tun flags, and the
 * bridge/master messages.
 */
/* kinds.h first: <net/if.h> before the <linux/if*.h> headers. */
#include "kinds.h"
#include "brmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_macsec.h>
#include <linux/if_tun.h>
#include <linux/if_tunnel.h>
#include <linux/if_vlan.h>
#include <linux/l2tp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <linux/wireguard.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- helpers ------------------------------------------------------------- */

struct built {
	struct nl_msg *m;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlattr *li[IFLA_INFO_MAX + 1];
	struct nlattr *data[64];
};

static struct kreq req;
static char err[512];

static int parse(const char *kind, const char *name, const char *json)
{
	const struct kind *k = kinds_find(kind);
	assert_non_null(k);
	cJSON *p = cJSON_Parse(json);
	assert_non_null(p);
	int rc = kinds_parse(k, name, p, &req, err, sizeof(err));
	/* kval strings point into the params: keep them for the test's life. */
	static cJSON *keep[64];
	static int nkeep;
	if (nkeep == 64) {
		for (int i = 0; i < 64; i++)
			cJSON_Delete(keep[i]);
		nkeep = 0;
	}
	keep[nkeep++] = p;
	return rc;
}

/* Builds kind/name/json and decodes it; data parsed up to data_max. */
static void build(struct built *b, const char *kind, const char *name, const char *json, int data_max)
{
	memset(b, 0, sizeof(*b));
	int rc = parse(kind, name, json);
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(kinds_newlink(&req, &b->m), 0);
	struct nlmsghdr *h = nlmsg_hdr(b->m);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_true(h->nlmsg_flags & NLM_F_CREATE);
	assert_true(h->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(nlmsg_parse(h, sizeof(struct ifinfomsg), b->tb, IFLA_MAX, NULL), 0);
	assert_non_null(b->tb[IFLA_IFNAME]);
	assert_string_equal(nla_get_string(b->tb[IFLA_IFNAME]), name);
	assert_non_null(b->tb[IFLA_LINKINFO]);
	assert_int_equal(nla_parse_nested(b->li, IFLA_INFO_MAX, b->tb[IFLA_LINKINFO], NULL), 0);
	assert_non_null(b->li[IFLA_INFO_KIND]);
	if (b->li[IFLA_INFO_DATA] && data_max > 0)
		assert_int_equal(nla_parse_nested(b->data, data_max, b->li[IFLA_INFO_DATA], NULL), 0);
}

static void done(struct built *b)
{
	nlmsg_free(b->m);
}

static void expect_kind(struct built *b, const char *kind)
{
	assert_string_equal(nla_get_string(b->li[IFLA_INFO_KIND]), kind);
}

static int count_nested(struct nlattr *n)
{
	struct nlattr *a;
	int rem, c = 0;
	nla_for_each_nested(a, n, rem) c++;
	return c;
}

/* Exactly these many attributes in IFLA_INFO_DATA (0: none at all). */
static void expect_data_count(struct built *b, int n)
{
	if (n == 0) {
		assert_null(b->li[IFLA_INFO_DATA]);
		return;
	}
	assert_non_null(b->li[IFLA_INFO_DATA]);
	assert_int_equal(count_nested(b->li[IFLA_INFO_DATA]), n);
}

static void expect_u8(struct nlattr **d, int attr, uint8_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 1);
	assert_int_equal(nla_get_u8(d[attr]), v);
}

static void expect_u16(struct nlattr **d, int attr, uint16_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 2);
	assert_int_equal(nla_get_u16(d[attr]), v);
}

static void expect_be16(struct nlattr **d, int attr, uint16_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 2);
	assert_int_equal(ntohs(nla_get_u16(d[attr])), v);
}

static void expect_u32(struct nlattr **d, int attr, uint32_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 4);
	assert_int_equal(nla_get_u32(d[attr]), v);
}

static void expect_be32(struct nlattr **d, int attr, uint32_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 4);
	assert_int_equal(ntohl(nla_get_u32(d[attr])), v);
}

static void expect_u64(struct nlattr **d, int attr, uint64_t v)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 8);
	assert_true(nla_get_u64(d[attr]) == v);
}

static void expect_flag(struct nlattr **d, int attr)
{
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 0);
}

static void expect_addr(struct nlattr **d, int attr, const char *text)
{
	uint8_t a[16];
	int v6 = strchr(text, ':') != NULL;
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, a), 1);
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), v6 ? 16 : 4);
	assert_memory_equal(nla_data(d[attr]), a, v6 ? 16 : 4);
}

static void expect_mac(struct nlattr **d, int attr, const char *text)
{
	uint8_t mac[6];
	assert_int_equal(kinds_parse_mac(text, mac), 0);
	assert_non_null(d[attr]);
	assert_int_equal(nla_len(d[attr]), 6);
	assert_memory_equal(nla_data(d[attr]), mac, 6);
}

static void expect_error(const char *kind, const char *name, const char *json, const char *text)
{
	assert_int_equal(parse(kind, name, json), -EINVAL);
	assert_string_equal(err, text);
}

/* ---- every kind ---------------------------------------------------------- */

static void test_every_kind_builds(void **state)
{
	(void)state;
	/* Every kind of the table builds its creation message from minimal
	 * params, and its IFLA_INFO_KIND is the kernel's name. */
	static const struct {
		const char *kind, *ifkind, *json;
	} minimal[] = {
		{ "veth", "veth", "{}" },
		{ "bridge", "bridge", "{}" },
		{ "bond", "bond", "{}" },
		{ "vlan", "vlan", "{\"realdev\":2,\"vlan_id\":5}" },
		{ "macvlan", "macvlan", "{\"realdev\":2}" },
		{ "macvtap", "macvtap", "{\"realdev\":2}" },
		{ "ipvlan", "ipvlan", "{\"realdev\":2}" },
		{ "vxlan", "vxlan", "{\"vxlan_id\":1,\"remote\":\"203.0.113.1\"}" },
		{ "geneve", "geneve", "{\"id\":1,\"remote\":\"203.0.113.1\"}" },
		{ "gre", "gre", "{\"remote\":\"203.0.113.1\"}" },
		{ "gretap", "gretap", "{\"remote\":\"203.0.113.1\"}" },
		{ "ip6gre", "ip6gre", "{\"remote\":\"2001:db8::1\"}" },
		{ "ipip", "ipip", "{\"local\":\"203.0.113.2\",\"remote\":\"203.0.113.1\"}" },
		{ "sit", "sit", "{\"local\":\"203.0.113.2\",\"remote\":\"203.0.113.1\"}" },
		{ "ip6tnl", "ip6tnl", "{\"local\":\"2001:db8::2\",\"remote\":\"2001:db8::1\"}" },
		{ "vti", "vti", "{\"remote\":\"203.0.113.1\"}" },
		{ "vti6", "vti6", "{\"remote\":\"2001:db8::1\"}" },
		{ "macsec", "macsec", "{\"realdev\":2}" },
		{ "wireguard", "wireguard", "{}" },
		{ "dummy", "dummy", "{}" },
		{ "vrf", "vrf", "{\"table\":10}" },
	};
	size_t n = sizeof(minimal) / sizeof(minimal[0]), newlink = 0;
	for (size_t i = 0; i < kinds_count(); i++) {
		const struct kind *k = kinds_at(i);
		enum kind_how how = kind_how(k);
		if (how != KIND_NEWLINK && how != KIND_WIREGUARD)
			continue;
		newlink++;
		size_t j;
		for (j = 0; j < n && strcmp(minimal[j].kind, kind_name(k)) != 0; j++)
			;
		if (j == n)
			fail_msg("kind %s has no minimal test case", kind_name(k));
		struct built b;
		build(&b, minimal[j].kind, "t0", minimal[j].json, 0);
		expect_kind(&b, minimal[j].ifkind);
		done(&b);
	}
	assert_int_equal(newlink, n);
	/* The others, by how they are made. */
	assert_int_equal(kind_how(kinds_find("team")), KIND_TEAMD);
	assert_int_equal(kind_how(kinds_find("tun")), KIND_TUN);
	assert_int_equal(kind_how(kinds_find("tap")), KIND_TUN);
	assert_int_equal(kind_how(kinds_find("l2tp")), KIND_L2TP);
	assert_int_equal(kinds_count(), n + 4);
}

static void test_templates(void **state)
{
	(void)state;
	static const char *const expect[][2] = {
		{ "bridge", "t_br" }, { "bond", "t_bond" }, { "team", "t_team" }, { "macvlan", "t_macvlan" },
		{ "vlan", "t_vlan" }, { "vxlan", "t_vxlan" }, { "geneve", "t_gnv" }, { "gre", "t_gre" },
		{ "ip6gre", "t_ip6gre" }, { "sit", "t_sit" }, { "ipip", "t_ipip" }, { "ip6tnl", "t_ip6tnl" },
		{ "vti", "t_vti" }, { "vti6", "t_ip6vti" }, { "macsec", "t_macsec" }, { "l2tp", "t_l2tp" },
		{ "veth", "t_veth" }, { "tun", "t_tun" }, { "tap", "t_tap" },
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		assert_string_equal(kind_template(kinds_find(expect[i][0])), expect[i][1]);
}

/* ---- per kind -------------------------------------------------------------- */

static void test_veth(void **state)
{
	(void)state;
	struct built b;
	build(&b, "veth", "va", "{\"peer_name\":\"vb\",\"mtu\":1400,\"hwaddr\":\"02:00:00:00:00:0a\"}",
	      VETH_INFO_MAX);
	expect_kind(&b, "veth");
	expect_u32(b.tb, IFLA_MTU, 1400);
	expect_mac(b.tb, IFLA_ADDRESS, "02:00:00:00:00:0a");
	struct nlattr *peer = b.data[VETH_INFO_PEER];
	assert_non_null(peer);
	/* VETH_INFO_PEER = struct ifinfomsg, then the peer's attributes. */
	int off = NLMSG_ALIGN(sizeof(struct ifinfomsg));
	assert_true(nla_len(peer) > off);
	struct nlattr *ptb[IFLA_MAX + 1];
	assert_int_equal(nla_parse(ptb, IFLA_MAX, (struct nlattr *)((char *)nla_data(peer) + off),
				   nla_len(peer) - off, NULL), 0);
	assert_string_equal(nla_get_string(ptb[IFLA_IFNAME]), "vb");
	done(&b);
	/* default peer name, LNST style */
	build(&b, "veth", "t_veth0", "{}", VETH_INFO_MAX);
	assert_string_equal(req.peer_name, "peer_t_veth0");
	done(&b);
	expect_error("veth", "t_veth_long_nm", "{}",
		     "veth t_veth_long_nm: the default peer name 'peer_t_veth_long_nm' is longer than 15 "
		     "characters: give 'peer_name'");
	expect_error("veth", "va", "{\"peer_name\":\"va\"}", "veth va: 'peer_name' must differ from the device's name");
	expect_error("veth", "va", "{\"peer_name\":\"a/b\"}",
		     "veth va: parameter 'peer_name' must be an interface name (1 to 15 characters, no '/', ':' or "
		     "spaces), got \"a/b\"");
}

static void test_bridge(void **state)
{
	(void)state;
	struct built b;
	build(&b, "bridge", "br0",
	      "{\"stp_state\":0,\"vlan_filtering\":true,\"ageing_time\":30000,\"forward_delay\":1500,"
	      "\"hello_time\":200,\"max_age\":2000,\"priority\":4096,\"vlan_protocol\":\"802.1ad\","
	      "\"vlan_default_pvid\":10,\"mcast_snooping\":false,\"group_fwd_mask\":8,"
	      "\"group_address\":\"01:80:c2:00:00:0e\",\"mcast_igmp_version\":3,\"master\":7}",
	      IFLA_BR_MAX);
	expect_kind(&b, "bridge");
	expect_u32(b.tb, IFLA_MASTER, 7);
	expect_u32(b.data, IFLA_BR_STP_STATE, 0);
	expect_u8(b.data, IFLA_BR_VLAN_FILTERING, 1);
	expect_u32(b.data, IFLA_BR_AGEING_TIME, 30000);
	expect_u32(b.data, IFLA_BR_FORWARD_DELAY, 1500);
	expect_u32(b.data, IFLA_BR_HELLO_TIME, 200);
	expect_u32(b.data, IFLA_BR_MAX_AGE, 2000);
	expect_u16(b.data, IFLA_BR_PRIORITY, 4096);
	expect_be16(b.data, IFLA_BR_VLAN_PROTOCOL, 0x88a8);
	expect_u16(b.data, IFLA_BR_VLAN_DEFAULT_PVID, 10);
	expect_u8(b.data, IFLA_BR_MCAST_SNOOPING, 0);
	expect_u16(b.data, IFLA_BR_GROUP_FWD_MASK, 8);
	expect_mac(b.data, IFLA_BR_GROUP_ADDR, "01:80:c2:00:00:0e");
	expect_u8(b.data, IFLA_BR_MCAST_IGMP_VERSION, 3);
	expect_data_count(&b, 13);
	done(&b);
	build(&b, "bridge", "br1", "{}", IFLA_BR_MAX);
	expect_data_count(&b, 0);
	done(&b);
	expect_error("bridge", "br0", "{\"stp_state\":2}",
		     "bridge br0: parameter 'stp_state' must be a boolean (true/false, or 1/0), got 2");
	expect_error("bridge", "br0", "{\"vlan_default_pvid\":4095}",
		     "bridge br0: parameter 'vlan_default_pvid' must be an integer between 0 and 4094, got 4095");
	expect_error("bridge", "br0", "{\"vlan_protocol\":\"802.1x\"}",
		     "bridge br0: parameter 'vlan_protocol' must be one of 802.1Q, 802.1ad, got \"802.1x\"");
}

static void test_bond(void **state)
{
	(void)state;
	struct built b;
	build(&b, "bond", "bond0",
	      "{\"mode\":\"802.3ad\",\"miimon\":100,\"updelay\":200,\"downdelay\":300,\"use_carrier\":false,"
	      "\"lacp_rate\":\"fast\",\"ad_select\":\"bandwidth\",\"xmit_hash_policy\":\"layer3+4\","
	      "\"min_links\":1,\"ad_actor_sys_prio\":100,\"ad_user_port_key\":5,"
	      "\"ad_actor_system\":\"02:00:00:00:00:01\",\"all_slaves_active\":1,\"resend_igmp\":2,"
	      "\"num_peer_notif\":3,\"primary_reselect\":\"better\",\"fail_over_mac\":\"active\","
	      "\"tlb_dynamic_lb\":true,\"lp_interval\":2,\"packets_per_slave\":4,\"peer_notif_delay\":0,"
	      "\"lacp_active\":true,\"missed_max\":5,\"primary\":3}",
	      IFLA_BOND_MAX);
	expect_kind(&b, "bond");
	expect_u8(b.data, IFLA_BOND_MODE, 4);
	expect_u32(b.data, IFLA_BOND_MIIMON, 100);
	expect_u32(b.data, IFLA_BOND_UPDELAY, 200);
	expect_u32(b.data, IFLA_BOND_DOWNDELAY, 300);
	expect_u8(b.data, IFLA_BOND_USE_CARRIER, 0);
	expect_u8(b.data, IFLA_BOND_AD_LACP_RATE, 1);
	expect_u8(b.data, IFLA_BOND_AD_SELECT, 1);
	expect_u8(b.data, IFLA_BOND_XMIT_HASH_POLICY, 1);
	expect_u32(b.data, IFLA_BOND_MIN_LINKS, 1);
	expect_u16(b.data, IFLA_BOND_AD_ACTOR_SYS_PRIO, 100);
	expect_u16(b.data, IFLA_BOND_AD_USER_PORT_KEY, 5);
	expect_mac(b.data, IFLA_BOND_AD_ACTOR_SYSTEM, "02:00:00:00:00:01");
	expect_u8(b.data, IFLA_BOND_ALL_SLAVES_ACTIVE, 1);
	expect_u32(b.data, IFLA_BOND_RESEND_IGMP, 2);
	expect_u8(b.data, IFLA_BOND_NUM_PEER_NOTIF, 3);
	expect_u8(b.data, IFLA_BOND_PRIMARY_RESELECT, 1);
	expect_u8(b.data, IFLA_BOND_FAIL_OVER_MAC, 1);
	expect_u8(b.data, IFLA_BOND_TLB_DYNAMIC_LB, 1);
	expect_u32(b.data, IFLA_BOND_LP_INTERVAL, 2);
	expect_u32(b.data, IFLA_BOND_PACKETS_PER_SLAVE, 4);
	expect_u32(b.data, IFLA_BOND_PEER_NOTIF_DELAY, 0);
	expect_u8(b.data, IFLA_BOND_AD_LACP_ACTIVE, 1);
	expect_u8(b.data, IFLA_BOND_MISSED_MAX, 5);
	expect_u32(b.data, IFLA_BOND_PRIMARY, 3);
	expect_data_count(&b, 24);
	struct kref refs[4];
	assert_int_equal(kinds_refs(&req, refs, 4), 1);
	assert_string_equal(refs[0].param, "primary");
	assert_int_equal(refs[0].ifindex, 3);
	done(&b);

	/* ARP monitoring: targets are a nested list of big-endian addresses */
	build(&b, "bond", "bond1",
	      "{\"mode\":1,\"arp_interval\":100,\"arp_ip_target\":[\"198.51.100.1\",\"198.51.100.2\"],"
	      "\"arp_validate\":\"all\",\"arp_all_targets\":\"all\",\"ns_ip6_target\":[\"2001:db8::1\"]}",
	      IFLA_BOND_MAX);
	expect_u8(b.data, IFLA_BOND_MODE, 1);
	expect_u32(b.data, IFLA_BOND_ARP_INTERVAL, 100);
	expect_u32(b.data, IFLA_BOND_ARP_VALIDATE, 3);
	expect_u32(b.data, IFLA_BOND_ARP_ALL_TARGETS, 1);
	struct nlattr *t[KINDS_MAX_LIST + 1];
	assert_int_equal(count_nested(b.data[IFLA_BOND_ARP_IP_TARGET]), 2);
	assert_int_equal(nla_parse_nested(t, KINDS_MAX_LIST, b.data[IFLA_BOND_ARP_IP_TARGET], NULL), 0);
	expect_addr(t, 0, "198.51.100.1");
	expect_addr(t, 1, "198.51.100.2");
	assert_int_equal(nla_parse_nested(t, KINDS_MAX_LIST, b.data[IFLA_BOND_NS_IP6_TARGET], NULL), 0);
	expect_addr(t, 0, "2001:db8::1");
	done(&b);

	/* every mode by name and by number */
	static const char *const modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast",
					     "802.3ad", "balance-tlb", "balance-alb" };
	for (int i = 0; i < 7; i++) {
		char json[64];
		snprintf(json, sizeof(json), "{\"mode\":\"%s\"}", modes[i]);
		build(&b, "bond", "b", json, IFLA_BOND_MAX);
		expect_u8(b.data, IFLA_BOND_MODE, (uint8_t)i);
		done(&b);
		snprintf(json, sizeof(json), "{\"mode\":%d}", i);
		build(&b, "bond", "b", json, IFLA_BOND_MAX);
		expect_u8(b.data, IFLA_BOND_MODE, (uint8_t)i);
		done(&b);
	}
	expect_error("bond", "bond0", "{\"mode\":\"active_backup\"}",
		     "bond bond0: parameter 'mode' must be one of balance-rr, active-backup, balance-xor, broadcast, "
		     "802.3ad, balance-tlb, balance-alb, got \"active_backup\"");
	expect_error("bond", "bond0", "{\"miimon\":-1}",
		     "bond bond0: parameter 'miimon' must be an integer between 0 and 2147483647, got -1");
	expect_error("bond", "bond0", "{\"ad_user_port_key\":1024}",
		     "bond bond0: parameter 'ad_user_port_key' must be an integer between 0 and 1023, got 1024");
	expect_error("bond", "bond0", "{\"arp_ip_target\":[\"2001:db8::1\"]}",
		     "bond bond0: parameter 'arp_ip_target' must be a list of at most 16 IPv4 addresses, got "
		     "[\"2001:db8::1\"]");
	expect_error("bond", "bond0", "{\"miimon\":1.5}",
		     "bond bond0: parameter 'miimon' must be an integer between 0 and 2147483647, got 1.5");
}

static void test_team(void **state)
{
	(void)state;
	const char *argv[8];
	char *config;
	assert_int_equal(parse("team", "team0", "{\"config\":{\"runner\":{\"name\":\"activebackup\"}},\"dbus\":true}"), 0);
	assert_int_equal(kinds_teamd_argv(&req, argv, &config), 0);
	assert_string_equal(argv[0], "teamd");
	assert_string_equal(argv[1], "-c");
	assert_string_equal(argv[2], "{\"runner\":{\"name\":\"activebackup\"},\"device\":\"team0\"}");
	assert_string_equal(argv[3], "-t");
	assert_string_equal(argv[4], "team0");
	assert_string_equal(argv[5], "-D");
	assert_null(argv[6]);
	free(config);
	/* default runner; a name with shell characters stays one argv item */
	assert_int_equal(parse("team", "t;rm", "{}"), 0);
	assert_int_equal(kinds_teamd_argv(&req, argv, &config), 0);
	assert_string_equal(argv[2], "{\"device\":\"t;rm\",\"runner\":{\"name\":\"roundrobin\"}}");
	assert_string_equal(argv[4], "t;rm");
	assert_null(argv[5]);
	free(config);
	expect_error("team", "team0", "{\"config\":{\"device\":\"other\"}}",
		     "team team0: config.device must be the device's name 'team0' or absent");
	expect_error("team", "team0", "{\"config\":\"x\"}",
		     "team team0: parameter 'config' must be a table with named fields, got \"x\"");
}

static void test_vlan(void **state)
{
	(void)state;
	struct built b;
	build(&b, "vlan", "eth0.10",
	      "{\"realdev\":2,\"vlan_id\":10,\"protocol\":\"802.1ad\",\"reorder_hdr\":false,\"gvrp\":true}",
	      IFLA_VLAN_MAX);
	expect_kind(&b, "vlan");
	expect_u32(b.tb, IFLA_LINK, 2);
	expect_u16(b.data, IFLA_VLAN_ID, 10);
	expect_be16(b.data, IFLA_VLAN_PROTOCOL, 0x88a8);
	assert_non_null(b.data[IFLA_VLAN_FLAGS]);
	struct ifla_vlan_flags *f = nla_data(b.data[IFLA_VLAN_FLAGS]);
	assert_int_equal(f->flags, VLAN_FLAG_GVRP);
	assert_int_equal(f->mask, VLAN_FLAG_GVRP | VLAN_FLAG_REORDER_HDR);
	expect_data_count(&b, 3);
	done(&b);
	expect_error("vlan", "v", "{\"realdev\":2}", "vlan v: missing mandatory parameter 'vlan_id'");
	expect_error("vlan", "v", "{\"vlan_id\":5}", "vlan v: missing mandatory parameter 'realdev'");
	expect_error("vlan", "v", "{\"realdev\":2,\"vlan_id\":4095}",
		     "vlan v: parameter 'vlan_id' must be an integer between 1 and 4094, got 4095");
	expect_error("vlan", "v", "{\"realdev\":2,\"vlan_id\":0}",
		     "vlan v: parameter 'vlan_id' must be an integer between 1 and 4094, got 0");
	expect_error("vlan", "v", "{\"realdev\":\"eth0\",\"vlan_id\":1}",
		     "vlan v: parameter 'realdev' must be a device (an ifindex on this host), got \"eth0\"");
}

static void test_macvlan_macvtap_ipvlan(void **state)
{
	(void)state;
	struct built b;
	build(&b, "macvlan", "mv0", "{\"realdev\":4,\"mode\":\"bridge\",\"nopromisc\":true}", IFLA_MACVLAN_MAX);
	expect_kind(&b, "macvlan");
	expect_u32(b.tb, IFLA_LINK, 4);
	expect_u32(b.data, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	expect_u16(b.data, IFLA_MACVLAN_FLAGS, MACVLAN_FLAG_NOPROMISC);
	expect_data_count(&b, 2);
	done(&b);
	static const char *const modes[] = { "private", "vepa", "bridge", "passthru", "source" };
	for (int i = 0; i < 5; i++) {
		char json[64];
		snprintf(json, sizeof(json), "{\"realdev\":4,\"mode\":\"%s\"}", modes[i]);
		build(&b, "macvtap", "mvt0", json, IFLA_MACVLAN_MAX);
		expect_kind(&b, "macvtap");
		expect_u32(b.data, IFLA_MACVLAN_MODE, 1u << i);
		done(&b);
	}
	build(&b, "ipvlan", "ipv0", "{\"realdev\":4,\"mode\":\"l3s\"}", IFLA_IPVLAN_MAX);
	expect_kind(&b, "ipvlan");
	expect_u32(b.tb, IFLA_LINK, 4);
	expect_u16(b.data, IFLA_IPVLAN_MODE, IPVLAN_MODE_L3S);
	done(&b);
	expect_error("macvlan", "mv0", "{}", "macvlan mv0: missing mandatory parameter 'realdev'");
	expect_error("macvlan", "mv0", "{\"realdev\":4,\"mode\":\"bridged\"}",
		     "macvlan mv0: parameter 'mode' must be one of private, vepa, bridge, passthru, source, got "
		     "\"bridged\"");
	expect_error("ipvlan", "i", "{\"realdev\":4,\"mode\":\"l4\"}",
		     "ipvlan i: parameter 'mode' must be one of l2, l3, l3s, got \"l4\"");
}

static void test_vxlan(void **state)
{
	(void)state;
	struct built b;
	/* IPv4 unicast remote */
	build(&b, "vxlan", "vx0",
	      "{\"vxlan_id\":42,\"remote\":\"203.0.113.2\",\"local\":\"203.0.113.1\",\"dst_port\":4789,"
	      "\"realdev\":3,\"learning\":false,\"ttl\":64}",
	      IFLA_VXLAN_MAX);
	expect_kind(&b, "vxlan");
	expect_u32(b.data, IFLA_VXLAN_ID, 42);
	expect_addr(b.data, IFLA_VXLAN_GROUP, "203.0.113.2");
	expect_addr(b.data, IFLA_VXLAN_LOCAL, "203.0.113.1");
	expect_be16(b.data, IFLA_VXLAN_PORT, 4789);
	expect_u32(b.data, IFLA_VXLAN_LINK, 3);
	expect_u8(b.data, IFLA_VXLAN_LEARNING, 0);
	expect_u8(b.data, IFLA_VXLAN_TTL, 64);
	assert_null(b.data[IFLA_VXLAN_GROUP6]);
	expect_data_count(&b, 7);
	done(&b);
	/* IPv6 remote and local */
	build(&b, "vxlan", "vx6", "{\"vxlan_id\":7,\"remote\":\"2001:db8::2\",\"local\":\"2001:db8::1\"}",
	      IFLA_VXLAN_MAX);
	expect_addr(b.data, IFLA_VXLAN_GROUP6, "2001:db8::2");
	expect_addr(b.data, IFLA_VXLAN_LOCAL6, "2001:db8::1");
	assert_null(b.data[IFLA_VXLAN_GROUP]);
	done(&b);
	/* IPv6 and IPv4 multicast groups */
	build(&b, "vxlan", "vxg6", "{\"vxlan_id\":8,\"group\":\"ff05::100\",\"realdev\":3}", IFLA_VXLAN_MAX);
	expect_addr(b.data, IFLA_VXLAN_GROUP6, "ff05::100");
	expect_u32(b.data, IFLA_VXLAN_LINK, 3);
	done(&b);
	build(&b, "vxlan", "vxg4", "{\"vxlan_id\":9,\"group\":\"239.1.1.1\",\"realdev\":3}", IFLA_VXLAN_MAX);
	expect_addr(b.data, IFLA_VXLAN_GROUP, "239.1.1.1");
	done(&b);
	/* external (collect metadata), gpe */
	build(&b, "vxlan", "vxe", "{\"external\":true,\"gpe\":true,\"dst_port\":4790}", IFLA_VXLAN_MAX);
	expect_u8(b.data, IFLA_VXLAN_COLLECT_METADATA, 1);
	expect_flag(b.data, IFLA_VXLAN_GPE);
	assert_null(b.data[IFLA_VXLAN_ID]);
	done(&b);
	expect_error("vxlan", "vx0", "{\"remote\":\"203.0.113.2\"}",
		     "vxlan vx0: missing mandatory parameter 'vxlan_id' (optional only with external = true)");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1}",
		     "vxlan vx0: one of 'group' and 'remote' is mandatory (unless external = true)");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"203.0.113.2\",\"group\":\"239.1.1.1\"}",
		     "vxlan vx0: 'group' and 'remote' exclude each other");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"group\":\"239.1.1.1\"}",
		     "vxlan vx0: parameter 'group' needs 'realdev' (the device to join the group on)");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"group\":\"203.0.113.9\",\"realdev\":3}",
		     "vxlan vx0: parameter 'group' must be a multicast address (use 'remote' for unicast)");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"ff05::1\"}",
		     "vxlan vx0: parameter 'remote' must be a unicast address (use 'group' for multicast)");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"2001:db8::2\",\"local\":\"203.0.113.1\"}",
		     "vxlan vx0: 'local' and 'remote' must be of the same address family");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":16777216,\"remote\":\"203.0.113.2\"}",
		     "vxlan vx0: parameter 'vxlan_id' must be an integer between 0 and 16777215, got 16777216");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"203.0.113.2\",\"dst_port\":0}",
		     "vxlan vx0: parameter 'dst_port' must be an integer between 1 and 65535, got 0");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"host2\"}",
		     "vxlan vx0: parameter 'remote' must be an IPv4 or IPv6 address, got \"host2\"");
	expect_error("vxlan", "vx0", "{\"vxlan_id\":1,\"remote\":\"203.0.113.2\",\"vni\":1}",
		     "vxlan vx0: unknown parameter 'vni' (known: hwaddr, master, mtu, vxlan_id, group, remote, local, "
		     "realdev, dst_port, ttl, tos, flowlabel, learning, ageing, maxaddress, proxy, rsc, l2miss, "
		     "l3miss, udp_csum, udp6zerocsumtx, udp6zerocsumrx, external, gbp, gpe)");
}

static void test_geneve(void **state)
{
	(void)state;
	struct built b;
	build(&b, "geneve", "gnv0", "{\"id\":5,\"remote\":\"203.0.113.2\",\"dst_port\":6081,\"ttl\":9}",
	      IFLA_GENEVE_MAX);
	expect_kind(&b, "geneve");
	expect_u32(b.data, IFLA_GENEVE_ID, 5);
	expect_addr(b.data, IFLA_GENEVE_REMOTE, "203.0.113.2");
	expect_be16(b.data, IFLA_GENEVE_PORT, 6081);
	expect_u8(b.data, IFLA_GENEVE_TTL, 9);
	done(&b);
	build(&b, "geneve", "gnv6", "{\"id\":5,\"remote\":\"2001:db8::2\"}", IFLA_GENEVE_MAX);
	expect_addr(b.data, IFLA_GENEVE_REMOTE6, "2001:db8::2");
	assert_null(b.data[IFLA_GENEVE_REMOTE]);
	done(&b);
	build(&b, "geneve", "gnve", "{\"external\":true}", IFLA_GENEVE_MAX);
	expect_flag(b.data, IFLA_GENEVE_COLLECT_METADATA);
	done(&b);
	expect_error("geneve", "g", "{\"remote\":\"203.0.113.2\"}",
		     "geneve g: missing mandatory parameter 'id' (optional only with external = true)");
	expect_error("geneve", "g", "{\"id\":1}",
		     "geneve g: missing mandatory parameter 'remote' (optional only with external = true)");
}

static void test_gre(void **state)
{
	(void)state;
	struct built b;
	build(&b, "gre", "gre0",
	      "{\"remote\":\"203.0.113.2\",\"local\":\"203.0.113.1\",\"ttl\":64,\"key\":1000,\"realdev\":2,"
	      "\"pmtudisc\":true}",
	      IFLA_GRE_MAX);
	expect_kind(&b, "gre");
	expect_addr(b.data, IFLA_GRE_REMOTE, "203.0.113.2");
	expect_addr(b.data, IFLA_GRE_LOCAL, "203.0.113.1");
	expect_u8(b.data, IFLA_GRE_TTL, 64);
	expect_be32(b.data, IFLA_GRE_IKEY, 1000);
	expect_be32(b.data, IFLA_GRE_OKEY, 1000);
	expect_be16(b.data, IFLA_GRE_IFLAGS, 0x2000); /* GRE_KEY */
	expect_be16(b.data, IFLA_GRE_OFLAGS, 0x2000);
	expect_u32(b.data, IFLA_GRE_LINK, 2);
	expect_u8(b.data, IFLA_GRE_PMTUDISC, 1);
	expect_data_count(&b, 9);
	done(&b);
	build(&b, "gretap", "gt0", "{\"external\":true}", IFLA_GRE_MAX);
	expect_kind(&b, "gretap");
	expect_flag(b.data, IFLA_GRE_COLLECT_METADATA);
	expect_data_count(&b, 1);
	done(&b);
	build(&b, "gretap", "gt1", "{\"remote\":\"203.0.113.2\",\"ikey\":5}", IFLA_GRE_MAX);
	expect_be32(b.data, IFLA_GRE_IKEY, 5);
	assert_null(b.data[IFLA_GRE_OKEY]);
	done(&b);
	expect_error("gre", "g", "{}", "gre g: missing mandatory parameter 'remote' (optional only with external = true)");
	expect_error("gre", "g", "{\"remote\":\"2001:db8::1\"}",
		     "gre g: parameter 'remote' must be an IPv4 address, got \"2001:db8::1\"");
	expect_error("gre", "g", "{\"remote\":\"203.0.113.2\",\"key\":1,\"okey\":2}",
		     "gre g: 'key' sets both 'ikey' and 'okey': give either 'key' or 'ikey'/'okey'");
}

static void test_ip6gre(void **state)
{
	(void)state;
	struct built b;
	build(&b, "ip6gre", "g6", "{\"remote\":\"2001:db8::2\",\"local\":\"2001:db8::1\",\"key\":7,\"ttl\":3,"
	      "\"flowinfo\":5}",
	      IFLA_GRE_MAX);
	expect_kind(&b, "ip6gre");
	expect_addr(b.data, IFLA_GRE_REMOTE, "2001:db8::2");
	expect_addr(b.data, IFLA_GRE_LOCAL, "2001:db8::1");
	expect_be32(b.data, IFLA_GRE_IKEY, 7);
	expect_be32(b.data, IFLA_GRE_OKEY, 7);
	expect_be16(b.data, IFLA_GRE_IFLAGS, 0x2000);
	expect_be16(b.data, IFLA_GRE_OFLAGS, 0x2000);
	expect_u8(b.data, IFLA_GRE_TTL, 3);
	expect_be32(b.data, IFLA_GRE_FLOWINFO, 5);
	done(&b);
	expect_error("ip6gre", "g6", "{}", "ip6gre g6: missing mandatory parameter 'remote'");
	expect_error("ip6gre", "g6", "{\"remote\":\"203.0.113.2\"}",
		     "ip6gre g6: parameter 'remote' must be an IPv6 address, got \"203.0.113.2\"");
}

static void test_ipip_sit_ip6tnl(void **state)
{
	(void)state;
	struct built b;
	build(&b, "ipip", "ip0", "{\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\",\"mode\":\"mplsip\",\"ttl\":5}",
	      IFLA_IPTUN_MAX);
	expect_kind(&b, "ipip");
	expect_addr(b.data, IFLA_IPTUN_LOCAL, "203.0.113.1");
	expect_addr(b.data, IFLA_IPTUN_REMOTE, "203.0.113.2");
	expect_u8(b.data, IFLA_IPTUN_PROTO, IPPROTO_MPLS);
	expect_u8(b.data, IFLA_IPTUN_TTL, 5);
	expect_data_count(&b, 4);
	done(&b);
	build(&b, "sit", "sit0", "{\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\",\"mode\":\"ip6ip\"}",
	      IFLA_IPTUN_MAX);
	expect_kind(&b, "sit");
	expect_addr(b.data, IFLA_IPTUN_LOCAL, "203.0.113.1");
	expect_addr(b.data, IFLA_IPTUN_REMOTE, "203.0.113.2");
	expect_u8(b.data, IFLA_IPTUN_PROTO, IPPROTO_IPV6);
	done(&b);
	build(&b, "ip6tnl", "t6", "{\"local\":\"2001:db8::1\",\"remote\":\"2001:db8::2\",\"mode\":\"ipip6\",\"encaplimit\":4,"
	      "\"flowinfo\":74565}",
	      IFLA_IPTUN_MAX);
	expect_kind(&b, "ip6tnl");
	expect_addr(b.data, IFLA_IPTUN_LOCAL, "2001:db8::1");
	expect_addr(b.data, IFLA_IPTUN_REMOTE, "2001:db8::2");
	expect_u8(b.data, IFLA_IPTUN_PROTO, IPPROTO_IPIP);
	expect_u8(b.data, IFLA_IPTUN_ENCAP_LIMIT, 4);
	expect_be32(b.data, IFLA_IPTUN_FLOWINFO, 74565);
	done(&b);
	expect_error("ipip", "i", "{\"remote\":\"203.0.113.2\"}",
		     "ipip i: missing mandatory parameter 'local' (optional only with external = true)");
	expect_error("sit", "s", "{\"local\":\"203.0.113.2\"}", "sit s: missing mandatory parameter 'remote'");
	expect_error("sit", "s", "{\"local\":\"203.0.113.2\",\"remote\":\"203.0.113.1\",\"mode\":\"gre\"}",
		     "sit s: parameter 'mode' must be one of any, ip6ip, ipv6, ipip, ip4ip4, mplsip, mpls, got \"gre\"");
	expect_error("ip6tnl", "t", "{\"local\":\"2001:db8::1\",\"remote\":\"2001:db8::2\",\"mode\":\"ipip\"}",
		     "ip6tnl t: parameter 'mode' must be one of any, ipip6, ip6ip6, got \"ipip\"");
}

static void test_vti(void **state)
{
	(void)state;
	struct built b;
	build(&b, "vti", "vti0", "{\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\",\"key\":9,\"realdev\":2}",
	      IFLA_VTI_MAX);
	expect_kind(&b, "vti");
	expect_addr(b.data, IFLA_VTI_LOCAL, "203.0.113.1");
	expect_addr(b.data, IFLA_VTI_REMOTE, "203.0.113.2");
	expect_be32(b.data, IFLA_VTI_IKEY, 9);
	expect_be32(b.data, IFLA_VTI_OKEY, 9);
	expect_u32(b.data, IFLA_VTI_LINK, 2);
	done(&b);
	build(&b, "vti6", "vti6", "{\"remote\":\"2001:db8::2\",\"okey\":3}", IFLA_VTI_MAX);
	expect_kind(&b, "vti6");
	expect_addr(b.data, IFLA_VTI_REMOTE, "2001:db8::2");
	expect_be32(b.data, IFLA_VTI_OKEY, 3);
	assert_null(b.data[IFLA_VTI_IKEY]);
	done(&b);
	expect_error("vti", "v", "{}", "vti v: at least one of 'local' and 'remote' is mandatory");
	expect_error("vti6", "v", "{\"local\":\"203.0.113.1\"}",
		     "vti6 v: parameter 'local' must be an IPv6 address, got \"203.0.113.1\"");
}

static void test_macsec(void **state)
{
	(void)state;
	struct built b;
	build(&b, "macsec", "ms0",
	      "{\"realdev\":2,\"encrypt\":true,\"port\":11,\"cipher\":\"gcm-aes-256\",\"icv_len\":16,"
	      "\"validate\":\"check\",\"encoding_sa\":2,\"replay_protect\":true,\"window\":32}",
	      IFLA_MACSEC_MAX);
	expect_kind(&b, "macsec");
	expect_u32(b.tb, IFLA_LINK, 2);
	expect_u8(b.data, IFLA_MACSEC_ENCRYPT, 1);
	expect_be16(b.data, IFLA_MACSEC_PORT, 11);
	expect_u64(b.data, IFLA_MACSEC_CIPHER_SUITE, MACSEC_CIPHER_ID_GCM_AES_256);
	expect_u8(b.data, IFLA_MACSEC_ICV_LEN, 16);
	expect_u8(b.data, IFLA_MACSEC_VALIDATION, MACSEC_VALIDATE_CHECK);
	expect_u8(b.data, IFLA_MACSEC_ENCODING_SA, 2);
	expect_u8(b.data, IFLA_MACSEC_REPLAY_PROTECT, 1);
	expect_u32(b.data, IFLA_MACSEC_WINDOW, 32);
	done(&b);
	build(&b, "macsec", "ms1", "{\"realdev\":2,\"sci\":\"0x0102030405060708\"}", IFLA_MACSEC_MAX);
	static const uint8_t sci[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(nla_len(b.data[IFLA_MACSEC_SCI]), 8);
	assert_memory_equal(nla_data(b.data[IFLA_MACSEC_SCI]), sci, 8);
	assert_null(b.data[IFLA_MACSEC_PORT]);
	done(&b);
	expect_error("macsec", "m", "{\"realdev\":2,\"sci\":1,\"port\":2}",
		     "macsec m: 'sci' and 'port' exclude each other (the SCI contains the port)");
	expect_error("macsec", "m", "{\"realdev\":2,\"icv_len\":20}",
		     "macsec m: parameter 'icv_len' must be an integer between 8 and 16, got 20");
	expect_error("macsec", "m", "{}", "macsec m: missing mandatory parameter 'realdev'");
}

static void test_vrf_dummy_wireguard(void **state)
{
	(void)state;
	struct built b;
	build(&b, "vrf", "vrf0", "{\"table\":100}", IFLA_VRF_MAX);
	expect_kind(&b, "vrf");
	expect_u32(b.data, IFLA_VRF_TABLE, 100);
	done(&b);
	expect_error("vrf", "v", "{}", "vrf v: missing mandatory parameter 'table'");
	build(&b, "dummy", "d0", "{\"mtu\":9000}", 0);
	expect_kind(&b, "dummy");
	expect_u32(b.tb, IFLA_MTU, 9000);
	expect_data_count(&b, 0);
	done(&b);
	expect_error("dummy", "d0", "{\"mode\":1}", "dummy d0: unknown parameter 'mode' (known: hwaddr, master, mtu)");
	build(&b, "wireguard", "wg0", "{\"listen_port\":51820}", 0);
	expect_kind(&b, "wireguard");
	expect_data_count(&b, 0);
	done(&b);
}

static void test_wireguard_config(void **state)
{
	(void)state;
	/* keys: base64 of 32 bytes 0x01..0x20 and of 32 x 0xff */
	const char *priv = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
	const char *pub = "//////////////////////////////////////////8=";
	char json[512];
	snprintf(json, sizeof(json),
		 "{\"private_key\":\"%s\",\"listen_port\":51820,\"fwmark\":3,\"peers\":[{\"public_key\":\"%s\","
		 "\"endpoint\":\"[2001:db8::2]:51820\",\"allowed_ips\":[\"198.51.100.0/24\",\"2001:db8:1::/64\"],"
		 "\"persistent_keepalive\":25}]}",
		 priv, pub);
	assert_int_equal(parse("wireguard", "wg0", json), 0);
	struct nl_msg *m;
	assert_int_equal(kinds_wg_msg(&req, 0x20, 12, &m), 0);
	assert_non_null(m);
	struct nlmsghdr *h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_type, 0x20);
	struct genlmsghdr *g = nlmsg_data(h);
	assert_int_equal(g->cmd, WG_CMD_SET_DEVICE);
	struct nlattr *d[WGDEVICE_A_MAX + 1];
	assert_int_equal(nlmsg_parse(h, GENL_HDRLEN, d, WGDEVICE_A_MAX, NULL), 0);
	expect_u32(d, WGDEVICE_A_IFINDEX, 12);
	expect_u16(d, WGDEVICE_A_LISTEN_PORT, 51820);
	expect_u32(d, WGDEVICE_A_FWMARK, 3);
	assert_int_equal(nla_len(d[WGDEVICE_A_PRIVATE_KEY]), 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(((uint8_t *)nla_data(d[WGDEVICE_A_PRIVATE_KEY]))[i], i + 1);
	assert_int_equal(count_nested(d[WGDEVICE_A_PEERS]), 1);
	struct nlattr *peer = nla_data(d[WGDEVICE_A_PEERS]), *p[WGPEER_A_MAX + 1];
	assert_int_equal(nla_parse_nested(p, WGPEER_A_MAX, peer, NULL), 0);
	assert_int_equal(nla_len(p[WGPEER_A_PUBLIC_KEY]), 32);
	assert_int_equal(((uint8_t *)nla_data(p[WGPEER_A_PUBLIC_KEY]))[31], 0xff);
	expect_u16(p, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	struct sockaddr_in6 *ep = nla_data(p[WGPEER_A_ENDPOINT]);
	assert_int_equal(nla_len(p[WGPEER_A_ENDPOINT]), sizeof(*ep));
	assert_int_equal(ep->sin6_family, AF_INET6);
	assert_int_equal(ntohs(ep->sin6_port), 51820);
	assert_int_equal(count_nested(p[WGPEER_A_ALLOWEDIPS]), 2);
	struct nlattr *ip = nla_data(p[WGPEER_A_ALLOWEDIPS]), *a[WGALLOWEDIP_A_MAX + 1];
	assert_int_equal(nla_parse_nested(a, WGALLOWEDIP_A_MAX, ip, NULL), 0);
	expect_u16(a, WGALLOWEDIP_A_FAMILY, AF_INET);
	expect_addr(a, WGALLOWEDIP_A_IPADDR, "198.51.100.0");
	expect_u8(a, WGALLOWEDIP_A_CIDR_MASK, 24);
	nlmsg_free(m);
	/* nothing to configure: no message */
	assert_int_equal(parse("wireguard", "wg1", "{}"), 0);
	assert_int_equal(kinds_wg_msg(&req, 0x20, 12, &m), 0);
	assert_null(m);
	expect_error("wireguard", "wg0", "{\"private_key\":\"abc\"}",
		     "wireguard wg0: parameter 'private_key' must be a base64 key of 32 bytes (as `wg genkey` prints), "
		     "got \"abc\"");
	expect_error("wireguard", "wg0", "{\"peers\":[{\"endpoint\":\"203.0.113.2:1\"}]}",
		     "wireguard wg0: peers[1]: 'public_key' is mandatory: base64 of 32 bytes (wg genkey | wg pubkey)");
	snprintf(json, sizeof(json), "{\"peers\":[{\"public_key\":\"%s\",\"endpoint\":\"203.0.113.2\"}]}", pub);
	expect_error("wireguard", "wg0", json,
		     "wireguard wg0: peers[1]: 'endpoint' must be \"ADDRESS:PORT\" or \"[IPV6]:PORT\"");
	snprintf(json, sizeof(json), "{\"peers\":[{\"public_key\":\"%s\",\"allowed_ips\":[\"10/8\"]}]}", pub);
	expect_error("wireguard", "wg0", json,
		     "wireguard wg0: peers[1]: 'allowed_ips' must be a list of \"ADDRESS/PREFIX\"");
}

static void test_l2tp(void **state)
{
	(void)state;
	assert_int_equal(parse("l2tp", "l2tp0",
			       "{\"tunnel_id\":10,\"session_id\":20,\"peer_session_id\":30,\"cookie\":\"0a0b0c0d\","
			       "\"l2spec_type\":\"none\",\"send_seq\":true}"),
			 0);
	struct nl_msg *m;
	assert_int_equal(kinds_l2tp_session_msg(&req, 0x21, &m), 0);
	struct nlmsghdr *h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_type, 0x21);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(h))->cmd, L2TP_CMD_SESSION_CREATE);
	struct nlattr *a[L2TP_ATTR_MAX + 1];
	assert_int_equal(nlmsg_parse(h, GENL_HDRLEN, a, L2TP_ATTR_MAX, NULL), 0);
	expect_u32(a, L2TP_ATTR_CONN_ID, 10);
	expect_u32(a, L2TP_ATTR_SESSION_ID, 20);
	expect_u32(a, L2TP_ATTR_PEER_SESSION_ID, 30);
	expect_u16(a, L2TP_ATTR_PW_TYPE, L2TP_PWTYPE_ETH);
	assert_string_equal(nla_get_string(a[L2TP_ATTR_IFNAME]), "l2tp0");
	assert_int_equal(nla_len(a[L2TP_ATTR_COOKIE]), 4);
	assert_int_equal(((uint8_t *)nla_data(a[L2TP_ATTR_COOKIE]))[3], 0x0d);
	expect_u8(a, L2TP_ATTR_L2SPEC_TYPE, L2TP_L2SPECTYPE_NONE);
	expect_u8(a, L2TP_ATTR_SEND_SEQ, 1);
	nlmsg_free(m);
	expect_error("l2tp", "l", "{\"tunnel_id\":1,\"session_id\":1}", "l2tp l: missing mandatory parameter 'peer_session_id'");
	expect_error("l2tp", "l", "{\"tunnel_id\":0,\"session_id\":1,\"peer_session_id\":1}",
		     "l2tp l: parameter 'tunnel_id' must be an integer between 1 and 4294967295, got 0");
	expect_error("l2tp", "l", "{\"tunnel_id\":1,\"session_id\":1,\"peer_session_id\":1,\"cookie\":\"abc\"}",
		     "l2tp l: parameter 'cookie' must be 8 or 16 hexadecimal digits (4 or 8 bytes), got \"abc\"");

	/* the tunnel */
	cJSON *t = cJSON_Parse("{\"tunnel_id\":10,\"peer_tunnel_id\":11,\"local\":\"2001:db8::1\","
			       "\"remote\":\"2001:db8::2\",\"udp_sport\":1701,\"udp_dport\":1702}");
	uint32_t tid = 0;
	assert_int_equal(kinds_l2tp_tunnel_msg(t, 0x21, &m, &tid, err, sizeof(err)), 0);
	assert_int_equal(tid, 10);
	h = nlmsg_hdr(m);
	assert_int_equal(((struct genlmsghdr *)nlmsg_data(h))->cmd, L2TP_CMD_TUNNEL_CREATE);
	assert_int_equal(nlmsg_parse(h, GENL_HDRLEN, a, L2TP_ATTR_MAX, NULL), 0);
	expect_u32(a, L2TP_ATTR_CONN_ID, 10);
	expect_u32(a, L2TP_ATTR_PEER_CONN_ID, 11);
	expect_u8(a, L2TP_ATTR_PROTO_VERSION, 3);
	expect_u16(a, L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_UDP);
	expect_addr(a, L2TP_ATTR_IP6_SADDR, "2001:db8::1");
	expect_addr(a, L2TP_ATTR_IP6_DADDR, "2001:db8::2");
	expect_u16(a, L2TP_ATTR_UDP_SPORT, 1701);
	expect_u16(a, L2TP_ATTR_UDP_DPORT, 1702);
	nlmsg_free(m);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"tunnel_id\":10,\"peer_tunnel_id\":11,\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\"}");
	assert_int_equal(kinds_l2tp_tunnel_msg(t, 0x21, &m, &tid, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "l2tp_tunnel 10: encap 'udp' needs 'udp_sport' and 'udp_dport'");
	cJSON_Delete(t);
	t = cJSON_Parse("{\"tunnel_id\":10,\"peer_tunnel_id\":11,\"encap\":\"ip\",\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\"}");
	assert_int_equal(kinds_l2tp_tunnel_msg(t, 0x21, &m, &tid, err, sizeof(err)), 0);
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), GENL_HDRLEN, a, L2TP_ATTR_MAX, NULL), 0);
	expect_u16(a, L2TP_ATTR_ENCAP_TYPE, L2TP_ENCAPTYPE_IP);
	expect_addr(a, L2TP_ATTR_IP_SADDR, "203.0.113.1");
	nlmsg_free(m);
	cJSON_Delete(t);
	t = cJSON_Parse("{\"tunnel_id\":10,\"local\":\"203.0.113.1\",\"remote\":\"203.0.113.2\"}");
	assert_int_equal(kinds_l2tp_tunnel_msg(t, 0x21, &m, &tid, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "l2tp_tunnel 10: missing mandatory parameter 'peer_tunnel_id'");
	cJSON_Delete(t);
}

static void test_tun(void **state)
{
	(void)state;
	struct kinds_tun t;
	assert_int_equal(parse("tap", "tap0", "{\"owner\":1000,\"multi_queue\":true,\"vnet_hdr\":true}"), 0);
	kinds_tun(&req, &t);
	assert_int_equal(t.flags, IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR);
	assert_int_equal(t.owner, 1000);
	assert_int_equal(t.group, -1);
	assert_int_equal(parse("tun", "tun0", "{\"pi\":true,\"group\":5}"), 0);
	kinds_tun(&req, &t);
	assert_int_equal(t.flags, IFF_TUN);
	assert_int_equal(t.owner, -1);
	assert_int_equal(t.group, 5);
	expect_error("tun", "tun0", "{\"owner\":-1}",
		     "tun tun0: parameter 'owner' must be an integer between 0 and 4294967294, got -1");
}

static void test_generic_params(void **state)
{
	(void)state;
	expect_error("bridge", "br0", "{\"mtu\":0}", "bridge br0: parameter 'mtu' must be a positive integer");
	expect_error("bridge", "br0", "{\"hwaddr\":\"zz\"}",
		     "bridge br0: parameter 'hwaddr' must be a MAC address like 02:00:00:00:00:01");
	expect_error("bridge", "br0", "{\"master\":\"br1\"}",
		     "bridge br0: parameter 'master' must be a device (an ifindex on this host)");
	expect_error("bridge", "br0", "{\"stp\":0}",
		     "bridge br0: unknown parameter 'stp' (known: hwaddr, master, mtu, ageing_time, forward_delay, "
		     "hello_time, max_age, stp_state, priority, vlan_filtering, vlan_protocol, vlan_default_pvid, "
		     "vlan_stats_enabled, group_fwd_mask, group_address, mcast_snooping, mcast_querier, "
		     "mcast_router, mcast_igmp_version, mcast_mld_version, nf_call_iptables, nf_call_ip6tables, "
		     "nf_call_arptables)");
	assert_int_equal(kinds_valid_ifname("eth0"), 0);
	assert_int_equal(kinds_valid_ifname(""), -EINVAL);
	assert_int_equal(kinds_valid_ifname("0123456789abcdef"), -EINVAL);
	assert_int_equal(kinds_valid_ifname("a b"), -EINVAL);
	assert_int_equal(kinds_valid_ifname("a:b"), -EINVAL);
	assert_null(kinds_find("bonding"));
}

/* ---- bridge and master messages ----------------------------------------------- */

static void test_master_msg(void **state)
{
	(void)state;
	struct nl_msg *m = brmsg_master(5, 9);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct ifinfomsg *ifi = nlmsg_data(h);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_false(h->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(ifi->ifi_index, 5);
	struct nlattr *tb[IFLA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	expect_u32(tb, IFLA_MASTER, 9);
	nlmsg_free(m);
	m = brmsg_master(5, 0); /* release */
	assert_int_equal(nlmsg_parse(nlmsg_hdr(m), sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	expect_u32(tb, IFLA_MASTER, 0);
	nlmsg_free(m);
}

static void test_vlan_msg(void **state)
{
	(void)state;
	struct nl_msg *m = brmsg_vlan(1, 6, 10, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, 0);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct ifinfomsg *ifi = nlmsg_data(h);
	assert_int_equal(h->nlmsg_type, RTM_SETLINK);
	assert_int_equal(ifi->ifi_family, AF_BRIDGE);
	assert_int_equal(ifi->ifi_index, 6);
	struct nlattr *tb[IFLA_MAX + 1], *spec[IFLA_BRIDGE_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	assert_int_equal(nla_parse_nested(spec, IFLA_BRIDGE_MAX, tb[IFLA_AF_SPEC], NULL), 0);
	assert_null(spec[IFLA_BRIDGE_FLAGS]);
	struct bridge_vlan_info *vi = nla_data(spec[IFLA_BRIDGE_VLAN_INFO]);
	assert_int_equal(nla_len(spec[IFLA_BRIDGE_VLAN_INFO]), sizeof(*vi));
	assert_int_equal(vi->vid, 10);
	assert_int_equal(vi->flags, BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
	nlmsg_free(m);
	/* on the bridge itself: self; deletion is RTM_DELLINK */
	m = brmsg_vlan(0, 3, 20, 0, 1);
	h = nlmsg_hdr(m);
	assert_int_equal(h->nlmsg_type, RTM_DELLINK);
	assert_int_equal(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	assert_int_equal(nla_parse_nested(spec, IFLA_BRIDGE_MAX, tb[IFLA_AF_SPEC], NULL), 0);
	expect_u16(spec, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
	nlmsg_free(m);
}

static void test_fdb_msg(void **state)
{
	(void)state;
	struct brmsg_fdb f = { .ifindex = 4, .vlan = 10, .master = 1, .is_static = 1 };
	assert_int_equal(kinds_parse_mac("02:00:00:00:00:05", f.mac), 0);
	struct nl_msg *m = brmsg_fdb(1, &f);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct ndmsg *nd = nlmsg_data(h);
	assert_int_equal(h->nlmsg_type, RTM_NEWNEIGH);
	assert_true(h->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(nd->ndm_family, AF_BRIDGE);
	assert_int_equal(nd->ndm_ifindex, 4);
	assert_int_equal(nd->ndm_flags, NTF_MASTER);
	assert_int_equal(nd->ndm_state, NUD_NOARP);
	struct nlattr *tb[NDA_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL), 0);
	expect_mac(tb, NDA_LLADDR, "02:00:00:00:00:05");
	expect_u16(tb, NDA_VLAN, 10);
	assert_null(tb[NDA_DST]);
	nlmsg_free(m);
	/* vxlan remote: self + dst, permanent */
	struct brmsg_fdb v = { .ifindex = 8, .self = 1, .permanent = 1, .dst_family = AF_INET6 };
	inet_pton(AF_INET6, "2001:db8::2", v.dst);
	m = brmsg_fdb(1, &v);
	h = nlmsg_hdr(m);
	nd = nlmsg_data(h);
	assert_int_equal(nd->ndm_flags, NTF_SELF);
	assert_int_equal(nd->ndm_state, NUD_PERMANENT);
	assert_int_equal(nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL), 0);
	expect_addr(tb, NDA_DST, "2001:db8::2");
	expect_mac(tb, NDA_LLADDR, "00:00:00:00:00:00");
	assert_null(tb[NDA_VLAN]);
	nlmsg_free(m);
	m = brmsg_fdb(0, &v);
	assert_int_equal(nlmsg_hdr(m)->nlmsg_type, RTM_DELNEIGH);
	nlmsg_free(m);
}

static void test_port_msg(void **state)
{
	(void)state;
	struct brmsg_port p;
	cJSON *j = cJSON_Parse("{\"learning\":false,\"flood\":true,\"mcast_flood\":0,\"cost\":100,"
			       "\"priority\":3,\"state\":\"forwarding\",\"hairpin\":true}");
	assert_int_equal(brmsg_port_parse(j, &p, err, sizeof(err)), 0);
	struct nl_msg *m = brmsg_port(7, &p);
	struct nlmsghdr *h = nlmsg_hdr(m);
	struct ifinfomsg *ifi = nlmsg_data(h);
	assert_int_equal(h->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(ifi->ifi_index, 7);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1], *pa[IFLA_BRPORT_MAX + 1];
	assert_int_equal(nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	assert_int_equal(nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL), 0);
	assert_string_equal(nla_get_string(li[IFLA_INFO_SLAVE_KIND]), "bridge");
	assert_int_equal(nla_parse_nested(pa, IFLA_BRPORT_MAX, li[IFLA_INFO_SLAVE_DATA], NULL), 0);
	expect_u8(pa, IFLA_BRPORT_LEARNING, 0);
	expect_u8(pa, IFLA_BRPORT_UNICAST_FLOOD, 1);
	expect_u8(pa, IFLA_BRPORT_MCAST_FLOOD, 0);
	expect_u32(pa, IFLA_BRPORT_COST, 100);
	expect_u16(pa, IFLA_BRPORT_PRIORITY, 3);
	expect_u8(pa, IFLA_BRPORT_STATE, 3);
	expect_u8(pa, IFLA_BRPORT_MODE, 1);
	assert_int_equal(count_nested(li[IFLA_INFO_SLAVE_DATA]), 7);
	nlmsg_free(m);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"unicast_flood\":false}");
	assert_int_equal(brmsg_port_parse(j, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown bridge port flag 'unicast_flood' (known: learning, flood, mcast_flood, "
				 "bcast_flood, hairpin, isolated, proxy_arp, neigh_suppress, "
				 "guard, root_block, fastleave, cost, priority, state)");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"state\":\"up\"}");
	assert_int_equal(brmsg_port_parse(j, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bridge port flag 'state' must be one of disabled, listening, learning, "
				 "forwarding, blocking, got \"up\"");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_builds),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_veth),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_bond),
		cmocka_unit_test(test_team),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_macvlan_macvtap_ipvlan),
		cmocka_unit_test(test_vxlan),
		cmocka_unit_test(test_geneve),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_ip6gre),
		cmocka_unit_test(test_ipip_sit_ip6tnl),
		cmocka_unit_test(test_vti),
		cmocka_unit_test(test_macsec),
		cmocka_unit_test(test_vrf_dummy_wireguard),
		cmocka_unit_test(test_wireguard_config),
		cmocka_unit_test(test_l2tp),
		cmocka_unit_test(test_tun),
		cmocka_unit_test(test_generic_params),
		cmocka_unit_test(test_master_msg),
		cmocka_unit_test(test_vlan_msg),
		cmocka_unit_test(test_fdb_msg),
		cmocka_unit_test(test_port_msg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
