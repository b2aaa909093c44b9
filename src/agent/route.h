/* route.h - routes, neighbours and policy rules of the agent's network
 * namespace, with undo.
 *
 * route.add/del/list, neigh.add/del/list and rule.add/del/list take the
 * JSON descriptions of rtmsg.h. Every add is undone by deleting exactly what
 * was added; every delete re-creates the entry as the kernel had it (read
 * back before deleting). Devices named by ifindex (the route's device and
 * every nexthop's, a neighbour's device) must be enabled, as for any other
 * change to a device. In a netns worker all of this acts in its namespace.
 */
#ifndef LNST_ROUTE_H
#define LNST_ROUTE_H

#include "rpc.h"

struct route;

void route_free(struct route *rt);

int route_m_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_list(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_neigh_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_neigh_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_neigh_list(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_rule_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_rule_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int route_m_rule_list(struct agent *a, const cJSON *p, struct rpc_reply *r);

#endif
