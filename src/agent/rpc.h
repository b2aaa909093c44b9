/* rpc.h - what a request handler of the agent sees.
 *
 * A handler validates its params with the rpc_* helpers, acts, and either
 * returns 0 with r->result set (NULL means `true`) or a negative errno with
 * r->err saying what failed, on which device, and why. Handlers live in the
 * module that owns the state they touch (devdb.c, job.c, ...); the table in
 * dispatch.c lists them all and is the whole of what the wire can reach.
 */
#ifndef LNST_RPC_H
#define LNST_RPC_H

#include <cjson/cJSON.h>
#include <stdint.h>

struct agent;

struct rpc_reply {
	cJSON *result;
	char err[512];
};

/* Returned by a handler that answers later, with rpc_answer() for the id in
 * agent->req_id, exactly once (link.del, to batch deletions). Dispatching any other request first
 * completes the pending ones (links_flush), so replies keep request order. */
#define RPC_LATER 1
/* Sends the reply to request id: result (consumed) when err is 0, else an
 * error with errmsg (strerror when empty). */
void rpc_answer(struct agent *a, int64_t id, int err, cJSON *result, const char *errmsg);

typedef int (*rpc_handler)(struct agent *a, const cJSON *params, struct rpc_reply *r);

/* Required integer / string params: 0, or -EINVAL with r->err naming the key. */
int rpc_int(const cJSON *p, const char *key, int *out, struct rpc_reply *r);
int rpc_str(const cJSON *p, const char *key, const char **out, struct rpc_reply *r);
/* Optional params: the value, or NULL / dflt when absent. A present value of
 * the wrong type is an error (-EINVAL) for rpc_opt_int. */
const char *rpc_opt_str(const cJSON *p, const char *key);
int rpc_opt_int(const cJSON *p, const char *key, int dflt, int *out, struct rpc_reply *r);
int rpc_opt_bool(const cJSON *p, const char *key);
/* Fails with -EINVAL naming the first key of p not in the NULL-terminated list. */
int rpc_only(const cJSON *p, const char *const *allowed, struct rpc_reply *r);

#endif
