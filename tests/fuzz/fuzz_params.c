/* fuzz_params.c - fuzz target: recipe parameters, from the command line and
 * from RECIPE_PARAMS, into the Lua parameter checking.
 *
 * The controller's own Lua state (lua_env_new: the embedded lnst library
 * and lnst.core) runs tests/fuzz/fuzz_params.lua on each input: the bytes
 * as -p arguments (split at NUL bytes) through lnst.cli.given_params, and
 * as RECIPE_PARAMS (up to the first NUL) through core.assignments, both
 * then resolved by lnst.param against parameters of every kind. The only
 * acceptable outcomes are resolved values or a structured parameter error;
 * anything else the script reports, any Lua error that escapes it, a crash
 * or a hang (libFuzzer -timeout) aborts.
 *
 * libFuzzer sees no branch of Lua code: a line hook (the JIT off, so that it
 * fires everywhere) counts the Lua lines run into libFuzzer's extra
 * counters, so inputs that reach new lines of lnst.param, lnst.cli or the
 * harness count as new coverage. Built as a libFuzzer target
 * (scripts/fuzz.sh) and as a replay binary for ctest.
 */
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lua_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_SLOTS 8192
/* libFuzzer reads this section as coverage; the replay binary ignores it. */
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t lua_lines[LINE_SLOTS];

static lua_State *L;
static int run_ref = LUA_NOREF;

static void line_hook(lua_State *S, lua_Debug *ar)
{
	if (!lua_getinfo(S, "S", ar))
		return;
	/* source strings are interned: their address names the chunk */
	uintptr_t h = (uintptr_t)ar->source * 31u + (uintptr_t)ar->currentline * 2654435761u;
	uint8_t *c = &lua_lines[(h >> 4) % LINE_SLOTS];
	if (*c < 255)
		(*c)++;
}

static void cleanup(void)
{
	lua_close(L);
}

static void setup(void)
{
	L = lua_env_new();
	if (!L)
		abort();
	luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
	if (luaL_loadfile(L, FUZZ_PARAMS_LUA) || lua_env_pcall(L, 0, 1)) {
		fprintf(stderr, "fuzz_params: %s\n", lua_tostring(L, -1));
		abort();
	}
	if (!lua_isfunction(L, -1)) {
		fprintf(stderr, "fuzz_params: %s returned no function\n", FUZZ_PARAMS_LUA);
		abort();
	}
	run_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_sethook(L, line_hook, LUA_MASKLINE, 0);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!L)
		setup();
	lua_rawgeti(L, LUA_REGISTRYINDEX, run_ref);
	lua_pushlstring(L, (const char *)data, size);
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "fuzz_params: a Lua error that is not a parameter error:\n%s\n", lua_tostring(L, -1));
		abort();
	}
	if (!lua_isnil(L, -1)) {
		fprintf(stderr, "fuzz_params: %s\n", lua_tostring(L, -1));
		abort();
	}
	lua_settop(L, 0);
	return 0;
}
