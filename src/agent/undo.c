/* undo.c - the undo log (undo.h). */
#include "undo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int undo_push(struct undo *u, const struct undo_step *s)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 32;
		struct undo_step *nv = realloc(u->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		u->v = nv;
		u->cap = cap;
	}
	u->v[u->n++] = *s;
	return 0;
}

int undo_run(struct undo *u)
{
	int failed = 0;
	while (u->n > 0) {
		struct undo_step *s = &u->v[--u->n];
		int err = s->fn(s->ctx, s);
		if (err && err != -ENODEV) {
			log_warn("undo of '%s' failed: %s", s->what, strerror(-err));
			failed++;
		}
	}
	return failed;
}

void undo_free(struct undo *u)
{
	free(u->v);
	memset(u, 0, sizeof(*u));
}
