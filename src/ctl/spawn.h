/* spawn.h - starting a local agent as the first process of a fresh host.
 *
 * The agent is cloned into new network, mount and PID namespaces and talks
 * over an inherited socketpair. The kernel owns every lifetime: the agent gets
 * SIGKILL when the controller dies (PR_SET_PDEATHSIG), everything the host
 * runs dies with the agent (it is PID 1 of its PID namespace), and the
 * namespace with all its links goes when its last process does. No file in
 * /run/netns is involved, so nothing can be left behind.
 */
#ifndef LNST_SPAWN_H
#define LNST_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* The lnst-agent binary: $LNST_AGENT, else next to this executable, else PATH. */
const char *spawn_agent_path(void);
/* 0 with *pid and *fd (controller's socket end), or -errno with err set;
 * waits until the agent has been exec'ed (or failed to be). */
int spawn_local_agent(const char *name, int debug, pid_t *pid, int *fd, char *err, size_t errlen);
/* The same without waiting for the exec, so many hosts start at once:
 * *exec_fd tells later (spawn_exec_error) whether the exec failed. */
int spawn_local_agent_async(const char *name, int debug, pid_t *pid, int *fd, int *exec_fd, char *err,
			    size_t errlen);
/* After the agent's connection broke: -errno with err set when its exec had
 * failed, 0 when it had run. Reads (and blocks on) exec_fd. */
int spawn_exec_error(int exec_fd, const char *name, char *err, size_t errlen);
/* Waits up to timeout_ms for pid to exit; SIGKILLs it after that. Returns
 * the wait status, or -errno. */
int spawn_reap(pid_t pid, int timeout_ms);

#endif
