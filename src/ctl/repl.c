/* repl.c - the REPL's terminal side (repl.h).
 *
 * readline's callback interface reads characters as the event loop reports
 * stdin readable, so agents' events and job output keep arriving while a
 * person types. A completed line is evaluated outside the readline callback,
 * with stdin unwatched, by lua/lnst/repl.lua, which compiles it (as an
 * expression first), asks for more lines when the chunk is incomplete, runs
 * it and prints the results readably. A session can be opened from inside
 * Lua code (a paused run, a breakpoint): sessions nest, each restoring the
 * one it interrupted. Tab completion asks lnst.repl.complete. History lives
 * in ~/.lnst_history. When stdin is not a terminal, plain lines are read
 * with no prompt or echo. Lines typed while a command runs wait their turn
 * (ahead[]) and are shown at their prompt when evaluated.
 */
#include "repl.h"

#include <errno.h>
#include <signal.h>
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

/* Lines read from a pipe; shared by nested sessions (one stdin). */
struct plain {
	char buf[65536];
	size_t len;
	int eof;
};

#define TYPEAHEAD 64

struct session {
	char *pending; /* a completed line waiting to be evaluated */
	int eof;
	int continuing; /* inside a multi-line chunk */
	const char *prompt;
	/* Lines readline completed after the first one of a callback (typed
	 * ahead while a command ran); they were not shown as typed. */
	char *ahead[TYPEAHEAD];
	int nahead;
	int silent; /* the pending line came from ahead[] */
};

static struct session *cur;
static struct plain plain;
static lua_State *repl_L;
static char history[1024];
static int history_loaded;

/* Stands in for rl_redisplay from a completed line until install(): after
 * calling on_line readline draws the prompt again (over which the line's
 * output would print) and goes on with keys typed ahead, which must not
 * show before the line they follow has been evaluated. */
static void no_redisplay(void)
{
}

static void on_line(char *line)
{
	rl_redisplay_function = no_redisplay;
	if (!line) {
		cur->eof = 1;
		return;
	}
	if (!cur->pending && !cur->nahead) {
		cur->pending = line;
	} else if (cur->nahead < TYPEAHEAD) {
		cur->ahead[cur->nahead++] = line;
	} else {
		fprintf(stderr, "\nlnst: more than %d lines typed ahead; dropped: %s\n", TYPEAHEAD, line);
		free(line);
	}
}

/* Drops the lines typed ahead (Ctrl-C, or the session ends). */
static void drop_ahead(struct session *s)
{
	for (int i = 0; i < s->nahead; i++)
		free(s->ahead[i]);
	s->nahead = 0;
}

static void on_stdin(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	(void)ud;
	rl_callback_read_char();
}

static void on_plain_stdin(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	(void)ud;
	if (plain.len == sizeof(plain.buf) - 1) {
		plain.buf[plain.len] = 0;
		cur->pending = strdup(plain.buf); /* an overlong line: take it as is */
		plain.len = 0;
		return;
	}
	ssize_t n = read(fd, plain.buf + plain.len, sizeof(plain.buf) - 1 - plain.len);
	if (n <= 0) {
		plain.eof = 1;
		if (plain.len) {
			plain.buf[plain.len] = 0;
			cur->pending = strdup(plain.buf);
			plain.len = 0;
		} else {
			cur->eof = 1;
		}
		return;
	}
	plain.len += (size_t)n;
}

/* Takes one complete line out of the plain buffer, if there is one. */
static char *plain_line(void)
{
	char *nl = memchr(plain.buf, '\n', plain.len);
	if (!nl)
		return NULL;
	size_t n = (size_t)(nl - plain.buf);
	char *line = strndup(plain.buf, n);
	memmove(plain.buf, nl + 1, plain.len - n - 1);
	plain.len -= n + 1;
	return line;
}

