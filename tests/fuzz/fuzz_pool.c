/* fuzz_pool.c - fuzz target: pool directories (src/ctl/pool.c).
 *
 * The input is one or two pool files separated by a NUL byte, written as
 * a.xml and b.xml into a private directory and loaded with pool_load, so
 * libxml2's parser, the RelaxNG schema, the walk over the tree and the
 * checks across machines all see it. A pool that loads must hold what
 * pool.h promises (hostname, port, a hwaddr per NIC). Built as a libFuzzer
 * target (scripts/fuzz.sh) and as a replay binary for ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void cleanup(void)
{
	char f[128];
	snprintf(f, sizeof(f), "%s/a.xml", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/b.xml", dir);
	unlink(f);
	rmdir(dir);
}

static int put(const char *name, const uint8_t *p, size_t n)
{
	char f[128];
	snprintf(f, sizeof(f), "%s/%s", dir, name);
	FILE *o = fopen(f, "wb");
	if (!o)
		return -1;
	size_t w = fwrite(p, 1, n, o);
	return fclose(o) || w != n ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/lnst-fuzz-pool.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	const uint8_t *sep = memchr(data, 0, size);
	size_t n1 = sep ? (size_t)(sep - data) : size;
	char f[128];
	snprintf(f, sizeof(f), "%s/b.xml", dir);
	unlink(f);
	if (put("a.xml", data, n1) || (sep && put("b.xml", sep + 1, size - n1 - 1)))
		abort();
	struct pool p;
	char err[4096];
	if (pool_load(&p, dir, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < p.n; i++) {
			const struct pool_machine *m = &p.machines[i];
			if (!m->hostname || m->port <= 0 || m->port > 65535)
				abort();
			for (size_t j = 0; j < m->nifaces; j++)
				if (!m->ifaces[j].hwaddr)
					abort();
		}
		pool_free(&p);
	} else if (!err[0]) {
		abort(); /* every refusal says why */
	}
	return 0;
}
