/* module.h - Lua test modules on the agent: the source cache and module jobs.
 *
 * The controller ships each module's Lua source once per agent, keyed by its
 * SHA-256 (module.missing tells which hashes the agent lacks, module.put
 * stores one after checking its hash), so agents need no Lua library of
 * their own. job.start with a `module` object runs one: a forked child makes
 * a fresh LuaJIT state, loads the cached source and calls its run(params,
 * api) (module_api.c); its report comes back through job.c's report channel.
 * The agent process itself never creates a Lua state (idle RSS stays small).
 */
#ifndef LNST_MODULE_H
#define LNST_MODULE_H

#include <stddef.h>

#include "rpc.h"

/* Limits of the cache: total bytes, bytes per source, entries. */
#define MODULE_CACHE_MAX (32u << 20)
#define MODULE_SOURCE_MAX (2u << 20)
#define MODULE_ENTRIES_MAX 256
#define MODULE_DEPS_MAX 8

struct modules;

/* One source of a module run: the module itself or a library it requires. */
struct module_src {
	const char *name; /* module name ("ping") or require name ("lnst.tests.sock") */
	const char *file; /* chunk name for tracebacks ("lnst/tests/ping.lua") */
	const char *text;
	size_t len;
};

/* What the forked child needs to run one module (module_api.c). */
struct module_run {
	const char *host; /* the agent's host name, for error reports */
	struct module_src main;
	struct module_src deps[MODULE_DEPS_MAX];
	int ndeps;
	const cJSON *params; /* an object; the child's copy after fork */
};

int modules_new(struct modules **out);
void modules_free(struct modules *m);

/* Request handlers (rows in dispatch.c). */
int module_rpc_missing(struct agent *a, const cJSON *p, struct rpc_reply *r);
int module_rpc_put(struct agent *a, const cJSON *p, struct rpc_reply *r);
/* job.start with a `module` object (dispatch.c routes it here). */
int module_job_start(struct agent *a, const cJSON *p, struct rpc_reply *r);

/* module_api.c: runs the module in this forked process and writes its
 * report to report_fd. Never returns. */
void module_api_run(const struct module_run *run, int report_fd) __attribute__((noreturn));

#endif
