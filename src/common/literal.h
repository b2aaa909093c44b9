/* literal.h - recipe parameter values, parsed as data and never evaluated.
 *
 * Users pass parameters as `lnst run recipe.lua -p key=value` and, in
 * containers, as RECIPE_PARAMS="key=value;key2=value2". Values use the literal
 * syntax of Python (upstream LNST) with a few Lua spellings: numbers, quoted
 * strings, True/true/False/false, None/nil/null, lists, tuples, dicts
 * ({'k': v}, {k: v}, {k = v}) and bare words (eth0, 198.51.100.0/24,
 * 2001:db8::1/64), which are strings. Anything that looks like code is
 * rejected. Results are cJSON trees the caller frees with cJSON_Delete.
 *
 * Stricter than Python where Python would silently change the data: integers
 * beyond 2^53 (not exact as doubles), duplicate dict keys, unknown string
 * escapes and invalid UTF-8 are errors. As in Python, (a) is just a; (a,) is
 * a one-element list.
 *
 * Errors return -EINVAL (-ENOMEM when out of memory) and write a message that
 * starts with the byte offset of the problem ("at offset 7: ...") into err.
 */
#ifndef LNST_LITERAL_H
#define LNST_LITERAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define LITERAL_MAX_DEPTH 32
#define LITERAL_MAX_LEN (1u << 20)

/* One value; the whole text must be consumed (surrounding whitespace allowed). */
int literal_parse(const char *text, cJSON **out, char *err, size_t errlen);
/* "k=v<sep>k2=v2..." into a JSON object. Keys are [A-Za-z_][A-Za-z0-9_]*; a
 * separator inside quotes or brackets does not split; empty items are skipped;
 * a duplicate key is an error. */
int literal_parse_assignments(const char *text, char sep, cJSON **out, char *err, size_t errlen);
/* One "key=value" (as given to -p); *key is malloc'd. */
int literal_parse_assignment(const char *text, char **key, cJSON **value, char *err, size_t errlen);

#endif
