/* loop.c - epoll event loop and timers (loop.h). */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct watch {
	int fd;
	int dead;
	loop_fd_cb cb;
	void *ud;
	struct watch *next; /* all watches, or the graveyard */
};

struct timer {
	int64_t id, due;
	loop_timer_cb cb;
	void *ud;
	struct timer *next; /* sorted by due */
};

struct loop {
	int epfd;
	struct watch *watches;
	struct watch *graveyard;
	struct timer *timers;
	int64_t next_timer_id;
};

int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void reap(struct loop *l)
{
	while (l->graveyard) {
		struct watch *w = l->graveyard;
		l->graveyard = w->next;
		free(w);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->watches) {
		struct watch *w = l->watches;
		l->watches = w->next;
		free(w);
	}
	reap(l);
	while (l->timers) {
		struct timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	close(l->epfd);
	free(l);
}

static struct watch *find(struct loop *l, int fd)
{
	for (struct watch *w = l->watches; w; w = w->next)
		if (w->fd == fd)
			return w;
	return NULL;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *ud)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->ud = ud;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		free(w);
		return err;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct watch *w = find(l, fd);
	if (!w)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int loop_del(struct loop *l, int fd)
{
	struct watch **pp = &l->watches;
	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	if (!*pp)
		return -ENOENT;
	struct watch *w = *pp;
	*pp = w->next;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = 1;
	w->next = l->graveyard;
	l->graveyard = w;
	return 0;
}

int64_t loop_timer_add(struct loop *l, int64_t ms, loop_timer_cb cb, void *ud)
{
	struct timer *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->id = ++l->next_timer_id;
	t->due = loop_now_ms() + (ms < 0 ? 0 : ms);
	t->cb = cb;
	t->ud = ud;
	struct timer **pp = &l->timers;
	while (*pp && (*pp)->due <= t->due)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t->id;
}

void loop_timer_cancel(struct loop *l, int64_t id)
{
	for (struct timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct timer *t = *pp;
			*pp = t->next;
			free(t);
			return;
		}
	}
}

static int run_timers(struct loop *l)
{
	int n = 0;
	int64_t now = loop_now_ms();
	while (l->timers && l->timers->due <= now) {
		struct timer *t = l->timers;
		l->timers = t->next;
		loop_timer_cb cb = t->cb;
		void *ud = t->ud;
		free(t);
		cb(l, ud);
		n++;
	}
	return n;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	if (l->timers) {
		int64_t wait = l->timers->due - loop_now_ms();
		if (wait < 0)
			wait = 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = (int)wait;
	}
	struct epoll_event evs[64];
	int n = epoll_wait(l->epfd, evs, 64, timeout_ms);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	int ran = 0;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		if (w->dead)
			continue;
		w->cb(l, w->fd, evs[i].events, w->ud);
		ran++;
	}
	reap(l);
	return ran + run_timers(l);
}
