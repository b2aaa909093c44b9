/* job.h - processes the agent runs for a recipe.
 *
 * A job is an argv (no shell) or, when the recipe asks for it, a shell
 * string. Each runs in its own process group with stdout and stderr
 * captured, stdin from /dev/null. Exec failures are reported synchronously by
 * job_start. A timeout, if given, SIGKILLs the group. When the process exits,
 * the output still in the pipes is drained and a job.finished event is
 * produced; with stream = true, output is also sent as job.output events as
 * it arrives. The agent reaps all children through jobs_reap (SIGCHLD).
 * A function job (job_start_fn) runs a function in the forked child instead.
 */
#ifndef LNST_JOB_H
#define LNST_JOB_H

#include <cjson/cJSON.h>

#include "loop.h"

struct jobs;
typedef void (*job_event_cb)(const char *name, cJSON *ev, void *ud);

int jobs_new(struct jobs **out, struct loop *loop, job_event_cb cb, void *ud);
void jobs_free(struct jobs *js);

/* Starts a job from request params; on success *result = {"id": N, "pid": P}.
 * On failure returns -errno with err filled. */
int job_start(struct jobs *js, const cJSON *params, cJSON **result, char *err, size_t errlen);
/* A job whose child calls a function instead of exec'ing an argv (Lua test
 * modules). run() gets the report channel on fd report_fd (3) and must not
 * return; signals are still blocked when it starts. Its report lines are
 * described at the top of job.c. */
struct job_fn {
	void (*run)(void *ud, int report_fd);
	void *ud;
};
int job_start_fn(struct jobs *js, const cJSON *params, const struct job_fn *fn, cJSON **result,
		 char *err, size_t errlen);
int job_kill(struct jobs *js, int id, int sig, char *err, size_t errlen);
/* Called on SIGCHLD: reaps every exited child. */
void jobs_reap(struct jobs *js);
/* SIGKILLs every running job and waits (bounded) for them to go. */
void jobs_kill_all(struct jobs *js);
int jobs_running(const struct jobs *js);

#endif
