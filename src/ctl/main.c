/* main.c - lnst: the controller's command line.
 *
 * Parses the command line with getopt_long and hands a table of options to
 * the Lua side (lua/lnst/cli.lua), which does the work. Commands:
 *   lnst run RECIPE.lua [-p NAME=VALUE]...   run a recipe
 *   lnst SCRIPT.lua [ARGS...]                run a Lua script
 *   lnst -i SCRIPT.lua                       run it, then open the REPL
 *   lnst                                     open the REPL
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
#include "repl.h"

#define LNST_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lnst [-d] [-i] [SCRIPT.lua [ARGS...]]\n"
		"       lnst run [options] RECIPE.lua\n"
		"       lnst repl [options] RECIPE.lua\n"
		"       lnst help | --help | --version\n"
		"\n"
		"Network test runner: recipes in Lua, hosts in namespaces, containers or machines.\n"
		"\n"
		"  lnst run RECIPE.lua      run a recipe on fresh local hosts (see lnst run --help)\n"
		"  lnst repl RECIPE.lua     provision a recipe's hosts and open the REPL on them\n"
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
		"  -h, --help               this text\n"
		"\n"
		"Exit codes: 0 all passed, 1 a check failed, 2 an error stopped the run.\n");
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
		"  -d, --debug              debug logging\n"
		"  -h, --help               this text\n");
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
		{ 0 },
	};
	lua_newtable(L);
	lua_newtable(L); /* params */
	int np = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:l:dh", opts, NULL)) != -1) {
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
