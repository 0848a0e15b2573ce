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

int run_tool(const char *const *argv, unsigned timeout_s, struct run_result *ret)
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
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	if (rc != 0) {
		close(outp[0]);
		close(errp[0]);
		return -rc;
	}

	struct sink sinks[2] = { { outp[0], NULL, 0 }, { errp[0], NULL, 0 } };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool timed_out = false;
	while (sinks[0].fd >= 0 || sinks[1].fd >= 0) {
		struct pollfd p[2] = { { sinks[0].fd, POLLIN, 0 }, { sinks[1].fd, POLLIN, 0 } };
		long left = (long)timeout_s * 1000 - ms_since(&t0);
		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++)
			if (sinks[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(&sinks[i]);
	}
	for (int i = 0; i < 2; i++)
		if (sinks[i].fd >= 0)
			close(sinks[i].fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ret->timed_out = timed_out;
	ret->out = sinks[0].buf ? sinks[0].buf : strdup("");
	ret->err = sinks[1].buf ? sinks[1].buf : strdup("");
	for (size_t n = strlen(ret->err); n && (ret->err[n - 1] == '\n' || ret->err[n - 1] == '\r'); n--)
		ret->err[n - 1] = 0;
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
