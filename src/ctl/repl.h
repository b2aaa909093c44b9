/* repl.h - the interactive read-eval-print loop. */
#ifndef LNST_REPL_H
#define LNST_REPL_H

#include <lua.h>

/* Runs the top-level REPL until end of input or :quit; returns the exit
 * code. Input is read through the controller's event loop, so agents'
 * events keep flowing. */
int repl_run(lua_State *L);
/* One REPL session (they nest: a paused run opens one inside a command of
 * another). Returns what ended it: "eof", "quit", "continue" or "abort". */
const char *repl_session(lua_State *L, const char *prompt);

#endif
