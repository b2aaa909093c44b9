/* lua_remote.h - remote agents in `lnst.core`: pools, config files, keys,
 * and the options of core.connect_agent (see remote.h). */
#ifndef LNST_LUA_REMOTE_H
#define LNST_LUA_REMOTE_H

#include <lua.h>

#include "remote.h"

/* Adds pool_load, config_load, key_fingerprint and PROTOCOL to the table
 * on top of the stack. */
void lremote_register(lua_State *L);
/* Reads the options table at idx ({ name, host, port, security, psk_file,
 * cert, key, trust, timeout }) and opens the connection; raises a Lua error
 * naming the agent when the options or keys are wrong. */
int lremote_open(lua_State *L, int idx, struct remote **out, struct agentconn *ac, struct loop *loop,
		 agentconn_event_cb cb, void *ud);

#endif
