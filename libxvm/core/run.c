/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct sink {
	int fd;
	char *buf;
	size_t len;
};

/* Appends what the pipe has; keeps at most RUN_OUTPUT_MAX bytes, draining the rest. */
static bool drain(struct sink *s)
{
	char chunk[8192];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return true;
		close(s->fd);
		s->fd = -1;
		return false;
	}
	size_t keep = s->len + (size_t)n > RUN_OUTPUT_MAX ? RUN_OUTPUT_MAX - s->len : (size_t)n;
	if (keep) {
		char *nb = realloc(s->buf, s->len + keep + 1);
		if (nb) {
			memcpy(nb + s->len, chunk, keep);
			s->buf = nb;
			s->len += keep;
			s->buf[s->len] = 0;
		}
	}
	return true;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

struct child {
	pid_t pid;
	struct sink sinks[2]; /* stdout, stderr */
};

static int spawn(const char *const *argv, struct child *c)
{
	int outp[2], errp[2];
	if (pipe2(outp, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		int e = -errno;
		close(outp[0]);
		close(outp[1]);
		return e;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	/* Its own process group, so a time-out kills what it started too. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	int rc = posix_spawnp(&c->pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	if (rc != 0) {
		close(outp[0]);
		close(errp[0]);
		return -rc;
	}
	c->sinks[0] = (struct sink){ outp[0], NULL, 0 };
	c->sinks[1] = (struct sink){ errp[0], NULL, 0 };
	return 0;
}

static void finish(struct child *c, bool timed_out, struct run_result *ret)
{
	for (int i = 0; i < 2; i++)
		if (c->sinks[i].fd >= 0)
			close(c->sinks[i].fd);
	int status = 0;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ret->timed_out = timed_out;
	ret->out = c->sinks[0].buf ? c->sinks[0].buf : strdup("");
	ret->err = c->sinks[1].buf ? c->sinks[1].buf : strdup("");
	for (size_t n = strlen(ret->err); n && (ret->err[n - 1] == '\n' || ret->err[n - 1] == '\r'); n--)
		ret->err[n - 1] = 0;
}

struct watcher {
	void (*fn)(const char *out, void *data);
	void *data;
};

static int run_watched(size_t n, const char *const *const *argvs, unsigned timeout_s, const struct watcher *w,
		       struct run_result *ret)
{
	struct child *c = calloc(n ? n : 1, sizeof(*c));
	struct pollfd *p = calloc(2 * n + 1, sizeof(*p));
	if (!c || !p) {
		free(c);
		free(p);
		return -ENOMEM;
	}
	int r = 0;
	size_t started = 0;
	for (; started < n && r == 0; started++)
		if ((r = spawn(argvs[started], &c[started])) < 0)
			break;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool timed_out = false;
	for (;;) {
		size_t open_fds = 0;
		for (size_t k = 0; k < started; k++)
			for (int i = 0; i < 2; i++) {
				p[2 * k + i] = (struct pollfd){ c[k].sinks[i].fd, POLLIN, 0 };
				open_fds += c[k].sinks[i].fd >= 0;
			}
		if (!open_fds)
			break;
		long left = (long)timeout_s * 1000 - ms_since(&t0);
		/* A tool that could not start makes the others pointless. */
		if (left <= 0 || r < 0) {
			timed_out = r == 0;
			for (size_t k = 0; k < started; k++)
				kill(-c[k].pid, SIGKILL);
			break;
		}
		if (poll(p, 2 * started, (int)left) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < started; k++)
			for (int i = 0; i < 2; i++)
				if (c[k].sinks[i].fd >= 0 && (p[2 * k + i].revents & (POLLIN | POLLHUP | POLLERR))) {
					drain(&c[k].sinks[i]);
					if (w && k == 0 && i == 0 && c[k].sinks[i].buf)
						w->fn(c[k].sinks[i].buf, w->data);
				}
	}
	for (size_t k = 0; k < started; k++) {
		struct run_result res;
		finish(&c[k], timed_out, &res);
		if (r == 0)
			ret[k] = res;
		else
			run_result_free(&res);
	}
	free(c);
	free(p);
	return r;
}

int run_tools(size_t n, const char *const *const *argvs, unsigned timeout_s, struct run_result *ret)
{
	return run_watched(n, argvs, timeout_s, NULL, ret);
}

int run_tool_watched(const char *const *argv, unsigned timeout_s, void (*watch)(const char *out, void *data),
		     void *data, struct run_result *ret)
{
	const char *const *argvs[] = { argv };
	const struct watcher w = { watch, data };
	return run_watched(1, argvs, timeout_s, &w, ret);
}

int run_tool(const char *const *argv, unsigned timeout_s, struct run_result *ret)
{
	const char *const *argvs[] = { argv };
	return run_tools(1, argvs, timeout_s, ret);
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
