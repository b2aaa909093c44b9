/* repl.h - the interactive read-eval-print loop. */
#ifndef LNST_REPL_H
#define LNST_REPL_H

#include <lua.h>

/* Runs until end of input or :quit; returns the exit code. Input is read
 * through the controller's event loop, so agents' events keep flowing. */
int repl_run(lua_State *L);

#endif
