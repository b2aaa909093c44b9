/* main.c - lnst: the controller's command line.
 *
 * Parses the command line with getopt_long and hands a table of options to
 * the Lua side (lua/lnst/cli.lua), which does the work. Commands:
 *   lnst run RECIPE.lua [-p NAME=VALUE]...   run a recipe
 *   lnst SCRIPT.lua [ARGS...]                run a Lua script
 *   lnst -i SCRIPT.lua                       run it, then open the REPL
 *   lnst                                     open the REPL
 *   lnst pool list|check [--pool DIR]...     machine pools and their agents
 *   lnst report RUN.json [--format F]...     render a saved run again
 *   lnst list recipes [PATH]...              recipes, their parameters and needs
 *   lnst image build | lnst cleanup          container images, leftovers (podman_cmd.c)
 * Exit codes: 0 passed, 1 a check failed, 2 an error stopped the run.
 */
#include <getopt.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "lua_core.h"
#include "lua_env.h"
#include "podman_cmd.h"
#include "repl.h"

#define LNST_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lnst [-d] [-i] [SCRIPT.lua [ARGS...]]\n"
		"       lnst run [options] RECIPE.lua\n"
		"       lnst repl [options] RECIPE.lua\n"
		"       lnst pool list|check [--pool DIR|NAME]... [--config FILE]\n"
		"       lnst report RUN.json [--format human|json|junit[:FILE]]...\n"
		"       lnst list recipes [FILE.lua|DIR]...   (default: recipes/ and recipes/enrt/)\n"
		"       lnst image build [--agent|--controller] | lnst cleanup [--dry-run]\n"
		"       lnst help | --help | --version\n"
		"\n"
		"Network test runner: recipes in Lua, hosts in namespaces, containers or machines.\n"
		"\n"
		"  lnst run RECIPE.lua      run a recipe on fresh local hosts (see lnst run --help)\n"
		"  lnst repl RECIPE.lua     provision a recipe's hosts and open the REPL on them\n"
		"  lnst pool list|check     show machine pools, check their agents (lnst pool --help)\n"
		"  lnst report RUN.json     render a run saved with lnst run --save (lnst report --help)\n"
		"  lnst image build         build the agent and controller images offline (Podman)\n"
		"  lnst cleanup             remove containers, networks, bridges of crashed runs\n"
		"  lnst SCRIPT.lua ARGS     run a Lua script (it may build a controller itself)\n"
		"  lnst -i SCRIPT.lua       run the script, then open the REPL with its globals\n"
		"  lnst                     open the REPL\n"
		"\n"
		"  -i, --interactive        open the REPL after the script\n"
		"  -d, --debug              debug logging (agents' logs included)\n"
		"  -h, --help               this text\n"
		"  -V, --version            print the version\n"
		"\n"
		"Exit codes: 0 all passed, 1 a check failed, 2 an error stopped the run.\n"
		"Environment: LNST_LUA_PATH (use Lua sources from this directory), LNST_AGENT\n"
		"(the lnst-agent binary), NO_COLOR.\n");
}

