/* job.c - job processes: spawn, capture, timeout, kill, reap (job.h).
 *
 * Function jobs (job_start_fn: the Lua test modules of module.c) have a
 * third pipe, the report channel: newline-separated JSON objects. A line with
 * a "notice" key is forwarded at once as a job.notice event; the last other
 * line is the final report, whose keys are merged into the job object of
 * job.finished. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Per stream. Escaped as JSON (up to 6 bytes per byte) both streams still
 * fit in the 16 MiB frame. */
#define OUTPUT_LIMIT (1u << 20)
/* The report is JSON already (no escaping growth): with both streams at
 * their limit the finished event still fits in 16 MiB. */
#define REPORT_LIMIT (3u << 20)

struct outbuf {
	int fd;
	char *data;
	size_t len, cap;
	int truncated;
};

struct job {
	int id;
	pid_t pid;
	int stream;
	int timed_out;
	int exited;
	int status;
	int64_t started, timer;
	struct outbuf out[3]; /* stdout, stderr, report (function jobs only) */
	int is_fn;
	size_t report_scanned; /* bytes of the report already split into lines */
	cJSON *report;         /* the last report line that is not a notice */
	struct jobs *js;
	struct job *next;
};

struct jobs {
	struct loop *loop;
	job_event_cb cb;
	void *ud;
	struct job *list;
	int next_id;
	struct rlimit nofile; /* the limit the agent was given, for its jobs */
};

int jobs_new(struct jobs **out, struct loop *loop, job_event_cb cb, void *ud)
{
	struct jobs *js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->loop = loop;
	js->cb = cb;
	js->ud = ud;
	/* Each running job holds two or three pipe ends: with the usual soft
	 * limit of 1024 files, some 500 jobs would fail with EMFILE. The agent
	 * takes the hard limit; its jobs get the original one back. */
	if (getrlimit(RLIMIT_NOFILE, &js->nofile) == 0 && js->nofile.rlim_cur < js->nofile.rlim_max) {
		struct rlimit raised = { js->nofile.rlim_max, js->nofile.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &raised) < 0)
			js->nofile.rlim_cur = js->nofile.rlim_max = 0;
	} else {
		js->nofile.rlim_cur = js->nofile.rlim_max = 0;
	}
	*out = js;
	return 0;
}

int jobs_running(const struct jobs *js)
{
	int n = 0;
	for (struct job *j = js->list; j; j = j->next)
		n++;
	return n;
}

/* Replaces invalid UTF-8 with '?', so output is always valid JSON text. */
static void utf8_fix(char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int ok = len > 0 && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = ((unsigned char)s[i + k] >> 6) == 2;
		if (ok && len == 2 && c < 0xc2)
			ok = 0;
		if (!ok) {
			s[i++] = '?';
			continue;
		}
		i += len;
	}
}

static cJSON *out_string(struct outbuf *o)
{
	char *s = malloc(o->len + 1);
	if (!s)
		return cJSON_CreateString("");
	memcpy(s, o->data ? o->data : "", o->len);
	s[o->len] = 0;
	utf8_fix(s, o->len);
	/* NUL bytes in output would cut the string; replace them too. */
	for (size_t i = 0; i < o->len; i++)
		if (!s[i])
			s[i] = '?';
	cJSON *j = cJSON_CreateString(s);
	free(s);
	return j;
}

static void out_close(struct jobs *js, struct outbuf *o)
{
	if (o->fd >= 0) {
		loop_del(js->loop, o->fd);
		close(o->fd);
		o->fd = -1;
	}
}

static void stream_event(struct job *j, int which, const char *data, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return;
	memcpy(s, data, n);
	s[n] = 0;
	utf8_fix(s, n);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "job", j->id);
	cJSON_AddStringToObject(ev, "stream", which ? "stderr" : "stdout");
	cJSON_AddStringToObject(ev, "data", s);
	free(s);
	j->js->cb("job.output", ev, j->js->ud);
}

static void notice_event(struct job *j, cJSON *notice)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON *o = cJSON_AddObjectToObject(ev, "job");
	cJSON_AddNumberToObject(o, "id", j->id);
	cJSON_AddItemToObject(ev, "notice", notice);
	j->js->cb("job.notice", ev, j->js->ud);
}

/* Splits the report channel's complete lines: notices go out as events, the
 * last other object is kept as the final report. */
