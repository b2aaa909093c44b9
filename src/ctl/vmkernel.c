/* vmkernel.c - kernel images: what they are, and the ELF inside a bzImage
 * (vmkernel.h). */
#include "vmkernel.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct map {
	const unsigned char *p;
	size_t n;
};

static int map_file(const char *path, struct map *m, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open kernel %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 1024) {
		close(fd);
		snprintf(err, errlen, "kernel %s: not a regular file of a kernel's size", path);
		return -EINVAL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "cannot map kernel %s: %s", path, strerror(e));
		return -e;
	}
	m->p = p;
	m->n = (size_t)st.st_size;
	return 0;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int is_bzimage(const struct map *m)
{
	return m->n > 0x250 && le16(m->p + 0x1fe) == 0xaa55 && memcmp(m->p + 0x202, "HdrS", 4) == 0;
}

/* Copies the first word of s (at most n bytes) into out. */
static void first_word(const unsigned char *s, size_t n, char *out, size_t outn)
{
	size_t i = 0;
	while (i < n && i + 1 < outn && s[i] > ' ' && s[i] < 127) {
		out[i] = (char)s[i];
		i++;
	}
	out[i] = 0;
}

static int elf_pvh(const struct map *m)
{
	const Elf64_Ehdr *eh = (const void *)m->p;
	if (m->n < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr))
		return 0;
	if (eh->e_phoff > m->n || (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > m->n - eh->e_phoff)
		return 0;
	const Elf64_Phdr *ph = (const void *)(m->p + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_NOTE || ph[i].p_offset > m->n || ph[i].p_filesz > m->n - ph[i].p_offset)
			continue;
		const unsigned char *p = m->p + ph[i].p_offset, *end = p + ph[i].p_filesz;
		while (end - p >= 12) {
			uint32_t namesz = le32(p), descsz = le32(p + 4), type = le32(p + 8);
			size_t nlen = (namesz + 3) & ~3u, dlen = (descsz + 3) & ~3u;
			if ((size_t)(end - p - 12) < nlen + dlen)
				break;
			if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && memcmp(p + 12, "Xen", 4) == 0)
				return 1;
			p += 12 + nlen + dlen;
		}
	}
	return 0;
}

int vmkernel_info(const char *path, struct vmkernel_info *info, char *err, size_t errlen)
{
	memset(info, 0, sizeof(*info));
	struct map m;
	int e = map_file(path, &m, err, errlen);
	if (e)
		return e;
	if (is_bzimage(&m)) {
		info->format = VMKERNEL_BZIMAGE;
		size_t v = (size_t)le16(m.p + 0x20e) + 0x200;
		if (le16(m.p + 0x20e) && v < m.n)
			first_word(m.p + v, m.n - v, info->release, sizeof(info->release));
	} else if (memcmp(m.p, ELFMAG, SELFMAG) == 0) {
		info->format = VMKERNEL_ELF;
		info->pvh = elf_pvh(&m);
		static const char banner[] = "Linux version ";
		const unsigned char *b = memmem(m.p, m.n, banner, sizeof(banner) - 1);
		if (b) {
			b += sizeof(banner) - 1;
			first_word(b, m.n - (size_t)(b - m.p), info->release, sizeof(info->release));
		}
	} else {
		snprintf(err, errlen, "kernel %s: neither an x86 bzImage nor an ELF vmlinux", path);
		e = -ENOEXEC;
	}
	munmap((void *)m.p, m.n);
	return e;
}