static void usage_run(FILE *f)
{
	fprintf(f,
		"usage: lnst run [options] RECIPE.lua\n"
		"\n"
		"Runs a recipe: provisions its hosts (by default each host is a fresh network\n"
		"namespace with its own agent, each network a bridge), runs its test, tears\n"
		"everything down and prints a summary.\n"
		"\n"
		"  -p, --param NAME=VALUE   set a recipe parameter; VALUE is a literal: 5, 1.5,\n"
		"                           true, 'text', bare-word, [1,2], {'k': 'v'}\n"
		"  -l, --level N            summary detail: 1 important (default), 2 normal, 3 debug\n"
		"      --no-colour          no colours in the summary (also NO_COLOR=1)\n"
		"      --pause-on-fail      at the first FAIL or error, open the REPL on the live\n"
		"                           hosts (:continue resumes, :abort tears down)\n"
		"  -d, --debug              debug logging (agents' logs included)\n"
		"      --pool DIR|NAME      run on machines of this pool (repeatable; a NAME from\n"
		"                           [pools] in lnst.conf): agents over TCP+TLS, mapped\n"
		"                           by the pool files (docs/remote.md)\n"
		"      --multimatch         run the recipe once on every match in the pools\n"
		"      --config FILE        controller config (default /etc/lnst/lnst.conf and\n"
		"                           ~/.lnst/lnst.conf): pools by name, keys, timeouts\n"
		"  -f, --format F[:FILE]    output format human, json, junit or baseline\n"
		"                           (repeatable), to stdout or FILE; default human (also\n"
		"                           FORMATTERS=json,...)\n"
		"      --save FILE          save the run (results and data) for lnst report\n"
		"      --timeout S          seconds an agent may leave a request unanswered (or a\n"
		"                           ping while a job runs) before its host counts as dead\n"
		"                           (default 10; docs/faults.md)\n"
		"      --podman             every host a Podman container (docs/containers.md)\n"
		"      --podman-uri URI     the Podman service: unix:///PATH (default\n"
		"                           unix:///run/podman/podman.sock) or tcp://HOST:PORT\n"
		"      --image NAME         the agent image (default localhost/lnst-agent:latest)\n"
		"      --network-backend B  cni, netavark, netlink or auto (default: the service's)\n"
		"      --podman-timeout S   seconds for a container host to answer (default 30)\n"
		"      --vm                 every host a namespace host in one qemu guest running\n"
		"                           the kernel under test (docs/vm.md)\n"
		"      --kernel PATH|auto   its kernel: a bzImage, a vmlinux or a build tree, or\n"
		"                           auto, Debian's current stock kernel (the default)\n"
		"      --modules DIR        the kernel's module tree (lib/modules/RELEASE or above)\n"
		"      --vm-memory MIB      guest memory (default 512); --vm-smp N: CPUs (default 2)\n"
		"      --vm-accel A         auto (KVM when it works, else TCG), kvm or tcg\n"
		"      --vm-dir DIR         where the guest's run directory (console log) goes\n"
		"      --vm-append ARGS     more kernel command line parameters\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit codes: 0 all passed, 1 a check failed, 2 an error stopped the run.\n");
}

static void usage_report(FILE *f)
{
	fprintf(f,
		"usage: lnst report [options] RUN.json\n"
		"\n"
		"Renders a run saved with `lnst run --save RUN.json` (docs/results.md).\n"
		"\n"
		"  -f, --format F[:FILE]    human (default), json, junit or baseline (a baseline\n"
		"                           file of the run's measurements); repeatable; to stdout\n"
		"                           or FILE\n"
		"  -l, --level N            human detail: 1 important (default), 2 normal, 3 debug\n"
		"      --no-colour          no colours (also NO_COLOR=1)\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit code: the saved run's (0 passed, 1 a check failed, 2 an error stopped it);\n"
		"2 when the file cannot be read or an output cannot be written.\n");
}

static int parse_level(const char *cmd, const char *arg, long *out)
{
	char *end;
	*out = strtol(arg, &end, 10);
	if (*end || *out < 1 || *out > 3) {
		fprintf(stderr, "lnst %s: --level must be 1, 2 or 3, not '%s'\n", cmd, arg);
		return -1;
	}
	return 0;
}


static void usage_pool(FILE *f)
{
	fprintf(f,
		"usage: lnst pool list [--pool DIR|NAME]... [--config FILE] [--timeout S]\n"
		"       lnst pool check [--pool DIR|NAME]... [--config FILE] [--timeout S]\n"
		"\n"
		"  list    the machines of the pools (every pool in the config without --pool),\n"
		"          their NICs and labels, and whether each agent's port answers\n"
		"  check   connect to every agent with its security, run hello, report its\n"
		"          version, kernel and tools, and whether each listed NIC exists there\n"
		"          with its MAC; exit 1 when a machine is not usable\n"
		"\n"
		"  --pool DIR|NAME   a pool directory or a pool name from the config (repeatable)\n"
		"  --config FILE     controller config (default /etc/lnst/lnst.conf, ~/.lnst/lnst.conf)\n"
		"  --timeout S       per-agent timeout in seconds (default 3 for list, 10 for check)\n"
		"  -h, --help        this text\n");
}

