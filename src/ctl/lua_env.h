/* lua_env.h - the controller's Lua state: standard libraries, the embedded
 * `lnst` library (or LNST_LUA_PATH for development), `lnst.core`, and calls
 * with tracebacks. */
#ifndef LNST_LUA_ENV_H
#define LNST_LUA_ENV_H

#include <lua.h>

lua_State *lua_env_new(void);
/* lua_pcall with a traceback handler; on error the message (with traceback)
 * is left on the stack. */
int lua_env_pcall(lua_State *L, int nargs, int nresults);
/* Calls require(module)[fn](table at top) and returns its integer result;
 * prints errors and returns 2 on failure. Pops the argument. */
int lua_env_call_main(lua_State *L, const char *module, const char *fn);

#endif
