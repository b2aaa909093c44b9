/* lua_json.c - cJSON <-> Lua conversion (lua_json.h). */
#include "lua_json.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64

static void push_depth(lua_State *L, const cJSON *v, int depth)
{
	if (depth > MAX_DEPTH) {
		lua_pushnil(L);
		return;
	}
	if (cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
		lua_pushnil(L);
	} else if (cJSON_IsBool(v)) {
		lua_pushboolean(L, cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v)) {
		lua_pushnumber(L, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		lua_pushstring(L, v->valuestring);
	} else if (cJSON_IsArray(v)) {
		lua_createtable(L, cJSON_GetArraySize(v), 0);
		int i = 1;
		const cJSON *it;
		cJSON_ArrayForEach(it, v) {
			if (cJSON_IsNull(it))
				lua_pushlightuserdata(L, NULL);
			else
				push_depth(L, it, depth + 1);
			lua_rawseti(L, -2, i++);
		}
	} else if (cJSON_IsObject(v)) {
		lua_createtable(L, 0, 4);
		const cJSON *it;
		cJSON_ArrayForEach(it, v) {
			if (cJSON_IsNull(it))
				continue;
			push_depth(L, it, depth + 1);
			lua_setfield(L, -2, it->string);
		}
	} else {
		lua_pushnil(L);
	}
}

void lj_push(lua_State *L, const cJSON *v)
{
	push_depth(L, v, 0);
}

static cJSON *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	if (depth > MAX_DEPTH) {
		snprintf(err, errlen, "value nested deeper than %d levels (a cycle?)", MAX_DEPTH);
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return cJSON_CreateNull();
	case LUA_TBOOLEAN:
		return cJSON_CreateBool(lua_toboolean(L, idx));
	case LUA_TNUMBER: {
		double d = lua_tonumber(L, idx);
		if (!isfinite(d)) {
			snprintf(err, errlen, "number %g cannot be sent", d);
			return NULL;
		}
		return cJSON_CreateNumber(d);
	}
	case LUA_TSTRING:
		return cJSON_CreateString(lua_tostring(L, idx));
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL)
			return cJSON_CreateNull();
		break;
	case LUA_TTABLE: {
		if (idx < 0)
			idx = lua_gettop(L) + idx + 1;
		size_t n = lua_objlen(L, idx);
		size_t count = 0;
		int is_array = n > 0;
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			count++;
			if (lua_type(L, -2) != LUA_TNUMBER)
				is_array = 0;
			lua_pop(L, 1);
		}
		if (is_array && count != n)
			is_array = 0;
		cJSON *out = is_array ? cJSON_CreateArray() : cJSON_CreateObject();
		if (is_array) {
			for (size_t i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, (int)i);
				cJSON *item = to_json(L, -1, depth + 1, err, errlen);
				lua_pop(L, 1);
				if (!item) {
					cJSON_Delete(out);
					return NULL;
				}
				cJSON_AddItemToArray(out, item);
			}
			return out;
		}
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			char key[64];
			const char *k;
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				snprintf(key, sizeof(key), "%.14g", lua_tonumber(L, -2));
				k = key;
			} else {
				snprintf(err, errlen, "table key of type %s cannot be sent",
					 luaL_typename(L, -2));
				lua_pop(L, 2);
				cJSON_Delete(out);
				return NULL;
			}
			cJSON *item = to_json(L, -1, depth + 1, err, errlen);
			if (!item) {
				lua_pop(L, 2);
				cJSON_Delete(out);
				return NULL;
			}
			cJSON_AddItemToObject(out, k, item);
			lua_pop(L, 1);
		}
		return out;
	}
	default:
		break;
	}
	snprintf(err, errlen, "a %s cannot be sent to an agent", luaL_typename(L, idx));
	return NULL;
}

cJSON *lj_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
	return to_json(L, idx, 0, err, errlen);
}
