/* undo.h - the agent's undo log.
 *
 * Every change the agent makes on behalf of a run pushes the step that
 * reverts it. undo_run() executes the steps newest first, when the run ends
 * or the controller goes away, so the host returns to how it was found. The
 * log is generic: a step is a function with a small copied payload; it knows
 * nothing about devices or jobs.
 */
#ifndef LNST_UNDO_H
#define LNST_UNDO_H

#include <stddef.h>

struct undo_step;
typedef int (*undo_fn)(void *ctx, const struct undo_step *s);

struct undo_step {
	undo_fn fn;
	void *ctx;
	int ifindex;
	int ival;
	char sval[96];
	char what[96]; /* for the log: "ip_add 198.51.100.1/24 on eth0" */
};

struct undo {
	struct undo_step *v;
	size_t n, cap;
};

int undo_push(struct undo *u, const struct undo_step *s);
/* Runs and empties the log; returns the number of steps that failed. */
int undo_run(struct undo *u);
void undo_free(struct undo *u);

#endif
