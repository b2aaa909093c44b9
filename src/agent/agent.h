/* agent.h - the agent's context, shared by its modules.
 *
 * One agent serves one controller at a time over one connection. It owns the
 * device database, the jobs and the undo log of the current run.
 */
#ifndef LNST_AGENT_H
#define LNST_AGENT_H

#include "conn.h"
#include "devdb.h"
#include "job.h"
#include "loop.h"
#include "module.h"
#include "undo.h"

#define AGENT_VERSION "0.1.0"

struct agent {
	struct loop *loop;
	struct conn conn;
	int connected;
	int quit;
	int exit_code;
	const char *name;
	struct devdb *db;
	struct jobs *jobs;
	struct modules *modules; /* module source cache (module.c) */
	struct undo undo;
	int netns_host;          /* started with --netns-host: a local host */
	const char *worker_ns;   /* in a netns worker: the namespace it serves */
	const char *req_netns;   /* netns of the request being handled by the root itself */
	int64_t req_id;          /* id of the request being handled (for RPC_LATER) */
	struct netns *netns;     /* extra namespaces and their workers (netns.c) */
	struct route *route;     /* routes, neighbours, rules (route.c) */
	struct ethtool *eth;     /* ethtool-netlink (ethtool.c) */
	struct links *links;     /* soft devices, bridges, kinds (link.c) */
};

/* Sends an event to the controller (frees ev). No-op when disconnected. */
void agent_emit(struct agent *a, const char *name, cJSON *fields);
/* Ends the run: kills jobs, runs the undo log. */
void agent_end_run(struct agent *a);

/* dispatch.c: handles one request and sends its reply. */
void dispatch_request(struct agent *a, const struct msg *m);

#endif