/* The decompressor for a payload, by its magic. */
static const char *const *tool_for(const unsigned char *p, size_t n, const char **what)
{
	static const char *const xz[] = { "xz", "-dc", "--single-stream", NULL };
	static const char *const lzma[] = { "xz", "-dc", "--format=lzma", NULL };
	static const char *const gz[] = { "gzip", "-dc", NULL };
	static const char *const zstd[] = { "zstd", "-dcq", NULL };
	static const char *const bz2[] = { "bzip2", "-dc", NULL };
	static const char *const lz4[] = { "lz4", "-dc", NULL };
	static const char *const lzo[] = { "lzop", "-dc", NULL };
	static const struct {
		const char *magic;
		size_t len;
		const char *name;
		const char *const *argv;
	} t[] = {
		{ "\xfd" "7zXZ\0", 6, "xz", xz },    { "\x1f\x8b", 2, "gzip", gz },
		{ "\x28\xb5\x2f\xfd", 4, "zstd", zstd }, { "BZh", 3, "bzip2", bz2 },
		{ "\x02\x21\x4c\x18", 4, "lz4", lz4 }, { "\x89LZO", 4, "lzo", lzo },
		{ "\x5d\0\0", 3, "lzma", lzma },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (n >= t[i].len && memcmp(p, t[i].magic, t[i].len) == 0) {
			*what = t[i].name;
			return t[i].argv;
		}
	}
	*what = NULL;
	return NULL;
}

/* Whether the file at path is a whole ELF (its headers and tables fit). */
static int elf_complete(const char *path)
{
	struct map m;
	char err[64];
	if (map_file(path, &m, err, sizeof(err)))
		return 0;
	const Elf64_Ehdr *eh = (const void *)m.p;
	int ok = memcmp(m.p, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
		 eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize <= m.n &&
		 eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize <= m.n;
	munmap((void *)m.p, m.n);
	return ok;
}

int vmkernel_extract(const char *bzimage, const char *out, char *err, size_t errlen)
{
	struct map m;
	int e = map_file(bzimage, &m, err, errlen);
	if (e)
		return e;
	const char *what = NULL;
	const char *const *argv = NULL;
	int pipefd[2] = { -1, -1 }, ofd = -1, created = 0;
	e = -EINVAL;
	if (!is_bzimage(&m) || le16(m.p + 0x206) < 0x208) {
		snprintf(err, errlen, "%s: not a bzImage with a payload (boot protocol 2.08 or later)", bzimage);
		goto out;
	}
	size_t setup = (size_t)(m.p[0x1f1] ? m.p[0x1f1] : 4) + 1;
	size_t off = setup * 512 + le32(m.p + 0x248), len = le32(m.p + 0x24c);
	if (off > m.n || len > m.n - off || len < 16) {
		snprintf(err, errlen, "%s: the payload lies outside the file", bzimage);
		goto out;
	}
	argv = tool_for(m.p + off, len, &what);
	if (!argv) {
		snprintf(err, errlen, "%s: unknown payload compression (magic %02x %02x %02x %02x)", bzimage,
			 m.p[off], m.p[off + 1], m.p[off + 2], m.p[off + 3]);
		goto out;
	}
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	created = ofd >= 0;
	if (ofd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(pipefd[0], 0) < 0 || dup2(ofd, 1) < 0)
			_exit(127);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 2); /* trailing bytes after the stream are expected */
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0) {
		e = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	close(pipefd[0]);
	pipefd[0] = -1;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(pipefd[1], m.p + off + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	signal(SIGPIPE, old);
	close(pipefd[1]);
	pipefd[1] = -1;
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	close(ofd);
	ofd = -1;
	/* Exit statuses vary with trailing data (gzip says 2, zstd 1): the
	 * result is what counts. */
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(err, errlen, "%s: cannot run %s to decompress its %s payload", bzimage, argv[0], what);
		e = -ENOENT;
	} else if (!elf_complete(out)) {
		snprintf(err, errlen, "%s: decompressing its %s payload with %s gave no complete ELF", bzimage, what,
			 argv[0]);
		e = -EINVAL;
	} else {
		e = 0;
	}
out:
	if (e && created)
		unlink(out);
	if (ofd >= 0)
		close(ofd);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	munmap((void *)m.p, m.n);
	return e;
}
