/* lua_vm.h - the `lnst.vm_core` Lua module: qemu guests, their channel
 * multiplexer, kernel images and the guest registry, for the VM provisioner
 * (lua/lnst/vm.lua; docs/vm.md). */
#ifndef LNST_LUA_VM_H
#define LNST_LUA_VM_H

#include <lua.h>

int luaopen_lnst_vm_core(lua_State *L);

#endif
