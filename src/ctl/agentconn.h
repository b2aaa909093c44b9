/* agentconn.h - the controller's end of one agent connection.
 *
 * Requests carry ids, so many may be outstanding (pipelining); replies that
 * arrive before anyone waits for them are kept until agentconn_wait takes
 * them. Events are handed to the owner's callback as they arrive, from
 * whatever wait is running the loop. A lost connection fails every wait with
 * the reason the connection gave.
 */
#ifndef LNST_AGENTCONN_H
#define LNST_AGENTCONN_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"

struct agentconn;
typedef void (*agentconn_event_cb)(struct agentconn *ac, cJSON *ev, void *ud);

struct reply_slot {
	int64_t id;
	cJSON *msg; /* whole reply message */
	struct reply_slot *next;
};

struct agentconn {
	struct conn conn;
	char name[64];
	int64_t next_id;
	int lost;
	int critical; /* its loss ends every wait (agentconn_set_critical) */
	char lost_reason[256];
	struct reply_slot *replies; /* in arrival order: waits in send order find theirs first */
	struct reply_slot **replies_end; /* the last slot's next, NULL: &replies */
	agentconn_event_cb on_event;
	void *ud;
};

/* Set from signal handlers; waits return -EINTR while it is non-zero. */
extern volatile sig_atomic_t ctl_interrupted;

int agentconn_open(struct agentconn *ac, struct loop *loop, int fd, const char *name,
		   agentconn_event_cb cb, void *ud);
/* Sends a request (params is consumed); returns its id (> 0) or -errno. */
int64_t agentconn_send(struct agentconn *ac, const char *method, const char *netns, cJSON *params);
/* Waits for the reply to id. 0 and *reply (the reply message, caller
 * deletes); -ETIMEDOUT; -ENOTCONN (see lost_reason); -EINTR. */
int agentconn_wait(struct agentconn *ac, int64_t id, int timeout_ms, cJSON **reply);
void agentconn_close(struct agentconn *ac);

/* A critical connection's loss ends every wait of the controller, whichever
 * connection it waits on: the loss ("host NAME: agent connection lost
 * (REASON)") becomes agentconn_abort_reason() and ctl_interrupted is set to
 * -1, so the waiting Lua code raises it. A run's hosts are critical while
 * its test body runs; connections being provisioned, checked or said bye to
 * are not. The first loss is kept until agentconn_abort_clear. */
void agentconn_set_critical(struct agentconn *ac, int on);
/* Ends every wait the same way for another loss a run cannot go on
 * without (the Podman service of its containers): reason is the error. */
void agentconn_abort(const char *reason);
const char *agentconn_abort_reason(void);
void agentconn_abort_clear(void);

#endif
