/* ethtool.h - device settings through ethtool's generic-netlink interface.
 *
 * ethtool.get / ethtool.set take an ifindex and `what`:
 *   features  offloads (the kernel's feature names, e.g. rx-gro, and the
 *             short names of `ethtool -K`: gro, tso, gso, lro, sg, rx, tx,
 *             rxvlan, txvlan, ntuple, rxhash, ufo)
 *   coalesce  interrupt coalescing (rx_usecs, use_adaptive_rx, ...)
 *   pause     pause frames (autoneg, rx, tx)
 *   rings     ring sizes (rx, tx, ... and the read-only *_max)
 *   channels  channel counts (rx, tx, other, combined and *_max)
 *   link      speed, duplex, autoneg (settable); port, link (read-only)
 *   driver    driver, version, firmware, bus (read-only)
 *   stats     the driver's statistics, as `ethtool -S` (read-only)
 * driver and stats use the SIOCETHTOOL ioctl: ethtool-netlink has no
 * message for them. A set changes only what differs, records the old values
 * in the undo log and answers with the values read back. An operation the
 * driver lacks fails with EOPNOTSUPP naming the device, its driver and the
 * operation.
 *
 * Mapped devices are snapshotted (features, coalesce, pause, rings,
 * channels: whatever the driver supports) and restored at the end of the
 * run, so changes made by jobs (`ethtool -K` in a shell) are undone too.
 */
#ifndef LNST_ETHTOOL_H
#define LNST_ETHTOOL_H

#include <stddef.h>

#include "rpc.h"

struct ethtool;

void ethtool_free(struct ethtool *e);

int ethtool_m_get(struct agent *a, const cJSON *p, struct rpc_reply *r);
int ethtool_m_set(struct agent *a, const cJSON *p, struct rpc_reply *r);

/* The `what`s this kernel supports, for hello's capabilities. */
cJSON *ethtool_capabilities(struct agent *a);
/* Records the restore of every supported setting of a device being mapped. */
void ethtool_snapshot(struct agent *a, int ifindex);
/* The driver of a device by name (SIOCETHTOOL), "" when it reports none.
 * fd: a socket of the device's network namespace, of any family (the
 * ioctl falls through to the device layer), so that devices appearing by
 * the thousand cost no socket each. */
void ethtool_driver(int fd, const char *ifname, char *out, size_t n);

/* Kernel feature names an `ethtool -K` short name stands for: a glob
 * pattern, or NULL when name is not a short name. */
const char *ethtool_feature_alias(const char *name);

#endif
