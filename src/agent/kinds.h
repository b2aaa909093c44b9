/* kinds.h - soft device kinds: what each one accepts and how it is built.
 *
 * One table describes every kind the agent can create (veth, bridge, bond,
 * team, vlan, macvlan, macvtap, ipvlan, vxlan, geneve, gre, gretap, ip6gre,
 * ipip, sit, ip6tnl, vti, vti6, macsec, l2tp, wireguard, dummy, vrf, tun,
 * tap): its parameters with LNST's names, their types and ranges, which are
 * mandatory, its default name template and how the kernel is asked for it.
 *
 * kinds_parse() turns request params into a checked struct kreq or an error
 * naming the kind, the device and the parameter; nothing is sent before
 * that. The builders then make the kernel messages: one RTM_NEWLINK with
 * every attribute (through a libnl-3 route object for the kinds libnl
 * models, with raw IFLA_INFO_DATA attributes for the others), the generic
 * netlink messages of wireguard and L2TP, the teamd argv, the tun ioctl
 * flags. Nothing here touches the kernel or the agent's state, except
 * kinds_probe_start(), which finds the kinds this kernel accepts by creating
 * one of each in a scratch network namespace of a forked child.
 */
#ifndef LNST_KINDS_H
#define LNST_KINDS_H

#include <cjson/cJSON.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KINDS_MAX_PARAMS 48
#define KINDS_MAX_LIST 16

enum kind_how {
	KIND_NEWLINK,   /* one RTM_NEWLINK */
	KIND_WIREGUARD, /* RTM_NEWLINK, then keys and peers over generic netlink */
	KIND_TEAMD,     /* teamd creates the device (argv, no shell) */
	KIND_TUN,       /* open /dev/net/tun, TUNSETIFF, TUNSETPERSIST */
	KIND_L2TP,      /* L2TP_CMD_SESSION_CREATE over generic netlink */
};

struct kind;

/* One parsed parameter value. */
struct kval {
	int set;
	int64_t i;        /* integers, booleans, enums, ifindexes */
	uint64_t u64;     /* 64-bit values (macsec sci) */
	int family;       /* addresses: AF_INET or AF_INET6 */
	uint8_t addr[32]; /* address, MAC or key bytes */
	int n;            /* list length */
	uint8_t list[KINDS_MAX_LIST][16];
	uint8_t prefix[KINDS_MAX_LIST];
	const char *s;    /* strings (point into the request params) */
	const cJSON *json;
};

/* A checked creation request. */
struct kreq {
	const struct kind *kind;
	char name[IFNAMSIZ];
	char peer_name[IFNAMSIZ]; /* veth */
	int mtu;                  /* 0: not given */
	int master;               /* ifindex, 0: none */
	int has_hwaddr;
	uint8_t hwaddr[6];
	struct kval v[KINDS_MAX_PARAMS];
};

/* A device a request refers to (realdev, master, primary...). */
struct kref {
	const char *param;
	int ifindex;
};

const struct kind *kinds_find(const char *name);
size_t kinds_count(void);
const struct kind *kinds_at(size_t i);
const char *kind_name(const struct kind *k);
/* IFLA_INFO_KIND ("team" for teamd, "tun" for tun and tap, "l2tp" for
 * L2TP sessions, whose netdevs carry "l2tp" too). */
const char *kind_ifkind(const struct kind *k);
const char *kind_template(const struct kind *k);
enum kind_how kind_how(const struct kind *k);
/* Comma-separated list of the kind's parameter names, for errors and docs. */
void kind_param_names(const struct kind *k, char *out, size_t n);

/* Parses params of a creation request for kind k and device `name` (keys
 * "kind" and "name" are the caller's). 0, or -EINVAL with err saying
 * "<kind> <name>: <what is wrong>". */
int kinds_parse(const struct kind *k, const char *name, const cJSON *params, struct kreq *r,
		char *err, size_t errlen);
/* The value of parameter `name` in r, NULL when the kind has none or it was
 * not given. */
const struct kval *kinds_value(const struct kreq *r, const char *name);
/* Devices r refers to; returns how many (at most max). */
int kinds_refs(const struct kreq *r, struct kref *refs, int max);

/* RTM_NEWLINK creating r (KIND_NEWLINK and KIND_WIREGUARD). 0 or -errno. */
int kinds_newlink(const struct kreq *r, struct nl_msg **out);
/* Wireguard configuration (WG_CMD_SET_DEVICE) for the created device, or
 * *out = NULL when r sets nothing. */
int kinds_wg_msg(const struct kreq *r, int family, int ifindex, struct nl_msg **out);
/* teamd's argv (NULL-terminated, at most 8 entries); *config is the JSON
 * text argv points to, freed by the caller with free(). */
int kinds_teamd_argv(const struct kreq *r, const char **argv, char **config);
/* TUNSETIFF flags and owner/group (-1: unchanged). */
struct kinds_tun {
	short flags;
	long owner, group;
};
int kinds_tun(const struct kreq *r, struct kinds_tun *t);
/* L2TP_CMD_SESSION_CREATE for r. */
int kinds_l2tp_session_msg(const struct kreq *r, int family, struct nl_msg **out);
/* L2TP_CMD_TUNNEL_CREATE from params (tunnel_id, peer_tunnel_id, encap,
 * local, remote, udp_sport, udp_dport, udp_csum, version). */
int kinds_l2tp_tunnel_msg(const cJSON *params, int family, struct nl_msg **out, uint32_t *tunnel_id,
			  char *err, size_t errlen);
struct nl_msg *kinds_l2tp_tunnel_del_msg(int family, uint32_t tunnel_id);
struct nl_msg *kinds_l2tp_session_del_msg(int family, uint32_t tunnel_id, uint32_t session_id);

/* Parses an interface name, an IPv4/IPv6 address or a MAC. 0 or -EINVAL. */
int kinds_valid_ifname(const char *s);
int kinds_parse_mac(const char *s, uint8_t mac[6]);

/* Starts the capability probe: a child in a scratch network namespace
 * tries each kind and writes two lines to *fd: the names of the kinds it
 * could create, then of the link features that worked (kinds_feature_at),
 * space-separated; then it exits. */
int kinds_probe_start(pid_t *pid, int *fd);
/* Optional link features the probe tries ("bridge_vlan_filtering"). */
size_t kinds_feature_count(void);
const char *kinds_feature_at(size_t i);

#endif
