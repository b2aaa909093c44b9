/* log.c - leveled logging (log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_prog = "lnst";
static enum log_level log_limit = LOG_WARN;
static log_sink log_hook;
static void *log_hook_ud;

void log_init(const char *prog, enum log_level max)
{
	log_prog = prog;
	log_limit = max;
}

void log_set_sink(log_sink sink, void *ud)
{
	log_hook = sink;
	log_hook_ud = ud;
}

enum log_level log_max(void)
{
	return log_limit;
}

const char *log_level_name(enum log_level lvl)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	return names[lvl];
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl > log_limit)
		return;
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (log_hook) {
		log_hook(lvl, text, log_hook_ud);
		return;
	}
	fprintf(stderr, "%s: %s: %s\n", log_prog, log_level_name(lvl), text);
}
