/* fabric.h - the private network namespace that wires local hosts together.
 *
 * One bridge per recipe network label, one veth per recipe NIC: the fabric
 * end is enslaved to the network's bridge, the other end is created directly
 * in the host's namespace (by the agent's PID) under the NIC's recipe name.
 * The namespace is held only by a file descriptor of the controller, so when
 * the controller exits (or is killed) the kernel removes it and everything in
 * it; veth peers in host namespaces go with their pairs.
 */
#ifndef LNST_FABRIC_H
#define LNST_FABRIC_H

#include <stddef.h>
#include <sys/types.h>

struct nl_sock;

struct fabric {
	int nsfd;
	struct nl_sock *sk;
};

int fabric_open(struct fabric *f, char *err, size_t errlen);
/* Creates an up bridge with STP off; *ifindex receives its index. */
int fabric_bridge_add(struct fabric *f, const char *name, int *ifindex, char *err, size_t errlen);
/* Creates veth NAME (up, enslaved to master_ifindex) with peer PEER_NAME in
 * the network namespace of peer_pid (left down). */
int fabric_veth_add(struct fabric *f, const char *name, int master_ifindex, pid_t peer_pid,
		    const char *peer_name, char *err, size_t errlen);
/* Sets the MTU of fabric end NAME: it follows its NIC's, so frames the NIC
 * may send cross the wire (jumbo frames too) while a veth NIC keeps the
 * peer MTU that XDP on it requires. */
int fabric_set_mtu(struct fabric *f, const char *name, int mtu, char *err, size_t errlen);
void fabric_close(struct fabric *f);

#endif
