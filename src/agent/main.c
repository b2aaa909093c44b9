/* main.c - lnst-agent: the root daemon that owns a test host's kernel state.
 *
 * It serves one controller over a stream socket (an inherited socketpair for
 * local hosts), dispatches requests through dispatch.c, and pushes device,
 * job and log events. When the run ends, or the controller goes away for any
 * reason, it kills its jobs and replays the undo log so the host is left as
 * it was found. With --netns-host it is the first process of a fresh host
 * (network, mount and PID namespaces made by the controller): it mounts its
 * own /proc and /sys so tools inside see this host only.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent.h"
#include "ethtool.h"
#include "link.h"
#include "listen.h"
#include "log.h"
#include "netns.h"
#include "route.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lnst-agent --fd N [--name NAME] [--netns-host] [-d]\n"
		"       lnst-agent --listen ADDR[:PORT]|unix:/PATH [--config FILE] [--insecure] [--once]\n"
		"                  [--log-file FILE] [-d]\n"
		"       lnst-agent keygen --help\n"
		"\n"
		"Serves one lnst controller over an inherited stream socket, or (--listen)\n"
		"controllers over TCP, one at a time, authenticated with TLS (docs/remote.md).\n"
		"\n"
		"  --fd N         the connected socket to serve (inherited from the controller)\n"
		"  --name NAME    the host's name in the recipe (used in logs and hello)\n"
		"  --netns-host   this process is the first one of a fresh local host: mount a\n"
		"                 private /proc and /sys and bring lo up\n"
		"  --max-frame N  largest frame accepted, in bytes (default %u)\n"
		"  --netns-worker NAME  serve namespace NAME for the agent that started this one\n"
		"  --listen ADDR[:PORT]  serve controllers over TCP (default port 9999)\n"
		"  --listen unix:/PATH   serve them on a Unix socket (mode 0600; container hosts)\n"
		"  --config FILE  agent config (default /etc/lnst/lnst-agent.conf if it exists)\n"
		"  --insecure     allow security none on a non-loopback address\n"
		"  --once         serve one controller, then stop\n"
		"  --log-file F   log to F instead of stderr\n"
		"  -d, --debug    debug logging\n"
		"  -h, --help     this text\n"
		"  -V, --version  print the version\n",
		FRAME_MAX_DEFAULT);
}

static void on_dev_event(const char *name, cJSON *ev, void *ud)
{
	netns_fix_event(ud, name, ev);
	agent_emit(ud, name, ev);
}

static void on_log(enum log_level lvl, const char *text, void *ud)
{
	struct agent *a = ud;
	if (!a->connected || a->conn.closed) {
		fprintf(stderr, "lnst-agent[%s]: %s: %s\n", a->name ? a->name : "", log_level_name(lvl), text);
		return;
	}
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "level", log_level_name(lvl));
	cJSON_AddStringToObject(f, "message", text);
	agent_emit(a, "log", f);
}

static void on_msg(struct conn *c, struct msg *m, void *ud)
{
	struct agent *a = ud;
	if (m->kind != MSG_REQUEST) {
		conn_close(c, "protocol error: the controller may only send requests");
		return;
	}
	dispatch_request(a, m);
}

static void on_close(struct conn *c, const char *reason, void *ud)
{
	(void)c;
	struct agent *a = ud;
	a->connected = 0;
	if (!a->quit)
		log_warn("controller connection closed: %s; cleaning up", reason);
	agent_end_run(a);
	a->quit = 1;
}

static void on_signal(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	struct agent *a = ud;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			jobs_reap(a->jobs);
		} else {
			log_info("signal %d: cleaning up and exiting", si.ssi_signo);
			agent_end_run(a);
			a->quit = 1;
			a->exit_code = 0;
		}
	}
}

/* Private /proc and /sys for a fresh local host (like `ip netns exec`). */
static int setup_host_mounts(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	umount2("/sys", MNT_DETACH);
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "netns-host", no_argument, NULL, 'N' },
		{ "netns-worker", required_argument, NULL, 'W' },
		{ "max-frame", required_argument, NULL, 'm' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "listen", required_argument, NULL, 'L' },
		{ "config", required_argument, NULL, 'c' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "once", no_argument, NULL, 'O' },
		{ "log-file", required_argument, NULL, 'l' },
		{ 0 },
	};
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return keygen_main(argc - 1, argv + 1);
	struct agent a = { 0 };
	struct listen_opts lopt = { 0 };
	struct listener *lst = NULL;
	int fd = -1, netns_host = 0, debug = 0, c;
	unsigned long max_frame = FRAME_MAX_DEFAULT;
	while ((c = getopt_long(argc, argv, "dhV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fd = atoi(optarg); break;
		case 'n': a.name = optarg; break;
		case 'N': netns_host = 1; break;
		case 'W': a.worker_ns = optarg; break;
		case 'm': max_frame = strtoul(optarg, NULL, 10); break;
		case 'd': debug = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("lnst-agent %s (protocol %d)\n", AGENT_VERSION, PROTO_VERSION); return 0;
		case 'L': lopt.listen = optarg; break;
		case 'c': lopt.config = optarg; break;
		case 'I': lopt.insecure = 1; break;
		case 'O': lopt.once = 1; break;
		case 'l': lopt.log_file = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	log_init("lnst-agent", debug ? LOG_DEBUG : LOG_INFO);
	netns_init_self();
	if (lopt.listen || lopt.config) {
		if (fd >= 0 || netns_host) {
			fprintf(stderr, "lnst-agent: --listen/--config do not go with --fd or --netns-host\n");
			return 2;
		}
		if (listen_open(&lst, &lopt))
			return 2;
	} else if (fd < 0) {
		fprintf(stderr, "lnst-agent: give --fd N (a local host) or --listen ADDR[:PORT] (a daemon)\n");
		usage(stderr);
		return 2;
	}
	a.netns_host = netns_host;
	if (a.worker_ns)
		prctl(PR_SET_NAME, "lnst-agent"); /* it runs as /proc/self/exe */
	if (netns_host) {
		prctl(PR_SET_NAME, "lnst-agent");
		int err = setup_host_mounts();
		if (err) {
			fprintf(stderr, "lnst-agent: cannot set up host mounts: %s\n", strerror(-err));
			return 1;
		}
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

	a.loop = loop_new();
	if (!a.loop || sfd < 0)
		return 1;
	loop_add(a.loop, sfd, EPOLLIN, on_signal, &a);
	/* First: it starts the probe of device kinds, which runs meanwhile. */
	int err = links_open(&a.links, &a);
	if (err) {
		fprintf(stderr, "lnst-agent: cannot open rtnetlink for devices: %s\n", strerror(-err));
		return 1;
	}
	if (jobs_new(&a.jobs, a.loop, on_dev_event, &a) || modules_new(&a.modules))
		return 1;
	err = devdb_open(&a.db, a.loop, on_dev_event, &a);
	if (err) {
		fprintf(stderr, "lnst-agent: cannot open rtnetlink: %s\n", strerror(-err));
		return 1;
	}
	devdb_set_undo(a.db, &a.undo);
	if (netns_host || a.worker_ns) {
		struct devdb_err e;
		int lo = devdb_find(a.db, "lo", NULL);
		if (lo > 0)
			devdb_set_up(a.db, lo, 1, 0, &e);
	}
	if (lst) {
		a.exit_code = listen_run(lst, &a);
		listen_free(lst);
	} else {
		if (conn_init(&a.conn, a.loop, fd, (uint32_t)max_frame, on_msg, on_close, &a)) {
			fprintf(stderr, "lnst-agent: fd %d is not a usable socket\n", fd);
			return 1;
		}
		conn_set_coalesce(&a.conn, 1); /* one write per read of requests */
		a.connected = 1;
		log_set_sink(on_log, &a);
		while (!a.quit) {
			int n = loop_run_once(a.loop, -1);
			if (n < 0 && n != -EINTR)
				break;
		}
		if (a.connected)
			conn_flush(&a.conn, 2000);
	}
	log_set_sink(NULL, NULL);
	netns_free(&a);
	route_free(a.route);
	ethtool_free(a.eth);
	links_close(a.links);
	conn_free(&a.conn);
	jobs_free(a.jobs);
	modules_free(a.modules);
	devdb_close(a.db);
	undo_free(&a.undo);
	loop_free(a.loop);
	close(sfd);
	return a.exit_code;
}
