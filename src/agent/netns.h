/* netns.h - extra network namespaces of a host and their workers.
 *
 * netns.add creates a namespace and forks one worker for it: a process that
 * enters the namespace (and a mount namespace of its own, with its own
 * /sys) and execs lnst-agent --netns-worker over a socketpair, so it serves
 * the same method table as the root agent, for that namespace. The root
 * agent forwards every request that carries "netns": NAME to that worker and
 * relays its reply and events to the controller, adding "netns": NAME to
 * each event. Forwarding is synchronous: the root waits for the worker's
 * reply (relaying its events meanwhile), so replies keep request order.
 *
 * Namespace files: on a real machine /run/netns/NAME, as iproute2 makes
 * them (so `ip netns exec NAME` works); an agent started with --netns-host
 * mounts a private tmpfs on /run/netns inside its own mount namespace, so
 * when the local host dies nothing names the namespaces any more and the
 * kernel reclaims them. Workers die with the root agent (PR_SET_PDEATHSIG),
 * and their jobs with them.
 *
 * dev.set_netns moves a device between the host's namespaces; the root does
 * it itself (it holds every namespace's descriptor), then makes the source
 * report dev.netns_changed and the destination adopt (enable) the device
 * before replying. Moves are undone, namespaces deleted, at the end of the
 * run: workers first end their own runs (netns_end_runs), then the root's
 * undo log moves devices back and deletes the namespaces.
 */
#ifndef LNST_NETNS_H
#define LNST_NETNS_H

#include <cjson/cJSON.h>

#include "msg.h"
#include "rpc.h"

struct netns;

/* Decides, once at start, the program namespace workers exec:
 * /proc/self/exe, unless the file it links to is not the image running.
 * Under valgrind the link names the agent (valgrind answers the readlink)
 * while exec'ing /proc/self/exe would run valgrind's tool binary: then
 * workers exec the agent's path. Without this call: /proc/self/exe. */
void netns_init_self(void);

/* For a request with a netns: forwards it to the worker and replies
 * (returns 1), or returns 0 when the root handles the method itself. */
int netns_route_request(struct agent *a, const struct msg *m);
/* Ends the run in every worker (kills its jobs, replays its undo log). */
void netns_end_runs(struct agent *a);
/* Deletes whatever namespaces are left; at agent exit. */
void netns_free(struct agent *a);
/* Completes a dev.netns_changed event of the root's device database: turns
 * the kernel's new_netnsid into new_netns (a name, "" for the host's root
 * namespace, null when the namespace is not one of this host's). */
void netns_fix_event(struct agent *a, const char *name, cJSON *ev);

int netns_m_add(struct agent *a, const cJSON *p, struct rpc_reply *r);
int netns_m_del(struct agent *a, const cJSON *p, struct rpc_reply *r);
int netns_m_list(struct agent *a, const cJSON *p, struct rpc_reply *r);
int netns_m_set_netns(struct agent *a, const cJSON *p, struct rpc_reply *r);
/* Worker-only methods, used by the root agent over the worker socketpair. */
int netns_m_worker_sync(struct agent *a, const cJSON *p, struct rpc_reply *r);
int netns_m_worker_adopt(struct agent *a, const cJSON *p, struct rpc_reply *r);

#endif
