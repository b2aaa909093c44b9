/* cni.c - CNI conflists and their bridges (cni.h). */
#include "cni.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int path_of(char *buf, size_t n, const char *dir, const char *name, const char *suffix)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	return snprintf(buf, n, "%s/%s%s", dir, name, suffix) >= (int)n ? -ENAMETOOLONG : 0;
}

int cni_write(const char *dir, const char *name, const char *bridge, const cJSON *labels, char *err,
	      size_t errlen)
{
	char path[4096], tmp[4200];
	int r = path_of(path, sizeof(path), dir, name, ".conflist");
	if (r) {
		snprintf(err, errlen, "CNI network name '%s' cannot be a file name in %s", name, dir);
		return r;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.conflist.%d", dir, name, getpid());
	cJSON *root = cJSON_CreateObject();
	cJSON *plugins = cJSON_AddArrayToObject(root, "plugins");
	cJSON *br = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "cniVersion", "0.4.0");
	cJSON_AddStringToObject(root, "name", name);
	if (labels) {
		cJSON *args = cJSON_AddObjectToObject(root, "args");
		cJSON_AddItemToObject(args, "podman_labels", cJSON_Duplicate(labels, 1));
	}
	cJSON_AddStringToObject(br, "type", "bridge");
	cJSON_AddStringToObject(br, "bridge", bridge);
	cJSON_AddBoolToObject(br, "isGateway", 0);
	cJSON_AddBoolToObject(br, "ipMasq", 0);
	cJSON_AddBoolToObject(br, "hairpinMode", 1);
	cJSON_AddItemToObject(br, "ipam", cJSON_CreateObject());
	cJSON_AddItemToArray(plugins, br);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot write CNI config %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto out;
	}
	close(fd);
	/* link() fails if the target exists: no network is ever replaced. */
	if (link(tmp, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create CNI config %s: %s", path, strerror(errno));
	}
	unlink(tmp);
out:
	cJSON_free(text);
	return r;
}

int cni_read(const char *dir, const char *name, char **bridge, cJSON **labels, char *err, size_t errlen)
{
	char path[4096], buf[65536];
	*bridge = NULL;
	*labels = NULL;
	if (path_of(path, sizeof(path), dir, name, ".conflist"))
		return -EINVAL;
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	cJSON *root = cJSON_Parse(buf);
	if (!root) {
		snprintf(err, errlen, "%s is not valid JSON", path);
		return -EINVAL;
	}
	const cJSON *pl;
	cJSON_ArrayForEach(pl, cJSON_GetObjectItemCaseSensitive(root, "plugins")) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(pl, "type");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(pl, "bridge");
		if (cJSON_IsString(type) && strcmp(type->valuestring, "bridge") == 0 && cJSON_IsString(b)) {
			*bridge = strdup(b->valuestring);
			break;
		}
	}
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "args"),
							   "podman_labels");
	if (cJSON_IsObject(l))
		*labels = cJSON_Duplicate(l, 1);
	cJSON_Delete(root);
	return 0;
}

int cni_remove(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4096];
	if (path_of(path, sizeof(path), dir, name, ".conflist"))
		return -EINVAL;
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

cJSON *cni_list(const char *dir, const char *prefix, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return cJSON_CreateArray();
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(errno));
		return NULL;
	}
	cJSON *out = cJSON_CreateArray();
	struct dirent *e;
	size_t plen = strlen(prefix);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= 9 || strncmp(e->d_name, prefix, plen) != 0 || strcmp(e->d_name + n - 9, ".conflist") != 0)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 9), e->d_name);
		cJSON_AddItemToArray(out, cJSON_CreateString(name));
	}
	closedir(d);
	return out;
}

static struct nl_sock *route_sock(char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0) {
		snprintf(err, errlen, "cannot open rtnetlink");
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

int cni_bridge_del(const char *name, char *err, size_t errlen)
{
	struct nl_sock *sk = route_sock(err, errlen);
	if (!sk)
		return -EIO;
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0) {
		r = r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : -EIO;
		snprintf(err, errlen, "bridge %s: %s", name, r == -ENODEV ? "no such link" : "cannot read it");
		goto out;
	}
	const char *type = rtnl_link_get_type(l);
	if (!type || strcmp(type, "bridge") != 0) {
		snprintf(err, errlen, "link %s is a %s, not a bridge: left alone", name, type ? type : "device");
		r = -EINVAL;
		goto out;
	}
	r = rtnl_link_delete(sk, l);
	if (r < 0) {
		snprintf(err, errlen, "cannot delete bridge %s: %s", name, nl_geterror(r));
		r = -EIO;
	}
out:
	if (l)
		rtnl_link_put(l);
	nl_socket_free(sk);
	return r;
}

cJSON *cni_links(const char *prefix, char *err, size_t errlen)
{
	struct nl_sock *sk = route_sock(err, errlen);
	if (!sk)
		return NULL;
	struct nl_cache *cache = NULL;
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0) {
		snprintf(err, errlen, "cannot list links");
		nl_socket_free(sk);
		return NULL;
	}
	cJSON *out = cJSON_CreateArray();
	size_t plen = strlen(prefix);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		const char *n = rtnl_link_get_name((struct rtnl_link *)o);
		if (n && strncmp(n, prefix, plen) == 0)
			cJSON_AddItemToArray(out, cJSON_CreateString(n));
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return out;
}