/* Appends value to the list field `name` of the table at index t. */
static void append_field(lua_State *L, int t, const char *name, const char *value)
{
	lua_getfield(L, t, name);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, t, name);
	}
	lua_pushstring(L, value);
	lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
	lua_pop(L, 1);
}

/* lnst pool list|check: handed to lnst.cli.pool. */
static int cmd_pool(lua_State *L, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	lua_newtable(L);
	int t = lua_gettop(L), c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': append_field(L, t, "pools", optarg); break;
		case 'c':
			lua_pushstring(L, optarg);
			lua_setfield(L, t, "config");
			break;
		case 't': {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || v <= 0) {
				fprintf(stderr, "lnst pool: --timeout must be a positive number of seconds, not '%s'\n", optarg);
				return 2;
			}
			lua_pushnumber(L, v);
			lua_setfield(L, t, "timeout");
			break;
		}
		case 'h': usage_pool(stdout); return 0;
		default: usage_pool(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "list") && strcmp(argv[optind], "check"))) {
		fprintf(stderr, "lnst pool: say list or check\n");
		usage_pool(stderr);
		return 2;
	}
	lua_pushstring(L, argv[optind]);
	lua_setfield(L, t, "command");
	return lua_env_call_main(L, "lnst.cli", "pool");
}

/* Pushes argv[from..argc-1] as a Lua array. */
static void push_args(lua_State *L, int argc, char **argv, int from)
{
	lua_createtable(L, argc - from, 0);
	for (int i = from; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - from + 1);
	}
}

static void usage_repl(FILE *f)
{
	fprintf(f,
		"usage: lnst repl [options] RECIPE.lua\n"
		"\n"
		"Provisions the recipe's hosts and opens the REPL with r, hosts, params and\n"
		"recipe in scope, without running the test body; r:test() runs it. Everything\n"
		"is torn down when the REPL ends (Ctrl-D, :quit, SIGTERM).\n"
		"\n"
		"  -p, --param NAME=VALUE   set a recipe parameter (see lnst run --help)\n"
		"  -l, --level N            summary detail at the end: 1, 2 or 3\n"
		"      --pause-on-fail      r:test() pauses at its first FAIL or error (a\n"
		"                           nested REPL: :continue resumes, :abort ends it)\n"
		"  -d, --debug              debug logging\n"
		"      --no-colour          no colours in the summary (also NO_COLOR=1)\n"
		"  -h, --help               this text\n"
		"\n"
		"The hosts come from any provisioner, with the options of lnst run --help:\n"
		"--podman (and its --podman-uri, --image, ...), --vm (--kernel, ...), --pool,\n"
		"--config, --timeout.\n"
		"\n"
		"Exit codes (the run's): 0 passed, 1 a FAIL was recorded, 2 an error or a\n"
		"signal ended it.\n");
}

/* lnst report RUN.json: handed to lnst.cli.report. */
static int cmd_report(lua_State *L, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "level", required_argument, NULL, 'l' },
		{ "no-colour", no_argument, NULL, 'C' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	lua_newtable(L);
	int t = lua_gettop(L), c;
	long lvl;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': append_field(L, t, "formats", optarg); break;
		case 'l':
			if (parse_level("report", optarg, &lvl))
				return 2;
			lua_pushinteger(L, lvl);
			lua_setfield(L, t, "level");
			break;
		case 'C':
			lua_pushboolean(L, 1);
			lua_setfield(L, t, "no_colour");
			break;
		case 'h': usage_report(stdout); return 0;
		default: usage_report(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "lnst report: %s\n", optind >= argc ? "which run file? (lnst report RUN.json)"
								   : "one run file at a time");
		usage_report(stderr);
		return 2;
	}
	lua_pushstring(L, argv[optind]);
	lua_setfield(L, t, "file");
	return lua_env_call_main(L, "lnst.cli", "report");
}