static void report_scan(struct job *j)
{
	struct outbuf *o = &j->out[2];
	char *nl;
	while (j->report_scanned < o->len &&
	       (nl = memchr(o->data + j->report_scanned, '\n', o->len - j->report_scanned))) {
		const char *line = o->data + j->report_scanned;
		cJSON *obj = cJSON_ParseWithLength(line, (size_t)(nl - line));
		j->report_scanned = (size_t)(nl - o->data) + 1;
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			continue;
		}
		cJSON *notice = cJSON_DetachItemFromObjectCaseSensitive(obj, "notice");
		if (notice) {
			cJSON_Delete(obj);
			notice_event(j, notice);
			continue;
		}
		cJSON_Delete(j->report);
		j->report = obj;
	}
}

/* Reads what is available; returns 1 on EOF or error, 0 otherwise. */
static int out_read(struct job *j, int which)
{
	struct outbuf *o = &j->out[which];
	size_t limit = which == 2 ? REPORT_LIMIT : OUTPUT_LIMIT;
	char buf[16384];
	for (;;) {
		ssize_t n = read(o->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		if (j->stream && which < 2)
			stream_event(j, which, buf, (size_t)n);
		size_t take = (size_t)n;
		if (o->len + take > limit) {
			take = limit - o->len;
			o->truncated = 1;
		}
		if (o->len + take > o->cap) {
			size_t cap = o->cap ? o->cap : 4096;
			while (cap < o->len + take)
				cap *= 2;
			char *nd = realloc(o->data, cap);
			if (!nd)
				return 1;
			o->data = nd;
			o->cap = cap;
		}
		memcpy(o->data + o->len, buf, take);
		o->len += take;
		if (which == 2)
			report_scan(j);
	}
}

static void job_free(struct job *j)
{
	for (int i = 0; i < 3; i++) {
		out_close(j->js, &j->out[i]);
		free(j->out[i].data);
	}
	if (j->timer)
		loop_timer_cancel(j->js->loop, j->timer);
	cJSON_Delete(j->report);
	free(j);
}

/* The final report's keys go into the job object; a function job without
 * one gets an error saying how its process ended. */
static void report_merge(struct job *j, cJSON *o)
{
	if (j->out[2].truncated) {
		cJSON_Delete(j->report);
		j->report = NULL;
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "message", "the module's report is larger than the limit (3 MiB)");
		return;
	}
	if (!j->report) {
		char how[96];
		if (WIFSIGNALED(j->status))
			snprintf(how, sizeof(how), "was killed by SIG%s", sigabbrev_np(WTERMSIG(j->status)) ?: "?");
		else
			snprintf(how, sizeof(how), "exited with code %d", WEXITSTATUS(j->status));
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddItemToObject(e, "message", cJSON_CreateString(j->timed_out ? "the module timed out and was killed"
										       : "the module process ended without a report"));
		cJSON_AddStringToObject(e, "process", how);
		return;
	}
	cJSON *it = j->report->child;
	while (it) {
		cJSON *next = it->next;
		if (!cJSON_GetObjectItemCaseSensitive(o, it->string))
			cJSON_AddItemToObject(o, it->string, cJSON_DetachItemViaPointer(j->report, it));
		it = next;
	}
}

static void finish(struct job *j)
{
	struct jobs *js = j->js;
	for (int i = 0; i < 3; i++)
		if (j->out[i].fd >= 0)
			out_read(j, i);
	cJSON *ev = cJSON_CreateObject();
	cJSON *o = cJSON_AddObjectToObject(ev, "job");
	cJSON_AddNumberToObject(o, "id", j->id);
	cJSON_AddNumberToObject(o, "pid", j->pid);
	if (WIFEXITED(j->status)) {
		cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(j->status));
	} else if (WIFSIGNALED(j->status)) {
		cJSON_AddNullToObject(o, "exit_code");
		cJSON_AddStringToObject(o, "signal", sigabbrev_np(WTERMSIG(j->status)) ?: "?");
	}
	cJSON_AddBoolToObject(o, "timed_out", j->timed_out);
	cJSON_AddNumberToObject(o, "duration", (double)(loop_now_ms() - j->started) / 1000.0);
	cJSON_AddItemToObject(o, "stdout", out_string(&j->out[0]));
	cJSON_AddItemToObject(o, "stderr", out_string(&j->out[1]));
	if (j->out[0].truncated || j->out[1].truncated)
		cJSON_AddBoolToObject(o, "truncated", 1);
	if (j->is_fn)
		report_merge(j, o);
	for (struct job **pp = &js->list; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	job_free(j);
	js->cb("job.finished", ev, js->ud);
}

