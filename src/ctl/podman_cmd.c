/* podman_cmd.c - the container commands of the lnst command line:
 *   lnst image build [options]   build the agent/controller images offline
 *   lnst cleanup [options]       remove what crashed runs left behind
 * Options are parsed here (getopt_long) and handed to lua/lnst/podman_cli.lua
 * as a table, like main.c does for lnst run.
 */
#include "podman_cmd.h"

#include <getopt.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua_env.h"

static void usage_image(FILE *f)
{
	fprintf(f,
		"usage: lnst image build [options]\n"
		"\n"
		"Builds the container images offline, without a registry: the root file system\n"
		"is assembled from this machine's lnst-agent, lnst, test tools (ip, ping, iperf3,\n"
		"tcpdump, ethtool, nft, tc, sh...) and the libraries ldd lists for them, then\n"
		"imported through the Podman service. Without --agent or --controller, both.\n"
		"\n"
		"  --agent              the agent image (default name %s)\n"
		"  --controller         the controller image (default name %s)\n"
		"  --name NAME          the image's name (with --agent or --controller)\n"
		"  --podman-uri URI     the Podman service (default %s)\n"
		"  --source DIR         the lnst source tree (recipes, container_files)\n"
		"  --work-dir DIR       where to assemble (default $TMPDIR or /var/tmp)\n"
		"  --keep               keep the assembled root file system and tarball\n"
		"  -h, --help           this text\n",
		"localhost/lnst-agent:latest", "localhost/lnst-controller:latest", "unix:///run/podman/podman.sock");
}

static void usage_cleanup(FILE *f)
{
	fprintf(f,
		"usage: lnst cleanup [options]\n"
		"\n"
		"Removes what runs of the podman provisioner left behind when they could not\n"
		"clean up (controller killed, machine rebooted): containers and networks\n"
		"labelled lnst.run, CNI conflists and bridges named lnst-<run>-..., and run\n"
		"directories in /run/lnst-podman; and guests of the vm provisioner (qemu\n"
		"processes listed in /run/lnst/vm) whose controller is gone. Runs that are\n"
		"still alive are left alone.\n"
		"\n"
		"  --podman-uri URI     the Podman service (default %s)\n"
		"  --all                also runs of other controller machines (shared services)\n"
		"                       and of other run roots (LNST_PODMAN_RUN_DIR)\n"
		"  -n, --dry-run        only list what would be removed\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit codes: 0 done, 2 something could not be removed or listed.\n",
		"unix:///run/podman/podman.sock");
}

static int cmd_image(lua_State *L, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent", no_argument, NULL, 'a' },        { "controller", no_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'N' },   { "podman-uri", required_argument, NULL, 'u' },
		{ "source", required_argument, NULL, 's' }, { "work-dir", required_argument, NULL, 'w' },
		{ "keep", no_argument, NULL, 'k' },         { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	if (argc < 2 || strcmp(argv[1], "build") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			usage_image(stdout);
			return 0;
		}
		fprintf(stderr, "lnst image: %s\n", argc < 2 ? "which command? (lnst image build)" : "unknown command");
		usage_image(stderr);
		return 2;
	}
	lua_newtable(L);
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 'a': key = "agent"; break;
		case 'c': key = "controller"; break;
		case 'k': key = "keep"; break;
		case 'N': lua_pushstring(L, optarg); lua_setfield(L, -2, "name"); continue;
		case 'u': lua_pushstring(L, optarg); lua_setfield(L, -2, "podman_uri"); continue;
		case 's': lua_pushstring(L, optarg); lua_setfield(L, -2, "source"); continue;
		case 'w': lua_pushstring(L, optarg); lua_setfield(L, -2, "work_dir"); continue;
		case 'h': usage_image(stdout); lua_pop(L, 1); return 0;
		default: usage_image(stderr); lua_pop(L, 1); return 2;
		}
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, key);
	}
	if (optind < argc - 1) {
		fprintf(stderr, "lnst image build: unexpected argument '%s'\n", argv[optind + 1]);
		lua_pop(L, 1);
		return 2;
	}
	return lua_env_call_main(L, "lnst.podman_cli", "image_build");
}

static int cmd_cleanup(lua_State *L, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "podman-uri", required_argument, NULL, 'u' }, { "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	lua_newtable(L);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		switch (c) {
		case 'u': lua_pushstring(L, optarg); lua_setfield(L, -2, "podman_uri"); break;
		case 'a': lua_pushboolean(L, 1); lua_setfield(L, -2, "all"); break;
		case 'n': lua_pushboolean(L, 1); lua_setfield(L, -2, "dry_run"); break;
		case 'h': usage_cleanup(stdout); lua_pop(L, 1); return 0;
		default: usage_cleanup(stderr); lua_pop(L, 1); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lnst cleanup: unexpected argument '%s'\n", argv[optind]);
		lua_pop(L, 1);
		return 2;
	}
	return lua_env_call_main(L, "lnst.podman_cli", "cleanup");
}

int podman_cmd_main(lua_State *L, int argc, char **argv)
{
	if (strcmp(argv[0], "image") == 0)
		return cmd_image(L, argc, argv);
	return cmd_cleanup(L, argc, argv);
}
