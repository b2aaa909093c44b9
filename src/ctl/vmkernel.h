/* vmkernel.h - reading kernel images for the VM provisioner.
 *
 * A guest boots fastest from an uncompressed ELF vmlinux through its Xen PVH
 * entry point (qemu -kernel vmlinux): no firmware loader, no in-guest
 * decompression. vmkernel_info tells what a file is (x86 bzImage or ELF),
 * whether an ELF has the PVH entry note, and which release it is (the
 * bzImage's version string, or the "Linux version" banner of an ELF).
 * vmkernel_extract pulls the ELF out of a bzImage: the payload the setup
 * header points at, decompressed by the matching tool (xz, gzip, zstd,
 * bzip2, lz4, lzop).
 */
#ifndef LNST_VMKERNEL_H
#define LNST_VMKERNEL_H

#include <stddef.h>

enum vmkernel_format { VMKERNEL_UNKNOWN, VMKERNEL_BZIMAGE, VMKERNEL_ELF };

struct vmkernel_info {
	enum vmkernel_format format;
	int pvh;           /* ELF with XEN_ELFNOTE_PHYS32_ENTRY */
	char release[128]; /* "" when not found */
};

/* 0, or -errno with err set (unreadable file, not a kernel). */
int vmkernel_info(const char *path, struct vmkernel_info *info, char *err, size_t errlen);
/* Writes the ELF inside bzimage to out. 0, or -errno with err set. */
int vmkernel_extract(const char *bzimage, const char *out, char *err, size_t errlen);

#endif