static void on_output(struct loop *l, int fd, uint32_t events, void *ud)
{
	(void)l;
	(void)events;
	struct job *j = ud;
	int which = j->out[0].fd == fd ? 0 : j->out[1].fd == fd ? 1 : 2;
	if (out_read(j, which))
		out_close(j->js, &j->out[which]);
}

static void on_timeout(struct loop *l, void *ud)
{
	(void)l;
	struct job *j = ud;
	j->timer = 0;
	j->timed_out = 1;
	kill(-j->pid, SIGKILL);
}

static struct job *by_id(struct jobs *js, int id)
{
	for (struct job *j = js->list; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static char **argv_from(const cJSON *params, char *err, size_t errlen)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(params, "argv");
	const cJSON *shell = cJSON_GetObjectItemCaseSensitive(params, "shell");
	if (!!argv == !!shell) {
		snprintf(err, errlen, "job needs exactly one of 'argv' (array of strings) and 'shell' (string)");
		return NULL;
	}
	if (shell) {
		if (!cJSON_IsString(shell)) {
			snprintf(err, errlen, "job 'shell' must be a string");
			return NULL;
		}
		char **v = calloc(4, sizeof(char *));
		if (!v)
			return NULL;
		v[0] = strdup("/bin/sh");
		v[1] = strdup("-c");
		v[2] = strdup(shell->valuestring);
		return v;
	}
	int n = cJSON_GetArraySize(argv);
	if (!cJSON_IsArray(argv) || n == 0) {
		snprintf(err, errlen, "job 'argv' must be a non-empty array of strings");
		return NULL;
	}
	char **v = calloc((size_t)n + 1, sizeof(char *));
	if (!v)
		return NULL;
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, argv) {
		if (!cJSON_IsString(it)) {
			snprintf(err, errlen, "job 'argv' item %d is not a string", i + 1);
			for (int k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
		v[i++] = strdup(it->valuestring);
	}
	return v;
}

static void argv_free(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Runs in the child between fork and exec. Never returns. */
static void child(char **argv, const cJSON *params, int out_w, int err_w, int status_w)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int devnull = open("/dev/null", O_RDONLY);
	dup2(devnull, 0);
	dup2(out_w, 1);
	dup2(err_w, 2);
	const cJSON *cwd = cJSON_GetObjectItemCaseSensitive(params, "cwd");
	if (cJSON_IsString(cwd) && chdir(cwd->valuestring) < 0)
		goto fail;
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(params, "env");
	const cJSON *e;
	cJSON_ArrayForEach(e, env) {
		if (cJSON_IsString(e))
			setenv(e->string, e->valuestring, 1);
	}
	execvp(argv[0], argv);
fail:;
	int err = errno;
	if (write(status_w, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Runs in the child of a function job. Signals stay blocked: the function
 * installs its handlers and unblocks them. Never returns. */
static void child_fn(const struct job_fn *fn, int out_w, int err_w, int report_w)
{
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int devnull = open("/dev/null", O_RDONLY);
	dup2(devnull, 0);
	dup2(out_w, 1);
	dup2(err_w, 2);
	dup2(report_w, 3);
	/* Nothing of the agent (its connection, netlink, epoll) stays open. */
	close_range(4, ~0u, 0);
	fn->run(fn->ud, 3);
	_exit(1);
}

static int check_timeout(const cJSON *params, char *err, size_t errlen)
{
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(params, "timeout");
	if (timeout && !(cJSON_IsNumber(timeout) && timeout->valuedouble >= 0)) {
		snprintf(err, errlen, "job 'timeout' must be a number of seconds >= 0");
		return -EINVAL;
	}
	return 0;
}

/* Forks the job (argv to exec, or fn to call) and registers it. */
static int spawn(struct jobs *js, const cJSON *params, char **argv, const struct job_fn *fn,
		 cJSON **result, char *err, size_t errlen)
{
	int outp[2], errp[2], st[2] = { -1, -1 }, rep[2] = { -1, -1 };
	if (pipe2(outp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(fn ? rep : st, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(outp[0]);
		close(outp[1]);
		return -EMFILE;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (js->nofile.rlim_max)
			setrlimit(RLIMIT_NOFILE, &js->nofile);
		if (fn)
			child_fn(fn, outp[1], errp[1], rep[1]);
		child(argv, params, outp[1], errp[1], st[1]);
	}
	close(outp[1]);
	close(errp[1]);
	close(fn ? rep[1] : st[1]);
	int ret = 0;
	if (pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
	} else {
		/* Also set from here, so killpg works even before the child runs. */
		setpgid(pid, pid);
		int cerr = 0;
		ssize_t n = 0;
		while (!fn && (n = read(st[0], &cerr, sizeof(cerr))) < 0 && errno == EINTR)
			;
		if (!fn && n == sizeof(cerr)) {
			snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(cerr));
			waitpid(pid, NULL, 0);
			ret = -cerr;
		}
	}
	if (st[0] >= 0)
		close(st[0]);
	if (ret) {
		close(outp[0]);
		close(errp[0]);
		if (rep[0] >= 0)
			close(rep[0]);
		return ret;
	}
	struct job *j = calloc(1, sizeof(*j));
	j->id = ++js->next_id;
	j->pid = pid;
	j->js = js;
	j->started = loop_now_ms();
	j->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "stream"));
	j->is_fn = fn != NULL;
	j->out[0].fd = outp[0];
	j->out[1].fd = errp[0];
	j->out[2].fd = rep[0];
	for (int i = 0; i < 3; i++) {
		if (j->out[i].fd < 0)
			continue;
		fcntl(j->out[i].fd, F_SETFL, O_NONBLOCK);
		loop_add(js->loop, j->out[i].fd, EPOLLIN, on_output, j);
	}
	const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(params, "timeout");
	if (timeout && timeout->valuedouble > 0)
		j->timer = loop_timer_add(js->loop, (int64_t)(timeout->valuedouble * 1000), on_timeout, j);
	j->next = js->list;
	js->list = j;
	*result = cJSON_CreateObject();
	cJSON_AddNumberToObject(*result, "id", j->id);
	cJSON_AddNumberToObject(*result, "pid", pid);
	return 0;
}

int job_start(struct jobs *js, const cJSON *params, cJSON **result, char *err, size_t errlen)
{
	if (check_timeout(params, err, errlen))
		return -EINVAL;
	char **argv = argv_from(params, err, errlen);
	if (!argv)
		return -EINVAL;
	int ret = spawn(js, params, argv, NULL, result, err, errlen);
	argv_free(argv);
	return ret;
}

int job_start_fn(struct jobs *js, const cJSON *params, const struct job_fn *fn, cJSON **result,
		 char *err, size_t errlen)
{
	if (check_timeout(params, err, errlen))
		return -EINVAL;
	return spawn(js, params, NULL, fn, result, err, errlen);
}

int job_kill(struct jobs *js, int id, int sig, char *err, size_t errlen)
{
	struct job *j = by_id(js, id);
	if (!j) {
		snprintf(err, errlen, "no running job %d", id);
		return -ESRCH;
	}
	if (sig <= 0 || sig >= NSIG) {
		snprintf(err, errlen, "invalid signal %d", sig);
		return -EINVAL;
	}
	if (kill(-j->pid, sig) < 0 && errno != ESRCH) {
		snprintf(err, errlen, "kill job %d: %s", id, strerror(errno));
		return -errno;
	}
	return 0;
}

void jobs_reap(struct jobs *js)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct job *j = js->list; j; j = j->next) {
			if (j->pid == pid) {
				j->status = status;
				/* The job is over: nothing it left in its group outlives it. */
				kill(-pid, SIGKILL);
				finish(j);
				break;
			}
		}
	}
}

void jobs_kill_all(struct jobs *js)
{
	for (struct job *j = js->list; j; j = j->next)
		kill(-j->pid, SIGKILL);
	int64_t end = loop_now_ms() + 2000;
	while (js->list && loop_now_ms() < end) {
		jobs_reap(js);
		if (js->list)
			usleep(1000);
	}
}

void jobs_free(struct jobs *js)
{
	if (!js)
		return;
	while (js->list) {
		struct job *j = js->list;
		js->list = j->next;
		job_free(j);
	}
	free(js);
}
