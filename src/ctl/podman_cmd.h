/* podman_cmd.h - `lnst image ...` and `lnst cleanup ...` (podman_cmd.c). */
#ifndef LNST_PODMAN_CMD_H
#define LNST_PODMAN_CMD_H

#include <lua.h>

/* argv[0] is "image" or "cleanup"; returns the exit code. */
int podman_cmd_main(lua_State *L, int argc, char **argv);

#endif
