/* dirwipe.c - emptying a directory tree in place (dirwipe.h). */
#include "dirwipe.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void dirwipe(int fd, dev_t dev, const char *const *keep)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		int spare = strcmp(n, ".") == 0 || strcmp(n, "..") == 0;
		for (const char *const *k = keep; k && *k && !spare; k++)
			spare = strcmp(n, *k) == 0;
		struct stat st;
		if (spare || fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				dirwipe(sub, dev, NULL);
			unlinkat(dirfd(d), n, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(d), n, 0);
		}
	}
	closedir(d);
}
