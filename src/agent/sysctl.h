/* sysctl.h - kernel parameters under /proc/sys, read and written with undo.
 *
 * Keys are sysctl(8) names ("net.ipv4.ip_forward") or paths relative to
 * /proc/sys ("net/ipv4/conf/eth0.10/forwarding", for names that contain
 * dots). A key is only ever turned into a path below /proc/sys: "..", empty
 * components and characters outside [A-Za-z0-9_.:@+-] are refused, and the
 * file is opened without following symbolic links. sysctl.set records the
 * value it replaced; the end of the run writes it back. net.* keys belong to
 * the network namespace of the agent (or worker) that serves the request;
 * most others are global to the machine.
 */
#ifndef LNST_SYSCTL_H
#define LNST_SYSCTL_H

#include <stddef.h>

#include "rpc.h"

/* The /proc/sys path of a key, or -EINVAL with err saying why. */
int sysctl_path(const char *key, char *path, size_t n, char *err, size_t errlen);

int sysctl_m_get(struct agent *a, const cJSON *p, struct rpc_reply *r);
int sysctl_m_set(struct agent *a, const cJSON *p, struct rpc_reply *r);

#endif
