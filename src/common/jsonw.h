/* jsonw.h - compact JSON text of a cJSON tree, as cJSON_PrintUnformatted
 * writes it, but integers are written by hand (the wire's numbers are
 * nearly all integers; cJSON 1.7.15 formats each with printf "%1.15g" and
 * reads it back with sscanf). Owns nothing else: parsing stays cJSON's.
 */
#ifndef LNST_JSONW_H
#define LNST_JSONW_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The text (malloc'd, NUL-terminated; free() it) and its length in *len
 * (may be NULL); NULL when out of memory or the tree is malformed (an
 * object member without a name, an invalid item). */
char *jsonw_print(const cJSON *item, size_t *len);

#endif
