/* lua_podman.h - the `lnst.podman_core` Lua module: the Podman REST client,
 * CNI conflists and CNI bridges (see lua_podman.c). */
#ifndef LNST_LUA_PODMAN_H
#define LNST_LUA_PODMAN_H

#include <lua.h>

int luaopen_lnst_podman_core(lua_State *L);

#endif
