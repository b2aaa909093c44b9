/* brmsg.h - the netlink messages of master/slave and bridge settings.
 *
 * Building only (the caller sends and waits): enslaving and releasing
 * (IFLA_MASTER), bridge VLANs (RTM_SETLINK/RTM_DELLINK of family AF_BRIDGE
 * with IFLA_AF_SPEC/IFLA_BRIDGE_VLAN_INFO), FDB entries (RTM_NEWNEIGH and
 * RTM_DELNEIGH of family AF_BRIDGE) and bridge port flags (IFLA_INFO_SLAVE_DATA
 * of kind "bridge"), plus reading the flags back from an RTM_NEWLINK, so
 * that every change can be undone.
 */
#ifndef LNST_BRMSG_H
#define LNST_BRMSG_H

#include <cjson/cJSON.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stddef.h>
#include <stdint.h>

#define BRMSG_PORT_MAX 16

/* Sets (master > 0) or clears (master = 0) the master of ifindex. */
struct nl_msg *brmsg_master(int ifindex, int master);

/* Adds or deletes VLAN vid on a bridge port (self = 0) or on the bridge
 * itself (self = 1); flags: BRIDGE_VLAN_INFO_PVID | _UNTAGGED. */
struct nl_msg *brmsg_vlan(int add, int ifindex, int vid, uint16_t flags, int self);

struct brmsg_fdb {
	int ifindex;
	uint8_t mac[6];
	int vlan;           /* 0: none */
	int self, master;   /* NTF_SELF, NTF_MASTER */
	int is_static;      /* NUD_NOARP */
	int permanent;      /* NUD_PERMANENT (else NUD_REACHABLE unless static) */
	int dst_family;     /* 0, AF_INET or AF_INET6: NDA_DST (vxlan remotes) */
	uint8_t dst[16];
	int append;         /* NLM_F_APPEND: one more remote for a vxlan MAC */
};
struct nl_msg *brmsg_fdb(int add, const struct brmsg_fdb *f);

/* Bridge port flags, by iproute2's names (learning, flood, ...). */
struct brmsg_port {
	int n;
	struct {
		const char *name;
		uint16_t attr;
		uint8_t width; /* 1, 2 or 4 bytes */
		uint32_t value;
	} v[BRMSG_PORT_MAX];
};
/* Parses {learning = false, flood = true, cost = 10, ...}. 0 or -EINVAL. */
int brmsg_port_parse(const cJSON *params, struct brmsg_port *p, char *err, size_t errlen);
/* Every known flag (values 0), to read them all with brmsg_port_read. */
void brmsg_port_all(struct brmsg_port *p);
struct nl_msg *brmsg_port(int ifindex, const struct brmsg_port *p);
/* Fills the current values of p's flags from IFLA_INFO_SLAVE_DATA of a
 * bridge port (the old values, for undo). -ENOENT when one is missing. */
int brmsg_port_read(struct nlattr *slave_data, struct brmsg_port *p);

#endif
