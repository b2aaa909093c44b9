/* fabric.c - the fabric namespace, its bridges and veths (fabric.h). */
#include "fabric.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0) {
		/* best effort: IPv6 may be absent */
	}
	close(fd);
}

int fabric_open(struct fabric *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->nsfd = -1;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		snprintf(err, errlen, "cannot open own network namespace: %s", strerror(errno));
		return -errno;
	}
	int ret = 0;
	if (unshare(CLONE_NEWNET) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the fabric namespace: %s%s", strerror(errno),
			 errno == EPERM ? " (lnst needs root for local hosts)" : "");
		close(self);
		return ret;
	}
	/* Everything below until setns happens inside the new namespace. */
	f->nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	/* The fabric carries test traffic only: no IPv6 of its own (no
	 * link-local addresses, router solicitations or MLD reports). */
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	f->sk = nl_socket_alloc();
	if (!f->sk || nl_connect(f->sk, NETLINK_ROUTE) < 0) {
		snprintf(err, errlen, "cannot open rtnetlink in the fabric namespace");
		ret = -EIO;
	}
	if (setns(self, CLONE_NEWNET) < 0 && !ret) {
		snprintf(err, errlen, "cannot return to the controller's namespace: %s", strerror(errno));
		ret = -errno;
	}
	close(self);
	if (ret)
		fabric_close(f);
	return ret;
}

static int nlerr(int e)
{
	switch (e) {
	case -NLE_EXIST: return -EEXIST;
	case -NLE_NOMEM: return -ENOMEM;
	case -NLE_PERM: return -EPERM;
	case -NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case -NLE_INVAL: return -EINVAL;
	case -NLE_RANGE: return -ERANGE;
	case -NLE_NODEV: return -ENODEV;
	default: return -EIO;
	}
}

int fabric_bridge_add(struct fabric *f, const char *name, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, IFF_UP);
	int e = rtnl_link_add(f->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (e < 0) {
		snprintf(err, errlen, "cannot create fabric bridge %s: %s", name, nl_geterror(e));
		return nlerr(e);
	}
	struct rtnl_link *got = NULL;
	e = rtnl_link_get_kernel(f->sk, 0, name, &got);
	if (e < 0) {
		snprintf(err, errlen, "cannot read fabric bridge %s: %s", name, nl_geterror(e));
		return nlerr(e);
	}
	*ifindex = rtnl_link_get_ifindex(got);
	rtnl_link_put(got);
	return 0;
}

/* Sends one request and waits for its ACK; 0 or -errno. */
static int request(struct fabric *f, struct nl_msg *m)
{
	int e = nl_send_auto(f->sk, m);
	nlmsg_free(m);
	if (e < 0)
		return nlerr(e);
	e = nl_wait_for_ack(f->sk);
	return e < 0 ? nlerr(e) : 0;
}

int fabric_veth_add(struct fabric *f, const char *name, int master_ifindex, pid_t peer_pid,
		    const char *peer_name, char *err, size_t errlen)
{
	/* Built by hand: the peer's IFLA_NET_NS_PID must sit inside
	 * VETH_INFO_PEER, which libnl's veth object does not emit. */
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto nomem;
	if (nla_put_string(m, IFLA_IFNAME, name) < 0 || nla_put_u32(m, IFLA_MASTER, (uint32_t)master_ifindex) < 0)
		goto nomem;
	struct nlattr *info = nla_nest_start(m, IFLA_LINKINFO);
	if (!info || nla_put_string(m, IFLA_INFO_KIND, "veth") < 0)
		goto nomem;
	struct nlattr *data = nla_nest_start(m, IFLA_INFO_DATA);
	struct nlattr *pi = data ? nla_nest_start(m, VETH_INFO_PEER) : NULL;
	if (!pi || nlmsg_append(m, &peer, sizeof(peer), NLMSG_ALIGNTO) < 0)
		goto nomem;
	if (nla_put_string(m, IFLA_IFNAME, peer_name) < 0 ||
	    nla_put_u32(m, IFLA_NET_NS_PID, (uint32_t)peer_pid) < 0)
		goto nomem;
	nla_nest_end(m, pi);
	nla_nest_end(m, data);
	nla_nest_end(m, info);
	int e = request(f, m);
	if (e < 0) {
		snprintf(err, errlen, "cannot create NIC %s (fabric end %s): %s", peer_name, name, strerror(-e));
		return e;
	}
	return 0;
nomem:
	nlmsg_free(m);
	return -ENOMEM;
}

int fabric_set_mtu(struct fabric *f, const char *name, int mtu, char *err, size_t errlen)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	if (!m || nlmsg_append(m, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 || nla_put_string(m, IFLA_IFNAME, name) < 0 ||
	    nla_put_u32(m, IFLA_MTU, (uint32_t)mtu) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	int e = request(f, m);
	if (e < 0)
		snprintf(err, errlen, "cannot set MTU %d on fabric end %s: %s", mtu, name, strerror(-e));
	return e;
}

void fabric_close(struct fabric *f)
{
	if (f->sk)
		nl_socket_free(f->sk);
	if (f->nsfd >= 0)
		close(f->nsfd);
	f->sk = NULL;
	f->nsfd = -1;
}
