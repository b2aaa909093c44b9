/* nlutil.c - netlink request, dump and namespace helpers (nlutil.h). */
#include "nlutil.h"

#include <errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int nlutil_open(struct nl_sock **out, int proto)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	if (nl_connect(sk, proto) < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	nl_socket_disable_auto_ack(sk);
	nl_socket_enable_msg_peek(sk);
	int one = 1, fd = nl_socket_get_fd(sk);
	/* Errors carry the kernel's explanation; ACKs do not echo requests. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = sk;
	return 0;
}

int nlutil_open_in(struct nl_sock **out, int proto, int nsfd, int selffd)
{
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return -errno;
	int err = nlutil_open(out, proto);
	if (setns(selffd, CLONE_NEWNET) < 0) {
		/* Never expected: the agent would act in the wrong namespace. */
		log_err("cannot return to the agent's own network namespace: %s", strerror(errno));
		abort();
	}
	return err;
}

void nlutil_close(struct nl_sock *sk)
{
	nl_socket_free(sk);
}

/* Copies NLMSGERR_ATTR_MSG of an error or done message, if any. */
static void extack(struct nlmsghdr *m, size_t off, char *ext, size_t extlen)
{
	if (!ext || !extlen || !(m->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	size_t len = m->nlmsg_len;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(off);
	if (len <= off)
		return;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)m + off), (int)(len - off),
		      NULL) < 0)
		return;
	/* The kernel's string includes its NUL; %.*s stops there. */
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(ext, extlen, "%.*s", nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE])
		snprintf(ext, extlen, "attribute %u is missing", nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

static int exchange(struct nl_sock *sk, struct nl_msg *msg, int dump, nlutil_cb cb, void *ud,
		    char *ext, size_t extlen)
{
	if (ext && extlen)
		ext[0] = 0;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	h->nlmsg_flags |= NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nl_complete_msg(sk, msg);
	uint32_t seq = h->nlmsg_seq;
	int err = nl_send(sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	int res = 0;
	for (;;) {
		unsigned char *buf = NULL;
		struct sockaddr_nl nla;
		int n = nl_recv(sk, &nla, &buf, NULL);
		if (n <= 0) {
			free(buf);
			return -EIO;
		}
		int done = 0;
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; nlmsg_ok(m, n); m = nlmsg_next(m, &n)) {
			if (m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(m);
				if (!res)
					res = e->error;
				extack(m, sizeof(*e), ext, extlen);
				done = 1;
				break;
			}
			if (m->nlmsg_type == NLMSG_DONE) {
				if (!res && nlmsg_datalen(m) >= (int)sizeof(int))
					res = *(int *)nlmsg_data(m);
				extack(m, sizeof(int), ext, extlen);
				done = 1;
				break;
			}
			if (m->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb && !res)
				res = cb(m, ud);
		}
		free(buf);
		if (done)
			return res > 0 ? -res : res;
	}
}

int nlutil_request(struct nl_sock *sk, struct nl_msg *msg, nlutil_cb cb, void *ud, char *ext,
		   size_t extlen)
{
	return exchange(sk, msg, 0, cb, ud, ext, extlen);
}

int nlutil_dump(struct nl_sock *sk, struct nl_msg *msg, nlutil_cb cb, void *ud, char *ext,
		size_t extlen)
{
	return exchange(sk, msg, 1, cb, ud, ext, extlen);
}
