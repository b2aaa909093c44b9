/* log.h - leveled logging to stderr, with a hook so the agent can forward
 * its log lines to the controller as `log` events. */
#ifndef LNST_LOG_H
#define LNST_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

typedef void (*log_sink)(enum log_level lvl, const char *text, void *ud);

void log_init(const char *prog, enum log_level max);
void log_set_sink(log_sink sink, void *ud);
enum log_level log_max(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *log_level_name(enum log_level lvl);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
