/* pool_schema.h - pool/pool.rng, compiled into the binary by CMake
 * (pool_schema.c is generated in the build directory). */
#ifndef LNST_POOL_SCHEMA_H
#define LNST_POOL_SCHEMA_H

extern const unsigned char pool_schema[];
extern const unsigned long pool_schema_len;

#endif