/* Calls lnst.repl[fn](arg) and returns its string result (static buffer). */
static const char *call_repl(lua_State *L, const char *fn, const char *arg)
{
	static char status[16];
	lua_getglobal(L, "require");
	lua_pushstring(L, "lnst.repl");
	if (lua_env_pcall(L, 1, 1)) {
		fprintf(stderr, "lnst: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return "quit";
	}
	lua_getfield(L, -1, fn);
	lua_remove(L, -2);
	if (arg)
		lua_pushstring(L, arg);
	if (lua_env_pcall(L, arg ? 1 : 0, 1)) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
		return "ok";
	}
	snprintf(status, sizeof(status), "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "ok");
	lua_pop(L, 1);
	return status;
}

/* Tab completion: lnst.repl.complete(line up to the word end) -> list. */
static char **complete(const char *text, int start, int end)
{
	(void)text;
	lua_State *L = repl_L;
	rl_attempted_completion_over = 1;
	char *upto = strndup(rl_line_buffer, (size_t)end);
	lua_getglobal(L, "require");
	lua_pushstring(L, "lnst.repl");
	char **out = NULL;
	if (lua_env_pcall(L, 1, 1) == 0) {
		lua_getfield(L, -1, "complete");
		lua_pushstring(L, upto);
		if (lua_env_pcall(L, 1, 1) == 0 && lua_istable(L, -1)) {
			int n = (int)lua_objlen(L, -1);
			if (n > 0) {
				/* out[0] is the common prefix readline substitutes. */
				out = calloc((size_t)n + 2, sizeof(char *));
				for (int i = 1; i <= n; i++) {
					lua_rawgeti(L, -1, i);
					out[i] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
					lua_pop(L, 1);
				}
				size_t common = strlen(out[1]);
				for (int i = 2; i <= n; i++) {
					size_t k = 0;
					while (k < common && out[i][k] == out[1][k])
						k++;
					common = k;
				}
				out[0] = strndup(out[1], common);
			}
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	free(upto);
	(void)start;
	return out;
}

static void install(struct session *s)
{
	rl_redisplay_function = rl_redisplay;
	rl_callback_handler_install(s->continuing ? ">> " : s->prompt, on_line);
}

const char *repl_session(lua_State *L, const char *prompt)
{
	static char result[16];
	struct loop *loop = core_loop();
	int tty = isatty(0);
	struct session s = { .prompt = prompt ? prompt : "lnst> " };
	struct session *outer = cur;
	cur = &s;
	repl_L = L;
	if (tty && !history_loaded) {
		const char *home = getenv("HOME");
		snprintf(history, sizeof(history), "%s/.lnst_history", home ? home : ".");
		using_history();
		read_history(history);
		history_loaded = 1;
	}
	rl_catch_signals = 0;
	rl_readline_name = "lnst";
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t\n\"'`@$><=;|&{(,+-*/%^~#";
	loop_fd_cb reader = tty ? on_stdin : on_plain_stdin;
	if (tty) {
		if (outer)
			rl_callback_handler_remove();
		install(&s);
	}
	loop_del(loop, 0);
	loop_add(loop, 0, EPOLLIN, reader, NULL);
	snprintf(result, sizeof(result), "eof");
	while (!s.eof || s.pending || s.nahead) {
		if (!s.pending && s.nahead) {
			s.pending = s.ahead[0];
			memmove(s.ahead, s.ahead + 1, (size_t)--s.nahead * sizeof(s.ahead[0]));
			s.silent = 1;
		}
		if (!tty && !s.pending)
			s.pending = plain_line();
		if (!tty && !s.pending && plain.eof)
			break;
		int n = s.pending ? 0 : loop_run_once(loop, -1);
		if (ctl_interrupted == SIGTERM || ctl_interrupted == SIGHUP) {
			/* Asked to stop: end the session; its owner tears down and
			 * still sees the signal (core.interrupted). */
			ctl_interrupted = 0;
			lua_sethook(L, NULL, 0, 0);
			snprintf(result, sizeof(result), "quit");
			break;
		}
		if (ctl_interrupted) {
			/* Ctrl-C at the prompt: drop the line, start afresh. Or
			 * a host's agent died meanwhile: say which. */
			if (ctl_interrupted < 0 && agentconn_abort_reason())
				fprintf(stderr, "\nlnst: %s\n", agentconn_abort_reason());
			core_interrupt_clear(L);
			free(s.pending);
			s.pending = NULL;
			s.silent = 0;
			drop_ahead(&s);
			if (tty) {
				rl_free_line_state();
				rl_replace_line("", 0);
				rl_crlf();
			}
			call_repl(L, "reset", NULL);
			s.continuing = 0;
			if (tty) {
				rl_callback_handler_remove();
				install(&s);
			}
			continue;
		}
		if (n < 0 && n != -EINTR)
			break;
		if (!s.pending)
			continue;
		char *line = s.pending;
		s.pending = NULL;
		if (tty)
			rl_callback_handler_remove();
		if (tty && s.silent) /* show it as if typed at its prompt */
			printf("%s%s\n", s.continuing ? ">> " : s.prompt, line);
		s.silent = 0;
		loop_del(loop, 0);
		if (*line && tty)
			add_history(line);
		const char *st = call_repl(L, "eval", line);
		free(line);
		if (ctl_interrupted == SIGTERM || ctl_interrupted == SIGHUP) {
			ctl_interrupted = 0;
			lua_sethook(L, NULL, 0, 0);
			snprintf(result, sizeof(result), "quit");
			break;
		}
		if (ctl_interrupted) /* a Ctrl-C that stopped the command */
			drop_ahead(&s);
		core_interrupt_clear(L);
		if (strcmp(st, "ok") != 0 && strcmp(st, "more") != 0) {
			snprintf(result, sizeof(result), "%s", st);
			break;
		}
		s.continuing = strcmp(st, "more") == 0;
		loop_del(loop, 0);
		loop_add(loop, 0, EPOLLIN, reader, NULL);
		if (tty)
			install(&s);
	}
	if (tty)
		rl_callback_handler_remove();
	rl_redisplay_function = rl_redisplay;
	free(s.pending);
	drop_ahead(&s);
	loop_del(loop, 0);
	if (tty) {
		if (!outer)
			printf("\n");
		write_history(history);
	}
	/* An outer session gets stdin and its prompt back when its own
	 * evaluation (which opened this one) returns. */
	cur = outer;
	return result;
}

int repl_run(lua_State *L)
{
	/* lnst.core owns the event loop; make sure it exists. */
	lua_getglobal(L, "require");
	lua_pushstring(L, "lnst.core");
	if (lua_env_pcall(L, 1, 0)) {
		fprintf(stderr, "lnst: %s\n", lua_tostring(L, -1));
		return 2;
	}
	if (isatty(0))
		printf("lnst REPL - Lua with the lnst library loaded as `lnst`. :help for help, Ctrl-D to quit.\n");
	repl_session(L, NULL);
	const char *code = call_repl(L, "finish", NULL);
	return atoi(code);
}
