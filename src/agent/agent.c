/* agent.c - what every part of the agent shares about its session: sending
 * events to the controller and ending a run (agent.h). Kept apart from
 * main.c so that other programs built from the agent's code (the dispatch
 * fuzz target) use exactly these. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "link.h"
#include "log.h"
#include "netns.h"

void agent_emit(struct agent *a, const char *name, cJSON *fields)
{
	if (!a->connected || a->conn.closed) {
		cJSON_Delete(fields);
		return;
	}
	cJSON *ev = msg_event(name);
	cJSON *it = fields ? fields->child : NULL;
	while (it) {
		cJSON *next = it->next;
		cJSON_AddItemToObject(ev, it->string, cJSON_DetachItemViaPointer(fields, it));
		it = next;
	}
	cJSON_Delete(fields);
	int err = conn_send(&a->conn, ev);
	if (err && err != -ENOTCONN)
		fprintf(stderr, "lnst-agent[%s]: cannot send event %s: %s\n", a->name ? a->name : "", name,
			strerror(-err));
}

void agent_end_run(struct agent *a)
{
	links_flush(a->links); /* deletions still queued (replies only if connected) */
	netns_end_runs(a); /* workers first: the root's undo deletes their namespaces */
	jobs_kill_all(a->jobs);
	int failed = undo_run(&a->undo);
	if (failed)
		log_warn("%d undo steps failed", failed);
}
