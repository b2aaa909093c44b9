/* loop.h - a small epoll event loop with one-shot timers.
 *
 * Both daemons are single-threaded around one loop. Watches are keyed by fd;
 * a watch removed while events are being dispatched is freed only after the
 * batch, so callbacks may remove any watch (their own included) safely.
 */
#ifndef LNST_LOOP_H
#define LNST_LOOP_H

#include <stdint.h>

struct loop;
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *ud);
typedef void (*loop_timer_cb)(struct loop *l, void *ud);

struct loop *loop_new(void);
void loop_free(struct loop *l);

int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *ud);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);

/* Timer firing once after ms milliseconds; returns an id > 0 or -ENOMEM. */
int64_t loop_timer_add(struct loop *l, int64_t ms, loop_timer_cb cb, void *ud);
void loop_timer_cancel(struct loop *l, int64_t id);

/* Waits at most timeout_ms (-1: until something happens) and dispatches.
 * Returns the number of callbacks run, or -EINTR when a signal interrupted
 * the wait. */
int loop_run_once(struct loop *l, int timeout_ms);

/* Monotonic milliseconds. */
int64_t loop_now_ms(void);

#endif
