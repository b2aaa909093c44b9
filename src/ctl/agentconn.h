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
	char lost_reason[256];
	struct reply_slot *replies;
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

#endif
