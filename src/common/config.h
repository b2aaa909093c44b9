/* config.h - lnst's configuration files (controller and agent).
 *
 * The syntax is LNST's: `[section]` headers, then `name = value` lines
 * (no option here takes LNST's additive `+=`); a line starting with `#` or `;`
 * is a comment; blank lines are ignored; a section may appear only once.
 * Relative paths are relative to the file's directory. A schema (a table of
 * config_key) says which sections and options exist and what they hold, so
 * a typo is an error naming the file and line, never a silently ignored
 * option. docs/remote.md documents both files.
 */
#ifndef LNST_CONFIG_H
#define LNST_CONFIG_H

#include <stddef.h>

enum config_type {
	CONFIG_STR = 1,
	CONFIG_PATH, /* resolved against the file's directory */
	CONFIG_INT,  /* non-negative decimal */
	CONFIG_BOOL, /* yes/no, true/false, on/off, 1/0 */
};

struct config_key {
	const char *section;
	const char *name; /* "*": any name (e.g. [pools] NAME = DIR) */
	enum config_type type;
};

struct config_entry {
	char *section;
	char *name;
	char *value; /* as written; paths resolved by config_path */
	int line;
};

struct config {
	char path[4096];
	char dir[4096];
	struct config_entry *e;
	size_t n;
};

/* The controller's and the agent's schemas (NULL-terminated). */
extern const struct config_key config_controller_keys[];
extern const struct config_key config_agent_keys[];

/* Reads and checks a file against keys. 0, or -errno with err as
 * "FILE:LINE: what is wrong". */
int config_load(struct config *c, const char *path, const struct config_key *keys, char *err,
		size_t errlen);
void config_free(struct config *c);

/* The last entry for section/name, or NULL. */
const struct config_entry *config_find(const struct config *c, const char *section,
				       const char *name);
/* A value as a path: absolute as is, else joined to the file's directory.
 * Returns out. */
char *config_path(const struct config *c, const char *value, char *out, size_t n);
/* Parses a boolean word; -EINVAL when it is none. */
int config_bool(const char *s, int *out);

#endif
