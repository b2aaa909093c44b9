/* devdb.h - the agent's device database, kept current from rtnetlink.
 *
 * At start it subscribes to link and address notifications, then dumps
 * links and addresses. Every later change arrives as a notification and is
 * reported through the event callback as dev.created / dev.changed /
 * dev.deleted with the device's full JSON description, so the controller's
 * proxies never need to ask. Devices found at start, or that appear by
 * someone else's hand, are disabled (read-only) until mapped; devices the
 * agent creates are enabled.
 *
 * The operations (addresses, link state, MTU, MAC, name) go out on a second
 * netlink socket and wait for the kernel's ACK; the notifications they cause
 * are drained before the operation returns, so the controller always sees
 * the event before the reply. Each operation reports its inverse to the undo
 * log (undo.h) unless called with record = 0.
 */
#ifndef LNST_DEVDB_H
#define LNST_DEVDB_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "loop.h"

struct devdb;
struct undo;
typedef void (*devdb_event_cb)(const char *name, cJSON *dev, void *ud);

/* Error text for the last failed operation, for replies. */
struct devdb_err {
	char msg[512];
};

int devdb_open(struct devdb **out, struct loop *loop, devdb_event_cb cb, void *ud);
void devdb_close(struct devdb *db);
void devdb_set_undo(struct devdb *db, struct undo *u);

/* JSON array of all devices. */
cJSON *devdb_list(struct devdb *db);
/* Device JSON by ifindex, NULL when unknown. */
cJSON *devdb_get(struct devdb *db, int ifindex);
/* ifindex for a name or a MAC (aa:bb:..), or -ENODEV. Refreshes from the
 * kernel once before giving up. */
int devdb_find(struct devdb *db, const char *name, const char *hwaddr);
/* Processes pending notifications now. */
void devdb_sync(struct devdb *db);

/* Enables a device for the run and snapshots it (name, MAC, MTU, state,
 * addresses); the undo log restores the snapshot. */
int devdb_map(struct devdb *db, int ifindex, struct devdb_err *e);
/* Marks a device the agent created as enabled (called after creation). */
void devdb_enable(struct devdb *db, int ifindex);
/* Devices the agent is about to create under these names (either may be
 * NULL; NULL, NULL ends it) are enabled when they appear, so their first
 * dev.created event says so and no dev.changed follows. */
void devdb_expect(struct devdb *db, const char *name, const char *peer);

int devdb_ip_add(struct devdb *db, int ifindex, const char *cidr, int nodad, int record,
		 struct devdb_err *e);
int devdb_ip_del(struct devdb *db, int ifindex, const char *cidr, int record, struct devdb_err *e);
/* Removes every address of global scope (scope_all: every address). */
int devdb_ip_flush(struct devdb *db, int ifindex, int scope_all, int record, struct devdb_err *e);
int devdb_set_up(struct devdb *db, int ifindex, int up, int record, struct devdb_err *e);
int devdb_set_mtu(struct devdb *db, int ifindex, int mtu, int record, struct devdb_err *e);
int devdb_set_hwaddr(struct devdb *db, int ifindex, const char *mac, int record,
		     struct devdb_err *e);
int devdb_set_name(struct devdb *db, int ifindex, const char *name, int record,
		   struct devdb_err *e);
/* Deletes a link (used by undo for devices the run created). */
int devdb_link_del(struct devdb *db, int ifindex, struct devdb_err *e);

#endif
