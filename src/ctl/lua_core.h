/* lua_core.h - the `lnst.core` Lua module: the controller engine as seen
 * from Lua (agent connections, local hosts, the fabric, the event loop,
 * signals, JSON and literal parsing). */
#ifndef LNST_LUA_CORE_H
#define LNST_LUA_CORE_H

#include <lua.h>

#include "loop.h"

int luaopen_lnst_core(lua_State *L);
/* The controller's one event loop (created by luaopen_lnst_core). */
struct loop *core_loop(void);
/* Installs SIGINT/SIGTERM/SIGHUP handlers that interrupt waits and Lua code. */
void core_signals_install(lua_State *L);
/* Forgets a handled interrupt (the REPL's Ctrl-C is not the run's). */
void core_interrupt_clear(lua_State *L);

#endif
