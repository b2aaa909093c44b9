/* rtmsg.h - rtnetlink messages for routes, neighbours and rules, built
 * from and read back into the JSON descriptions of the wire protocol.
 *
 * Pure functions: no sockets, no state. A description read from a kernel
 * dump can be fed back to the builder unchanged, which is how route.c
 * re-creates what it deleted. Builders reject unknown keys and bad values
 * with a message naming the key and what was expected.
 *
 * Route description keys: dst ("198.51.100.0/24", "2001:db8::/64",
 * "default"), family ("ipv4"/"ipv6", only needed for "default" without a
 * gateway), via, ifindex, table (1..2^32-1, default 254 = main), metric, src,
 * scope, type, proto, onlink, nexthops ([{via, ifindex, weight, onlink}]),
 * encap ({type = "ip"|"ip6", id, dst, src, ttl, tos}).
 * Neighbour: ifindex, dst, lladdr, state, router, proxy.
 * Rule: family, priority, table, from, to, iif, oif, fwmark, fwmask, action, not.
 */
#ifndef LNST_RTMSG_H
#define LNST_RTMSG_H

#include <cjson/cJSON.h>
#include <linux/netlink.h>
#include <stddef.h>

struct nl_msg;

/* Each builder makes a message of `type` (RTM_NEWROUTE, RTM_DELROUTE...)
 * with no NLM_F flags beyond the ones for creation (the caller adds the
 * rest). 0, or -EINVAL with err naming the key. */
int rtmsg_route(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t errlen);
int rtmsg_neigh(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t errlen);
int rtmsg_rule(struct nl_msg **out, int type, const cJSON *spec, char *err, size_t errlen);

/* Description of a message from a dump; NULL for entries that are not
 * configuration (cloned and cache routes) or cannot be read. */
cJSON *rtmsg_route_json(const struct nlmsghdr *h);
cJSON *rtmsg_neigh_json(const struct nlmsghdr *h);
cJSON *rtmsg_rule_json(const struct nlmsghdr *h);

/* Whether a route read from the kernel is the one spec names: same dst and
 * table, and same metric, ifindex and gateway where spec gives them. */
int rtmsg_route_match(const cJSON *route, const cJSON *spec);
/* Whether a neighbour read from the kernel has spec's ifindex and dst. */
int rtmsg_neigh_match(const cJSON *neigh, const cJSON *spec);

#endif
