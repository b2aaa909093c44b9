/* lua_json.h - conversion between cJSON trees and Lua values.
 *
 * JSON objects become tables with string keys, arrays become sequences,
 * null becomes nil inside objects and lj_null (a light userdata) inside
 * arrays. A Lua table is an array when its keys are exactly 1..n (n > 0).
 */
#ifndef LNST_LUA_JSON_H
#define LNST_LUA_JSON_H

#include <cjson/cJSON.h>
#include <lua.h>

void lj_push(lua_State *L, const cJSON *v);
/* A new cJSON tree, or NULL with the reason in err (functions, userdata,
 * non-finite numbers, nesting deeper than 64 levels). */
cJSON *lj_to_json(lua_State *L, int idx, char *err, size_t errlen);

#endif
