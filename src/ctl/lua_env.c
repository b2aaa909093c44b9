/* lua_env.c - the controller's Lua state (lua_env.h). */
#include "lua_env.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_core.h"
#include "lua_embedded.h"
#include "lua_podman.h"
#include "lua_vm.h"

/* package.loaders entry: finds a module in the embedded library. */
static int embedded_searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	for (const struct lua_embedded *m = lua_embedded_modules; m->name; m++) {
		if (strcmp(m->name, name) != 0)
			continue;
		if (luaL_loadbuffer(L, (const char *)m->code, m->size, name))
			return lua_error(L);
		return 1;
	}
	lua_pushfstring(L, "\n\tno module '%s' in the embedded lnst library", name);
	return 1;
}

static void install_searcher(lua_State *L, int dev)
{
	lua_getglobal(L, "package");
	if (dev) {
		const char *p = getenv("LNST_LUA_PATH");
		lua_getfield(L, -1, "path");
		lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", p, p, lua_tostring(L, -1));
		lua_setfield(L, -3, "path");
		lua_pop(L, 1);
	}
	lua_getfield(L, -1, "loaders");
	int n = (int)lua_objlen(L, -1);
	/* Development: after the file searchers; installed: before them. */
	int pos = dev ? n + 1 : 2;
	for (int i = n; i >= pos; i--) {
		lua_rawgeti(L, -1, i);
		lua_rawseti(L, -2, i + 1);
	}
	lua_pushcfunction(L, embedded_searcher);
	lua_rawseti(L, -2, pos);
	lua_pop(L, 1);
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, luaopen_lnst_core);
	lua_setfield(L, -2, "lnst.core");
	lua_pushcfunction(L, luaopen_lnst_podman_core);
	lua_setfield(L, -2, "lnst.podman_core");
	lua_pushcfunction(L, luaopen_lnst_vm_core);
	lua_setfield(L, -2, "lnst.vm_core");
	lua_pop(L, 2);
}

lua_State *lua_env_new(void)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return NULL;
	luaL_openlibs(L);
	const char *dev = getenv("LNST_LUA_PATH");
	install_searcher(L, dev && *dev);
	return L;
}

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	lua_getglobal(L, "debug");
	lua_getfield(L, -1, "traceback");
	lua_pushstring(L, msg);
	lua_pushinteger(L, 2);
	lua_call(L, 2, 1);
	return 1;
}

int lua_env_pcall(lua_State *L, int nargs, int nresults)
{
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	int r = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	return r;
}

int lua_env_call_main(lua_State *L, const char *module, const char *fn)
{
	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "lnst: %s\n", lua_tostring(L, -1));
		lua_pop(L, 2);
		return 2;
	}
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	lua_insert(L, -2);
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "lnst: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return 2;
	}
	int code = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) : 0;
	lua_pop(L, 1);
	return code;
}
