/* config.c - configuration files: parser and schemas (config.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct config_key config_controller_keys[] = {
	{ "environment", "rpcport", CONFIG_INT },
	{ "environment", "log_dir", CONFIG_PATH },
	{ "environment", "timeout", CONFIG_INT },
	{ "pools", "*", CONFIG_PATH },
	{ "security", "psk_file", CONFIG_PATH },
	{ "security", "cert", CONFIG_PATH },
	{ "security", "key", CONFIG_PATH },
	{ NULL, NULL, 0 },
};

const struct config_key config_agent_keys[] = {
	{ "agent", "listen", CONFIG_STR },
	{ "agent", "name", CONFIG_STR },
	{ "agent", "log_file", CONFIG_PATH },
	{ "agent", "timeout", CONFIG_INT },
	{ "agent", "insecure", CONFIG_BOOL },
	{ "security", "mode", CONFIG_STR },
	{ "security", "psk_file", CONFIG_PATH },
	{ "security", "cert", CONFIG_PATH },
	{ "security", "key", CONFIG_PATH },
	{ "security", "trust", CONFIG_PATH },
	{ NULL, NULL, 0 },
};

int config_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" }, *no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

static const struct config_key *lookup(const struct config_key *keys, const char *section,
				       const char *name, int *section_known)
{
	*section_known = 0;
	for (const struct config_key *k = keys; k->section; k++) {
		if (strcmp(k->section, section))
			continue;
		*section_known = 1;
		if (!strcmp(k->name, "*") || !strcmp(k->name, name))
			return k;
	}
	return NULL;
}

static void known_list(const struct config_key *keys, const char *section, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (const struct config_key *k = keys; k->section && o < n; k++) {
		if (section && strcmp(k->section, section))
			continue;
		const char *w = section ? k->name : k->section;
		if (!section && strstr(out, w))
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s%s", o ? ", " : "", w);
	}
}

static int check_value(const struct config_key *k, const char *v, char *why, size_t n)
{
	char *end;
	int b;
	switch (k->type) {
	case CONFIG_INT:
		errno = 0;
		long x = strtol(v, &end, 10);
		if (!*v || *end || errno || x < 0 || x > INT_MAX) {
			snprintf(why, n, "'%s' must be a non-negative integer, not '%s'", k->name, v);
			return -EINVAL;
		}
		return 0;
	case CONFIG_BOOL:
		if (config_bool(v, &b)) {
			snprintf(why, n, "'%s' must be yes or no, not '%s'", k->name, v);
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

int config_load(struct config *c, const char *path, const struct config_key *keys, char *err,
		size_t errlen)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->dir, sizeof(c->dir), "%s", path);
	char *slash = strrchr(c->dir, '/');
	if (slash)
		*(slash == c->dir ? slash + 1 : slash) = 0;
	else
		snprintf(c->dir, sizeof(c->dir), ".");
	char real[PATH_MAX];
	if (realpath(c->dir, real))
		snprintf(c->dir, sizeof(c->dir), "%s", real);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	char line[4096], section[128] = "", known[512], why[512];
	int lineno = 0, r = 0;
	struct { char name[128]; int line; } seen[32];
	int nseen = 0;
	while (!r && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] || e == s + 1 || e - s > (long)sizeof(section)) {
				snprintf(err, errlen, "%s:%d: a section header looks like [name]", path, lineno);
				r = -EINVAL;
				break;
			}
			*e = 0;
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			int sk;
			lookup(keys, section, "", &sk);
			if (!sk) {
				known_list(keys, NULL, known, sizeof(known));
				snprintf(err, errlen, "%s:%d: unknown section [%s] (known: %s)", path, lineno,
					 section, known);
				r = -EINVAL;
				break;
			}
			for (int i = 0; i < nseen; i++) {
				if (!strcmp(seen[i].name, section)) {
					snprintf(err, errlen, "%s:%d: section [%s] appears twice (first at line %d)",
						 path, lineno, section, seen[i].line);
					r = -EINVAL;
				}
			}
			if (!r && nseen < 32) {
				snprintf(seen[nseen].name, sizeof(seen[0].name), "%s", section);
				seen[nseen++].line = lineno;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			r = -EINVAL;
			break;
		}
		if (!section[0]) {
			snprintf(err, errlen, "%s:%d: option outside of a [section]", path, lineno);
			r = -EINVAL;
			break;
		}
		int append = eq > s && eq[-1] == '+';
		*(append ? eq - 1 : eq) = 0;
		char *name = trim(s), *value = trim(eq + 1);
		int sk;
		const struct config_key *k = lookup(keys, section, name, &sk);
		if (!*name) {
			snprintf(err, errlen, "%s:%d: an option needs a name", path, lineno);
			r = -EINVAL;
		} else if (!k) {
			known_list(keys, section, known, sizeof(known));
			snprintf(err, errlen, "%s:%d: unknown option '%s' in [%s] (known: %s)", path, lineno,
				 name, section, known);
			r = -EINVAL;
		} else if (append) {
			snprintf(err, errlen, "%s:%d: '%s' takes one value: use '=', not '+='", path, lineno, name);
			r = -EINVAL;
		} else if (!*value) {
			continue; /* as in LNST: an empty value is no value */
		} else if (check_value(k, value, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			r = -EINVAL;
		}
		if (r)
			break;
		struct config_entry *ne = realloc(c->e, (c->n + 1) * sizeof(*ne));
		if (!ne) {
			r = -ENOMEM;
			break;
		}
		c->e = ne;
		struct config_entry *x = &c->e[c->n++];
		x->section = strdup(section);
		x->name = strdup(name);
		x->value = strdup(value);
		x->line = lineno;
		if (!x->section || !x->name || !x->value)
			r = -ENOMEM;
	}
	fclose(f);
	if (r)
		config_free(c);
	return r;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].name);
		free(c->e[i].value);
	}
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

const struct config_entry *config_find(const struct config *c, const char *section,
				       const char *name)
{
	const struct config_entry *found = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].section, section) && !strcmp(c->e[i].name, name))
			found = &c->e[i];
	return found;
}

char *config_path(const struct config *c, const char *value, char *out, size_t n)
{
	if (value[0] == '/')
		snprintf(out, n, "%s", value);
	else
		snprintf(out, n, "%s/%s", c->dir, value);
	return out;
}
