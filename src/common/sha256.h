/* sha256.h - SHA-256 (FIPS 180-4), small and dependency-free, so the agent
 * can check shipped module sources without mapping libcrypto. */
#ifndef LNST_SHA256_H
#define LNST_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);
/* Lower-case hex digest, NUL-terminated. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
