/* listen.h - lnst-agent as a network daemon (--listen) and its keygen.
 *
 * listen_open reads the agent's configuration, checks that the address may
 * be served with the chosen security, loads the keys and binds, so every
 * configuration error is reported before the agent touches anything.
 * listen_run then serves controllers one at a time until a signal.
 */
#ifndef LNST_LISTEN_H
#define LNST_LISTEN_H

struct agent;
struct listener;

struct listen_opts {
	const char *listen;   /* ADDR[:PORT] or unix:/PATH, overrides the config's */
	const char *config;   /* agent config file, or NULL */
	const char *log_file; /* overrides the config's */
	int insecure;         /* allow security none on a non-loopback address */
	int once;             /* serve one controller, then stop (container hosts) */
};

#define LISTEN_PORT_DEFAULT 9999
#define LISTEN_CONFIG_DEFAULT "/etc/lnst/lnst-agent.conf"

/* 0, or -errno after printing what is wrong to stderr. */
int listen_open(struct listener **out, const struct listen_opts *o);
/* Serves until a signal ends the agent; returns the exit code. */
int listen_run(struct listener *l, struct agent *a);
void listen_free(struct listener *l);
/* The agent's name from its config ([agent] name), or NULL. */
const char *listen_name(const struct listener *l);

/* lnst-agent keygen ...: returns the exit code. */
int keygen_main(int argc, char **argv);

#endif
