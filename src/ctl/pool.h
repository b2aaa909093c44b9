/* pool.h - pool directories: one XML file per machine (docs/remote.md).
 *
 * pool_load reads every *.xml file of a directory (the machine id is the
 * file name without the extension), validates each against the RelaxNG
 * schema shipped in pool/pool.rng (compiled into the binary) with libxml2,
 * extracts the machine and checks what a schema cannot: hostname and
 * per-NIC hwaddr present, MAC syntax, unique NIC ids and MACs in a machine,
 * unique MACs and hostname:port across the pool. Errors name the file and
 * line and say what is wrong; a pool with any error is not loaded at all.
 */
#ifndef LNST_POOL_H
#define LNST_POOL_H

#include <stddef.h>

#include "tls.h"

struct pool_param {
	char *name;
	char *value;
	int line;
};

struct pool_iface {
	char *id;
	char *label;
	char *hwaddr; /* upper case, as LNST writes it */
	struct pool_param *params; /* hwaddr included */
	size_t nparams;
	int line;
};

struct pool_machine {
	char *id;   /* file name without .xml */
	char *file; /* absolute path */
	char *hostname;
	int port;   /* rpc_port, default 9999 */
	struct pool_param *params; /* hostname and rpc_port included */
	size_t nparams;
	struct pool_iface *ifaces;
	size_t nifaces;
	enum tls_mode mode;
	char *psk_file; /* absolute, or NULL */
	char *pubkey;   /* absolute, or NULL */
};

struct pool {
	char *dir; /* absolute */
	struct pool_machine *machines; /* sorted by id */
	size_t n;
};

#define POOL_PORT_DEFAULT 9999

/* 0, or -errno with err holding one line per problem ("FILE:LINE: ..."). */
int pool_load(struct pool *p, const char *dir, char *err, size_t errlen);
void pool_free(struct pool *p);

#endif
