/* repl.c - the REPL's terminal side (repl.h).
 *
 * readline's callback interface reads characters as the event loop reports
 * stdin readable, so agents' events and job output keep arriving while a
 * person types. A completed line is evaluated outside the readline callback,
 * with stdin unwatched, by lua/lnst/repl.lua, which compiles it (as an
 * expression first), asks for more lines when the chunk is incomplete, runs
 * it and prints the results readably. History lives in ~/.lnst_history.
 */
#include "repl.h"

#include <errno.h>
#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agentconn.h"
#include "loop.h"
#include "lua_core.h"
#include "lua_env.h"

struct repl {
	char *pending;  /* a completed line waiting to be evaluated */
	int eof;
	int continuing; /* inside a multi-line chunk */
	char history[1024];
};

static struct repl repl;

static void on_line(char *line)
{
	if (!line) {
		repl.eof = 1;
		return;
	}
	repl.pending = line;
}

static void on_stdin(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	(void)ud;
	rl_callback_read_char();
}

/* Not a terminal (a pipe or file): plain lines, no prompt, no echo. */
struct plain {
	char buf[65536];
	size_t len;
};

static void on_plain_stdin(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	struct plain *p = ud;
	if (p->len == sizeof(p->buf) - 1) {
		p->buf[p->len] = 0;
		repl.pending = strdup(p->buf); /* an overlong line: take it as is */
		p->len = 0;
		return;
	}
	ssize_t n = read(fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	if (n <= 0) {
		if (p->len) {
			p->buf[p->len] = 0;
			repl.pending = strdup(p->buf);
			p->len = 0;
		} else {
			repl.eof = 1;
		}
		return;
	}
	p->len += (size_t)n;
}

/* Takes one complete line out of the plain buffer, if there is one. */
static char *plain_line(struct plain *p)
{
	char *nl = memchr(p->buf, '\n', p->len);
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - p->buf);
	char *line = strndup(p->buf, n);
	memmove(p->buf, nl + 1, p->len - n - 1);
	p->len -= n + 1;
	return line;
}

/* Calls lnst.repl.eval(line) -> "more" | "ok" | "quit". */
static const char *evaluate(lua_State *L, const char *line)
{
	static char status[16];
	lua_getglobal(L, "require");
	lua_pushstring(L, "lnst.repl");
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "lnst: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return "quit";
	}
	lua_getfield(L, -1, "eval");
	lua_remove(L, -2);
	lua_pushstring(L, line);
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return "ok";
	}
	snprintf(status, sizeof(status), "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "ok");
	lua_pop(L, 1);
	return status;
}

static void install(void)
{
	rl_callback_handler_install(repl.continuing ? ">> " : "lnst> ", on_line);
}

int repl_run(lua_State *L)
{
	struct loop *loop = core_loop();
	if (!loop) {
		/* Make sure lnst.core (and so the loop) exists. */
		lua_getglobal(L, "require");
		lua_pushstring(L, "lnst.core");
		lua_call(L, 1, 0);
		loop = core_loop();
	}
	int tty = isatty(0);
	const char *home = getenv("HOME");
	snprintf(repl.history, sizeof(repl.history), "%s/.lnst_history", home ? home : ".");
	using_history();
	read_history(repl.history);
	rl_catch_signals = 0;
	rl_readline_name = "lnst";
	static struct plain plain;
	loop_fd_cb reader = tty ? on_stdin : on_plain_stdin;
	if (tty) {
		printf("lnst REPL - Lua with the lnst library loaded as `lnst`. :help for help, Ctrl-D to quit.\n");
		install();
	}
	loop_add(loop, 0, EPOLLIN, reader, &plain);
	int code = 0;
	while (!repl.eof || repl.pending || (!tty && memchr(plain.buf, '\n', plain.len))) {
		if (!tty && !repl.pending)
			repl.pending = plain_line(&plain);
		int n = repl.pending ? 0 : loop_run_once(loop, -1);
		if (ctl_interrupted) {
			/* Ctrl-C at the prompt: drop the line, start afresh. */
			ctl_interrupted = 0;
			lua_sethook(L, NULL, 0, 0);
			if (tty) {
				rl_free_line_state();
				rl_replace_line("", 0);
				rl_crlf();
			}
			lua_getglobal(L, "require");
			lua_pushstring(L, "lnst.repl");
			lua_call(L, 1, 1);
			lua_getfield(L, -1, "reset");
			lua_call(L, 0, 0);
			lua_pop(L, 1);
			repl.continuing = 0;
			if (tty) {
				rl_callback_handler_remove();
				install();
			}
			continue;
		}
		if (n < 0 && n != -EINTR)
			break;
		if (!repl.pending)
			continue;
		char *line = repl.pending;
		repl.pending = NULL;
		if (tty)
			rl_callback_handler_remove();
		loop_del(loop, 0);
		if (*line && tty)
			add_history(line);
		const char *st = evaluate(L, line);
		free(line);
		ctl_interrupted = 0;
		lua_sethook(L, NULL, 0, 0);
		if (strcmp(st, "quit") == 0)
			break;
		repl.continuing = strcmp(st, "more") == 0;
		if (!repl.eof)
			loop_add(loop, 0, EPOLLIN, reader, &plain);
		if (tty)
			install();
	}
	if (tty)
		rl_callback_handler_remove();
	loop_del(loop, 0);
	if (tty) {
		printf("\n");
		write_history(repl.history);
	}
	lua_getglobal(L, "require");
	lua_pushstring(L, "lnst.repl");
	if (lua_env_pcall(L, 1, 1) == 0) {
		lua_getfield(L, -1, "finish");
		if (lua_env_pcall(L, 0, 1) == 0 && lua_isnumber(L, -1))
			code = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return code;
}
