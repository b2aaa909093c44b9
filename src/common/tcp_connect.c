/* tcp_connect.c - finishing a non-blocking connect(), with the reason in
 * words. Shared by tls.c and the OpenSSL half (compiled into both). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tls_plugin.h"

int tls_connect_done(int fd, const char *peer, char *why, size_t n)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(why, n, "cannot connect to %s: %s", peer, strerror(soerr));
		return -soerr;
	}
	struct sockaddr_storage ss;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return errno == ENOTCONN ? -EAGAIN : -errno;
	return 0;
}
