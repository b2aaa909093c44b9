/* nlutil.h - small netlink helpers for the agent modules that talk to the
 * kernel directly (routes, namespaces, ethtool).
 *
 * One request/ACK exchange with the kernel's extended-ACK text kept for the
 * error message, one dump with a callback per message, and a socket opened
 * inside another network namespace. Messages that do not carry the sequence
 * number of the exchange (left over from an earlier one) are ignored, so a
 * socket stays usable after any failure. Sockets are blocking; every call
 * waits for the kernel's answer, which is immediate for these operations.
 */
#ifndef LNST_NLUTIL_H
#define LNST_NLUTIL_H

#include <linux/netlink.h>
#include <stddef.h>

struct nl_sock;
struct nl_msg;

/* Called for every reply message of an exchange; return 0 to go on. */
typedef int (*nlutil_cb)(struct nlmsghdr *h, void *ud);

/* Opens a connected netlink socket (NETLINK_ROUTE, NETLINK_GENERIC) that
 * receives extended ACKs. 0 or -errno. */
int nlutil_open(struct nl_sock **out, int proto);
/* The same inside the network namespace nsfd; selffd is the caller's own
 * namespace, returned to before this returns. */
int nlutil_open_in(struct nl_sock **out, int proto, int nsfd, int selffd);
void nlutil_close(struct nl_sock *sk);

/* Sends msg (always consumed) with NLM_F_ACK and waits for the ACK; reply
 * messages before it go to cb (may be NULL). 0, -errno from the kernel or
 * the callback. ext (may be NULL) receives the kernel's explanation, or "". */
int nlutil_request(struct nl_sock *sk, struct nl_msg *msg, nlutil_cb cb, void *ud, char *ext,
		   size_t extlen);
/* Sends msg (consumed) with NLM_F_DUMP and hands every message to cb until
 * the dump is done. */
int nlutil_dump(struct nl_sock *sk, struct nl_msg *msg, nlutil_cb cb, void *ud, char *ext,
		size_t extlen);

#endif
