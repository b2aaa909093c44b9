/* fuzz_config.c - fuzz target: configuration files (src/common/config.c).
 *
 * The input is written to an anonymous file (memfd, read back through
 * /proc/self/fd/N) and loaded with the controller's and with the agent's
 * schema. A file that loads must give each of its entries back through
 * config_find, every path value must resolve through config_path and every
 * CONFIG_BOOL value must parse. Built as a libFuzzer target (scripts/fuzz.sh)
 * and as a replay binary for ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *path, const struct config_key *keys)
{
	struct config c;
	char err[1024];
	if (config_load(&c, path, keys, err, sizeof(err))) {
		if (!err[0])
			abort(); /* every refusal says why */
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct config_entry *e = &c.e[i];
		if (!config_find(&c, e->section, e->name))
			abort();
		char out[4096];
		if (config_path(&c, e->value, out, sizeof(out)) != out)
			abort();
		for (const struct config_key *k = keys; k->section; k++) {
			int b;
			if (k->type == CONFIG_BOOL && !strcmp(k->section, e->section) &&
			    !strcmp(k->name, e->name) && config_bool(e->value, &b))
				abort(); /* the schema let a non-boolean through */
		}
	}
	config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	check(path, config_controller_keys);
	check(path, config_agent_keys);
	close(fd);
	return 0;
}
