/* sysctl.c - /proc/sys get and set with undo (sysctl.h). */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define SYSCTL_VALUE_MAX 4096

struct sysctl_undo {
	char path[256];
	char value[];
};

int sysctl_path(const char *key, char *path, size_t n, char *err, size_t errlen)
{
	size_t len = strlen(key);
	if (len == 0 || len > 200) {
		snprintf(err, errlen, "sysctl key must be 1 to 200 characters");
		return -EINVAL;
	}
	for (const char *c = key; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr("_.:@+-/", *c))) {
			snprintf(err, errlen, "sysctl key '%s': character '%c' is not allowed", key, *c);
			return -EINVAL;
		}
	}
	/* Dots separate components unless the key is already a path. */
	int slashes = strchr(key, '/') != NULL;
	char rel[256];
	snprintf(rel, sizeof(rel), "%s", key);
	if (!slashes)
		for (char *c = rel; *c; c++)
			if (*c == '.')
				*c = '/';
	const char *comp = rel;
	for (;;) {
		const char *end = strchr(comp, '/');
		size_t cl = end ? (size_t)(end - comp) : strlen(comp);
		if (cl == 0 || (cl == 1 && comp[0] == '.') || (cl == 2 && !strncmp(comp, "..", 2))) {
			snprintf(err, errlen, "sysctl key '%s': empty, '.' or '..' components are not allowed", key);
			return -EINVAL;
		}
		if (!end)
			break;
		comp = end + 1;
	}
	snprintf(path, n, "/proc/sys/%s", rel);
	return 0;
}

/* Reads the value (trailing newline removed); 0 or -errno. */
static int read_value(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got + 1 < n) {
		ssize_t k = read(fd, buf + got, n - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = 0;
	while (got > 0 && buf[got - 1] == '\n')
		buf[--got] = 0;
	return 0;
}

static int write_value(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t k;
	do
		k = write(fd, value, len);
	while (k < 0 && errno == EINTR);
	int err = k < 0 ? -errno : (size_t)k != len ? -EIO : 0;
	close(fd);
	return err;
}

static int open_error(struct rpc_reply *r, const char *key, const char *path, int err, const char *what)
{
	if (err == -ENOENT)
		snprintf(r->err, sizeof(r->err), "sysctl %s: no such key (%s does not exist here)", key, path);
	else
		snprintf(r->err, sizeof(r->err), "sysctl %s: %s %s failed: %s", key, what, path, strerror(-err));
	return err;
}

int sysctl_m_get(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	(void)a;
	static const char *const known[] = { "key", NULL };
	const char *key;
	char path[256], value[SYSCTL_VALUE_MAX];
	if (rpc_only(p, known, r) || rpc_str(p, "key", &key, r))
		return -EINVAL;
	if (sysctl_path(key, path, sizeof(path), r->err, sizeof(r->err)))
		return -EINVAL;
	int err = read_value(path, value, sizeof(value));
	if (err)
		return open_error(r, key, path, err, "reading");
	r->result = cJSON_CreateObject();
	cJSON_AddStringToObject(r->result, "key", key);
	cJSON_AddStringToObject(r->result, "value", value);
	return 0;
}

static int undo_sysctl(void *ctx, const struct undo_step *s)
{
	struct sysctl_undo *u = ctx;
	int err = write_value(u->path, u->value);
	if (err)
		log_warn("undo of '%s': writing '%s' to %s: %s", s->what, u->value, u->path, strerror(-err));
	free(u);
	return err;
}

int sysctl_m_set(struct agent *a, const cJSON *p, struct rpc_reply *r)
{
	static const char *const known[] = { "key", "value", NULL };
	const char *key;
	char path[256], old[SYSCTL_VALUE_MAX], now[SYSCTL_VALUE_MAX], value[SYSCTL_VALUE_MAX];
	if (rpc_only(p, known, r) || rpc_str(p, "key", &key, r))
		return -EINVAL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "value");
	if (cJSON_IsString(v) && strlen(v->valuestring) < sizeof(value) - 1) {
		snprintf(value, sizeof(value), "%s", v->valuestring);
	} else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble) {
		snprintf(value, sizeof(value), "%lld", (long long)v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		snprintf(value, sizeof(value), "%d", cJSON_IsTrue(v));
	} else {
		snprintf(r->err, sizeof(r->err), "sysctl %s: 'value' must be a string, an integer or a boolean", key);
		return -EINVAL;
	}
	if (sysctl_path(key, path, sizeof(path), r->err, sizeof(r->err)))
		return -EINVAL;
	int err = read_value(path, old, sizeof(old));
	if (err)
		return open_error(r, key, path, err, "reading");
	err = write_value(path, value);
	if (err)
		return open_error(r, key, path, err, "writing");
	if (read_value(path, now, sizeof(now)))
		snprintf(now, sizeof(now), "%s", value);
	if (strcmp(old, now) != 0) {
		size_t len = strlen(old) + 1;
		struct sysctl_undo *u = malloc(sizeof(*u) + len);
		if (u) {
			snprintf(u->path, sizeof(u->path), "%s", path);
			memcpy(u->value, old, len);
			struct undo_step s = { .fn = undo_sysctl, .ctx = u };
			snprintf(s.what, sizeof(s.what), "sysctl %.48s = %.32s", key, value);
			if (undo_push(&a->undo, &s))
				free(u);
		}
	}
	r->result = cJSON_CreateObject();
	cJSON_AddStringToObject(r->result, "key", key);
	cJSON_AddStringToObject(r->result, "value", now);
	cJSON_AddStringToObject(r->result, "old", old);
	return 0;
}