/* lnst run and lnst repl: the same options, handed to lnst.cli.<fn>. */
static int cmd_run(lua_State *L, int argc, char **argv, const char *fn)
{
	void (*help)(FILE *) = strcmp(fn, "repl") == 0 ? usage_repl : usage_run;
	static const struct option opts[] = {
		{ "param", required_argument, NULL, 'p' },
		{ "level", required_argument, NULL, 'l' },
		{ "no-colour", no_argument, NULL, 'C' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "pause-on-fail", no_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "pool", required_argument, NULL, 'O' },
		{ "multimatch", no_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "save", required_argument, NULL, 'S' },
		{ "podman", no_argument, NULL, 0x100 },
		{ "podman-uri", required_argument, NULL, 0x101 },
		{ "image", required_argument, NULL, 0x102 },
		{ "network-backend", required_argument, NULL, 0x103 },
		{ "podman-timeout", required_argument, NULL, 0x104 },
		{ "vm", no_argument, NULL, 0x200 },
		{ "kernel", required_argument, NULL, 0x201 },
		{ "modules", required_argument, NULL, 0x202 },
		{ "vm-memory", required_argument, NULL, 0x203 },
		{ "vm-smp", required_argument, NULL, 0x204 },
		{ "vm-accel", required_argument, NULL, 0x205 },
		{ "vm-dir", required_argument, NULL, 0x206 },
		{ "vm-append", required_argument, NULL, 0x207 },
		{ "timeout", required_argument, NULL, 0x300 },
		{ 0 },
	};
	lua_newtable(L);
	int t = lua_gettop(L);
	lua_newtable(L); /* params */
	int np = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:l:f:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			lua_pushstring(L, optarg);
			lua_rawseti(L, -2, ++np);
			break;
		case 'l': {
			char *end;
			long lvl = strtol(optarg, &end, 10);
			if (*end || lvl < 1 || lvl > 3) {
				fprintf(stderr, "lnst run: --level must be 1, 2 or 3, not '%s'\n", optarg);
				return 2;
			}
			lua_pushinteger(L, lvl);
			lua_setfield(L, -3, "level");
			break;
		}
		case 'C':
			lua_pushboolean(L, 1);
			lua_setfield(L, -3, "no_colour");
			break;
		case 'P':
			lua_pushboolean(L, 1);
			lua_setfield(L, -3, "pause_on_fail");
			break;
		case 'd':
			lua_pushboolean(L, 1);
			lua_setfield(L, -3, "debug");
			break;
		case 'O':
			append_field(L, t, "pools", optarg);
			break;
		case 'M':
			lua_pushboolean(L, 1);
			lua_setfield(L, t, "multimatch");
			break;
		case 'c':
			lua_pushstring(L, optarg);
			lua_setfield(L, t, "config");
			break;
		case 'f':
			append_field(L, t, "formats", optarg);
			break;
		case 'S':
			lua_pushstring(L, optarg);
			lua_setfield(L, t, "save");
			break;
		case 0x100: /* podman provisioner options: handed over as strings */
		case 0x101:
		case 0x102:
		case 0x103:
		case 0x104: {
			static const char *const keys[] = { "podman", "podman_uri", "image", "network_backend",
							    "podman_timeout" };
			if (c == 0x100)
				lua_pushboolean(L, 1);
			else
				lua_pushstring(L, optarg);
			lua_setfield(L, t, keys[c - 0x100]);
			break;
		}
		case 0x200: /* vm provisioner options: handed over as strings */
		case 0x201:
		case 0x202:
		case 0x203:
		case 0x204:
		case 0x205:
		case 0x206:
		case 0x207: {
			static const char *const keys[] = { "vm", "kernel", "modules", "vm_memory", "vm_smp",
							    "vm_accel", "vm_dir", "vm_append" };
			if (c == 0x200)
				lua_pushboolean(L, 1);
			else
				lua_pushstring(L, optarg);
			lua_setfield(L, t, keys[c - 0x200]);
			break;
		}
		case 0x300: { /* request timeout (s), every provisioner */
			char *end;
			double s = strtod(optarg, &end);
			if (end == optarg || *end || !(s > 0)) {
				fprintf(stderr, "lnst %s: --timeout must be a positive number of seconds, not '%s'\n",
					fn, optarg);
				return 2;
			}
			lua_pushnumber(L, s);
			lua_setfield(L, t, "timeout");
			break;
		}
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 2;
		}
	}
	lua_setfield(L, -2, "params");
	if (optind != argc - 1) {
		fprintf(stderr, "lnst %s: %s\n", fn,
			optind >= argc ? "which recipe? (lnst run RECIPE.lua)" : "one recipe at a time");
		help(stderr);
		return 2;
	}
	lua_pushstring(L, argv[optind]);
	lua_setfield(L, -2, "recipe");
	return lua_env_call_main(L, "lnst.cli", fn);
}

