/* link.h - soft devices on the agent: creation, deletion, master/slave,
 * bridge VLANs, FDB entries and bridge port flags, and the kinds the kernel
 * accepts.
 *
 * Every request is checked in full before the kernel hears of it (kinds.h
 * for creation parameters), then made in one kernel operation where the
 * kernel allows it (one RTM_NEWLINK with every attribute, master included);
 * composite creations (wireguard keys, teamd, tun, L2TP, then mtu/hwaddr/
 * master) roll back what they did when a later step fails. Each change
 * pushes its inverse to the undo log. Devices the run created are enabled
 * (devdb_enable) and only those may be deleted.
 *
 * Pipelined deletions are batched: link.del answers later (RPC_LATER);
 * consecutive ones are collected and the devices are removed with a single
 * group deletion (one RCU grace period for the lot instead of one each),
 * before any other request is handled (links_flush) or when the loop is
 * idle. The undo log deletes consecutive creations the same way.
 *
 * The kinds this kernel accepts are probed once per boot in a scratch
 * network namespace (kinds_probe_start) and cached in /run/lnst, so hello
 * stays fast; hello reports them as capabilities.kinds, and optional
 * features some kernels are built without as capabilities.link_features.
 */
#ifndef LNST_LINK_H
#define LNST_LINK_H

#include <cjson/cJSON.h>

#include "rpc.h"

struct agent;
struct links;

int links_open(struct links **out, struct agent *a);
void links_close(struct links *l);
/* JSON array of kind names, or JSON null when the probe failed. Waits for
 * the probe if it is still running. */
cJSON *links_kinds(struct links *l);
/* The same for optional link features ("bridge_vlan_filtering"). */
cJSON *links_features(struct links *l);
/* {kind: why the probe could not create it} for the kinds it lacks (the
 * kernel's error and explanation), or JSON null when the probe failed. */
cJSON *links_kinds_absent(struct links *l);
/* Completes deferred deletions and sends their replies. */
void links_flush(struct links *l);

/* Request handlers (dispatch.c). */
int link_create(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_set_master(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_vlan_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_vlan_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_vlan_list(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_fdb_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_fdb_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_fdb_list(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_port_set(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_port_get(struct agent *a, const cJSON *p, struct rpc_reply *r);
int link_l2tp_tunnel_add(struct agent *a, const cJSON *p, struct rpc_reply *r);

#endif
