/* cni.h - CNI network configurations for Podman's CNI backend, and the
 * bridges they leave in the machine's own network namespace.
 *
 * One conflist per network, each with a bridge of its own (so networks are
 * isolated from each other at layer 2), the bridge plugin without IPAM
 * (recipes set the addresses) and Podman labels in args.podman_labels, which
 * Podman shows as the network's labels. Files are written atomically: a
 * temporary file renamed into place, so the service never reads half a file.
 * The CNI bridge plugin never deletes a bridge it made; cni_bridge_del does.
 */
#ifndef LNST_CNI_H
#define LNST_CNI_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define CNI_DIR_DEFAULT "/etc/cni/net.d"

/* Writes DIR/NAME.conflist for network NAME on bridge BRIDGE; labels is a
 * JSON object of strings or NULL. -EEXIST when the file exists. 0 or -errno
 * with err set. */
int cni_write(const char *dir, const char *name, const char *bridge, const cJSON *labels, char *err,
	      size_t errlen);
/* Reads DIR/NAME.conflist: *bridge (the first bridge plugin's, malloc'd,
 * NULL if none) and *labels (a copy, NULL if none). 0 or -errno. */
int cni_read(const char *dir, const char *name, char **bridge, cJSON **labels, char *err, size_t errlen);
/* Removes DIR/NAME.conflist; 0 also when it was not there. */
int cni_remove(const char *dir, const char *name, char *err, size_t errlen);
/* The names of the conflists in dir whose name starts with prefix, as a
 * JSON array of strings (NULL on error, with err set). */
cJSON *cni_list(const char *dir, const char *prefix, char *err, size_t errlen);

/* Deletes the link NAME of this network namespace; -ENODEV when none. */
int cni_bridge_del(const char *name, char *err, size_t errlen);
/* The names of this namespace's links that start with prefix (a JSON
 * array), or NULL with err set. */
cJSON *cni_links(const char *prefix, char *err, size_t errlen);

#endif