int main(int argc, char **argv)
{
	log_init("lnst", LOG_WARN);
	lua_State *L = lua_env_new();
	if (!L) {
		fprintf(stderr, "lnst: cannot create a Lua state\n");
		return 2;
	}
	core_signals_install(L);
	int code;
	if (argc > 1 && (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "repl") == 0)) {
		code = cmd_run(L, argc - 1, argv + 1, argv[1]);
		lua_close(L);
		return code;
	}
	if (argc > 1 && strcmp(argv[1], "report") == 0) {
		code = cmd_report(L, argc - 1, argv + 1);
		lua_close(L);
		return code;
	}
	if (argc > 1 && strcmp(argv[1], "pool") == 0) {
		code = cmd_pool(L, argc - 1, argv + 1);
		lua_close(L);
		return code;
	}
	if (argc > 1 && (strcmp(argv[1], "image") == 0 || strcmp(argv[1], "cleanup") == 0)) {
		code = podman_cmd_main(L, argc - 1, argv + 1);
		lua_close(L);
		return code;
	}
	if (argc > 1 && strcmp(argv[1], "list") == 0) { /* lnst list recipes [PATH]...: lnst.cli.list */
		int help = 0;
		for (int i = 2; i < argc; i++)
			help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
		if (help || argc < 3 || strcmp(argv[2], "recipes")) {
			fprintf(help ? stdout : stderr,
				"usage: lnst list recipes [FILE.lua|DIR]...\n"
				"\n"
				"Lists recipes: name, file, description, parameters (type, default, doc)\n"
				"and what they need (kinds, tools...). Without paths: recipes/ and\n"
				"recipes/enrt/. Exit 2 when a recipe does not load.\n");
			lua_close(L);
			return help ? 0 : 2;
		}
		lua_newtable(L);
		push_args(L, argc, argv, 3);
		lua_setfield(L, -2, "paths");
		code = lua_env_call_main(L, "lnst.cli", "list");
		lua_close(L);
		return code;
	}
	if (argc > 1 && strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int interactive = 0, debug = 0, c;
	while ((c = getopt_long(argc, argv, "+idhV", opts, NULL)) != -1) {
		switch (c) {
		case 'i': interactive = 1; break;
		case 'd': debug = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("lnst %s\n", LNST_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	lua_newtable(L);
	lua_pushboolean(L, debug);
	lua_setfield(L, -2, "debug");
	lua_pushboolean(L, interactive);
	lua_setfield(L, -2, "interactive");
	if (optind < argc) {
		lua_pushstring(L, argv[optind]);
		lua_setfield(L, -2, "script");
		push_args(L, argc, argv, optind + 1);
		lua_setfield(L, -2, "args");
		code = lua_env_call_main(L, "lnst.cli", "script");
		if (interactive)
			code = repl_run(L);
	} else {
		lua_pop(L, 1);
		code = repl_run(L);
	}
	lua_close(L);
	return code;
}
