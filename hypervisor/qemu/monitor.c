/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm-qemu-monitor: one per domain, so that what a guest does is noticed
 * while no xvm process runs.
 *
 *   xvm-qemu-monitor RUNDIR SEQFILE -- QEMU-ARGV...   starts QEMU as its child
 *   xvm-qemu-monitor --adopt RUNDIR SEQFILE           watches a running QEMU
 *
 * It holds QEMU's second QMP monitor (qmp-mon.sock), appends every event to
 * events.jsonl, and records the guest's own stops (poweroff, reboot, panic)
 * in the rundir, bumping the backend's event sequence (events.c). When QEMU
 * ends without having been told to by the host, that is a crash. It exits
 * when QEMU has. The fds it was given beyond stdio (the domain's taps) it
 * passes to QEMU and closes. Its own messages go to stderr, which is the domain's qemu.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

#define EVENTS_MAX_BYTES (1024 * 1024)

static const char *dir, *seq_path;
static bool host_stopped; /* QEMU was told to quit: its end is no event */

static void say(const char *fmt, const char *arg)
{
	fprintf(stderr, "xvm-qemu-monitor: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static bool destroying(void)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/destroying", dir);
	return access(p, F_OK) == 0;
}

static void write_pidfile(const char *name, pid_t pid)
{
	char p[PATH_MAX], tmp[PATH_MAX];
	uint64_t start = 0;
	FILE *f;

	qemu_pid_starttime(pid, &start);
	snprintf(p, sizeof p, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d %llu\n", (int)pid, (unsigned long long)start) < 0 || fclose(f) != 0 ||
	    rename(tmp, p) < 0)
		say("cannot write %s", p);
}

static void note(enum xvm_hc_shutdown_reason why)
{
	if (!destroying() && qemu_note_stop(seq_path, dir, why) < 0)
		say("%s", xvm_hv_last_error(NULL));
}

static void keep(struct json_object *ev)
{
	char p[PATH_MAX];
	struct stat st;
	FILE *f;

	snprintf(p, sizeof p, "%s/events.jsonl", dir);
	if (stat(p, &st) == 0 && st.st_size > EVENTS_MAX_BYTES)
		return;
	f = fopen(p, "ae");
	if (f) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		fclose(f);
	}
}

static void handle(struct json_object *ev)
{
	struct json_object *name, *data, *v;
	const char *n, *reason;

	keep(ev);
	if (!json_object_object_get_ex(ev, "event", &name))
		return;
	n = json_object_get_string(name);
	json_object_object_get_ex(ev, "data", &data);
	if (!strcmp(n, "SHUTDOWN")) {
		reason = data && json_object_object_get_ex(data, "reason", &v) ? json_object_get_string(v) : "";
		if (!strcmp(reason, "guest-shutdown"))
			note(XVM_HC_SHUTDOWN_POWEROFF);
		else if (!strcmp(reason, "guest-reset"))
			note(XVM_HC_SHUTDOWN_REBOOT);
		else if (!strcmp(reason, "guest-panic"))
			note(XVM_HC_SHUTDOWN_CRASH);
		else
			host_stopped = true;
	} else if (!strcmp(n, "GUEST_PANICKED") || !strcmp(n, "GUEST_CRASHLOADED")) {
		note(XVM_HC_SHUTDOWN_CRASH);
	}
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/* QEMU opens its sockets a moment after it starts: retry until it answers or ends. */
static struct qmp *attach(int pidfd)
{
	char p[PATH_MAX];
	struct qmp *q;

	snprintf(p, sizeof p, "%s/qmp-mon.sock", dir);
	while (!readable(pidfd, 0)) {
		if (qmp_connect(p, QMP_TIMEOUT_MS, &q) == 0)
			return q;
		readable(pidfd, 20);
	}
	return NULL;
}

static void record_exit(const char *how)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof p, "%s/exit", dir);
	f = fopen(p, "we");
	if (f) {
		fprintf(f, "%s\n", how);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	bool adopt = argc == 4 && !strcmp(argv[1], "--adopt");
	struct json_object *ev;
	struct qmp *q = NULL;
	char how[64] = "ended";
	uint64_t start;
	pid_t pid;
	int pidfd, status;

	if (!adopt && (argc < 5 || strcmp(argv[3], "--"))) {
		fprintf(stderr, "usage: xvm-qemu-monitor RUNDIR SEQFILE -- QEMU-ARGV...\n"
				"       xvm-qemu-monitor --adopt RUNDIR SEQFILE\n");
		return 2;
	}
	dir = argv[adopt ? 2 : 1];
	seq_path = argv[adopt ? 3 : 2];
	write_pidfile("monitor.pid", getpid());
	if (adopt) {
		struct qdom d = { .lock_fd = -1 };
		snprintf(d.dir, sizeof d.dir, "%s", dir);
		if (qemu_read_pid(&d, "qemu.pid", &pid, &start) < 0 || !qemu_pid_alive(pid, start)) {
			say("%s: no live QEMU to adopt", dir);
			note(XVM_HC_SHUTDOWN_CRASH);
			return 1;
		}
	} else {
		pid = fork();
		if (pid == 0) {
			execv(argv[4], argv + 4);
			say("cannot run %s", argv[4]);
			_exit(127);
		}
		if (pid < 0) {
			say("cannot fork: %s", strerror(errno));
			record_exit("not started");
			return 1;
		}
		/* QEMU's taps are QEMU's alone: they must go when it does. */
		close_range(3, ~0u, 0);
		write_pidfile("qemu.pid", pid);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		say("pidfd_open: %s", strerror(errno));
		return 1;
	}
	q = attach(pidfd);
	while (q) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = qmp_fd(q), .events = POLLIN } };
		int r;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		/* Events first: a SHUTDOWN is read before the death it explains. */
		while ((r = qmp_next_event(q, 0, &ev)) == 0) {
			handle(ev);
			json_object_put(ev);
		}
		if (r != -ETIMEDOUT)
			q = qmp_close(q); /* closed or garbled: the pidfd says the rest */
		if (p[0].revents)
			break;
	}
	q = qmp_close(q);
	while (!readable(pidfd, -1))
		;
	if (!adopt && waitpid(pid, &status, 0) == pid) {
		if (WIFSIGNALED(status))
			snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
		else
			snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
	}
	record_exit(how);
	if (!host_stopped)
		note(XVM_HC_SHUTDOWN_CRASH);
	return 0;
}
