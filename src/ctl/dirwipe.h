/* dirwipe.h - emptying a directory tree without crossing file systems, for
 * the guest's init (lnst-vminit: the initramfs before the host's root is
 * moved onto /) and lnst-vmguest (/tmp and /run between runs).
 */
#ifndef LNST_DIRWIPE_H
#define LNST_DIRWIPE_H

#include <sys/types.h>

/* Empties directory fd (consumed) recursively, never crossing into a file
 * system other than dev, sparing the names in keep (NULL-terminated; may
 * be NULL) at its top. Errors are ignored: what cannot go stays. */
void dirwipe(int fd, dev_t dev, const char *const *keep);

#endif
