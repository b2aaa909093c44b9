/* module.c - the module source cache and module jobs (module.h).
 *
 * The cache is a list of sources keyed by the lowercase hex SHA-256 of their
 * text, filled by module.put (the hash is checked with libcrypto) and kept
 * for the agent's lifetime, within MODULE_CACHE_MAX bytes. A module job
 * resolves its module and dependencies in the cache, then hands job.c a
 * function that runs in the forked child (module_api_run). Nothing here
 * touches Lua: the state exists only in that child.
 */
#include "sha256.h"
#include "module.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct entry {
	char sha[65];
	char *text;
	size_t len;
	struct entry *next;
};

struct modules {
	struct entry *list;
	size_t bytes;
	int count;
};

int modules_new(struct modules **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void modules_free(struct modules *m)
{
	if (!m)
		return;
	while (m->list) {
		struct entry *e = m->list;
		m->list = e->next;
		free(e->text);
		free(e);
	}
	free(m);
}

static int valid_sha(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (const char *c = s; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return 0;
	return 1;
}

static const struct entry *lookup(const struct modules *m, const char *sha)
{
	for (const struct entry *e = m->list; e; e = e->next)
		if (strcmp(e->sha, sha) == 0)
			return e;
	return NULL;
}


int module_rpc_missing(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const keys[] = { "sha256s", NULL };
	if (rpc_only(p, keys, r))
		return -EINVAL;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "sha256s");
	if (!cJSON_IsArray(list)) {
		snprintf(r->err, sizeof(r->err), "parameter 'sha256s' must be an array of hex SHA-256 strings");
		return -EINVAL;
	}
	cJSON *missing = cJSON_CreateArray();
	const cJSON *it;
	int i = 0;
	cJSON_ArrayForEach(it, list) {
		i++;
		if (!cJSON_IsString(it) || !valid_sha(it->valuestring)) {
			snprintf(r->err, sizeof(r->err),
				 "sha256s item %d is not a SHA-256 in lowercase hex (64 characters)", i);
			cJSON_Delete(missing);
			return -EINVAL;
		}
		if (!lookup(a->modules, it->valuestring))
			cJSON_AddItemToArray(missing, cJSON_CreateString(it->valuestring));
	}
	r->result = cJSON_CreateObject();
	cJSON_AddItemToObject(r->result, "missing", missing);
	return 0;
}

int module_rpc_put(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const keys[] = { "sha256", "source", NULL };
	const char *sha, *src;
	if (rpc_only(p, keys, r) || rpc_str(p, "sha256", &sha, r) || rpc_str(p, "source", &src, r))
		return -EINVAL;
	if (!valid_sha(sha)) {
		snprintf(r->err, sizeof(r->err), "parameter 'sha256' is not a SHA-256 in lowercase hex (64 characters)");
		return -EINVAL;
	}
	struct modules *m = a->modules;
	size_t len = strlen(src);
	char got[65];
	sha256_hex(src, len, got);
	if (strcmp(got, sha) != 0) {
		snprintf(r->err, sizeof(r->err), "module.put: the source's SHA-256 is %s, not the %s announced", got, sha);
		return -EINVAL;
	}
	r->result = cJSON_CreateObject();
	if (lookup(m, sha))
		return 0;
	if (len > MODULE_SOURCE_MAX || m->bytes + len > MODULE_CACHE_MAX || m->count >= MODULE_ENTRIES_MAX) {
		cJSON_Delete(r->result);
		r->result = NULL;
		snprintf(r->err, sizeof(r->err),
			 "module.put: the module cache is full (%zu bytes in %d sources; limits %u bytes per source, %u in all, %d sources)",
			 m->bytes, m->count, MODULE_SOURCE_MAX, MODULE_CACHE_MAX, MODULE_ENTRIES_MAX);
		return -ENOSPC;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->text = malloc(len + 1))) {
		free(e);
		cJSON_Delete(r->result);
		r->result = NULL;
		return -ENOMEM;
	}
	memcpy(e->text, src, len + 1);
	e->len = len;
	memcpy(e->sha, sha, 65);
	e->next = m->list;
	m->list = e;
	m->bytes += len;
	m->count++;
	return 0;
}

/* A name for require() or a module: letters, digits, '_', '.', '-'. */
static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return 0;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '.' || *c == '-'))
			return 0;
	return 1;
}

/* Resolves {name, sha256, file} against the cache into src. */
static int resolve(struct agent *a, const cJSON *o, const char *what, const char *const *keys,
		   struct module_src *src, struct rpc_reply *r)
{
	const char *sha;
	if (!cJSON_IsObject(o)) {
		snprintf(r->err, sizeof(r->err), "%s must be an object {name, sha256, file}", what);
		return -EINVAL;
	}
	if (rpc_only(o, keys, r) || rpc_str(o, "name", &src->name, r) || rpc_str(o, "sha256", &sha, r))
		return -EINVAL;
	if (!valid_name(src->name)) {
		snprintf(r->err, sizeof(r->err), "%s name '%.64s' is not a valid name", what, src->name);
		return -EINVAL;
	}
	src->file = rpc_opt_str(o, "file");
	if (!src->file)
		src->file = src->name;
	const struct entry *e = valid_sha(sha) ? lookup(a->modules, sha) : NULL;
	if (!e) {
		snprintf(r->err, sizeof(r->err),
			 "%s %s (sha256 %.64s) is not cached on this agent: send it with module.put first",
			 what, src->name, sha);
		return -ENOENT;
	}
	src->text = e->text;
	src->len = e->len;
	return 0;
}

static void run_child(void *ud, int report_fd)
{
	module_api_run(ud, report_fd);
}

int module_job_start(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const keys[] = { "module", "timeout", "stream", NULL };
	static const char *const mod_keys[] = { "name", "sha256", "file", "params", "deps", NULL };
	static const char *const dep_keys[] = { "name", "sha256", "file", NULL };
	if (rpc_only(p, keys, r))
		return -EINVAL;
	const cJSON *mod = cJSON_GetObjectItemCaseSensitive(p, "module");
	struct module_run run = { .host = a->name ? a->name : "" };
	int err = resolve(a, mod, "module", mod_keys, &run.main, r);
	if (err)
		return err;
	static const cJSON empty = { .type = cJSON_Object };
	run.params = cJSON_GetObjectItemCaseSensitive(mod, "params");
	if (!run.params)
		run.params = &empty;
	if (!cJSON_IsObject(run.params)) {
		snprintf(r->err, sizeof(r->err), "module %s: 'params' must be an object", run.main.name);
		return -EINVAL;
	}
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(mod, "deps"), *d;
	if (deps && !cJSON_IsArray(deps)) {
		snprintf(r->err, sizeof(r->err), "module %s: 'deps' must be an array", run.main.name);
		return -EINVAL;
	}
	cJSON_ArrayForEach(d, deps) {
		if (run.ndeps == MODULE_DEPS_MAX) {
			snprintf(r->err, sizeof(r->err), "module %s: more than %d deps", run.main.name, MODULE_DEPS_MAX);
			return -EINVAL;
		}
		err = resolve(a, d, "dependency", dep_keys, &run.deps[run.ndeps++], r);
		if (err)
			return err;
	}
	struct job_fn fn = { run_child, &run };
	return job_start_fn(a->jobs, p, &fn, &r->result, r->err, sizeof(r->err));
}
