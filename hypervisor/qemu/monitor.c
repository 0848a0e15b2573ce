/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvm-qemu-monitor: one per domain, so that what a guest does is noticed
 * while no xvm process runs.
 *
 *   xvm-qemu-monitor RUNDIR SEQFILE [--tpm SWTPM-ARGV...] -- QEMU-ARGV...
 *       starts QEMU as its child (after swtpm, whose control socket it waits for)
 *   xvm-qemu-monitor --adopt RUNDIR SEQFILE           watches a running QEMU
 *
 * It holds QEMU's second QMP monitor (qmp-mon.sock), appends every event to
 * events.jsonl, and records the guest's own stops (poweroff, reboot, panic)
 * in the rundir, bumping the backend's event sequence (events.c). When QEMU
 * ends without having been told to by the host, that is a crash. It exits
 * when QEMU has, after stopping the domain's swtpm, if it is still there.
 * The fds it was given beyond stdio (the domain's taps) it passes to QEMU
 * and closes. Its own messages go to stderr, which is the domain's qemu.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
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

static bool sock_answers(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd;
	bool ok;

	/* The backend checked that the rundir's socket paths fit. */
	if (len >= sizeof a.sun_path)
		return false;
	memcpy(a.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* swtpm stops by itself when QEMU's connection closes; this is for a QEMU that never connected. */
static void stop_swtpm(void)
{
	struct qdom d = { .lock_fd = -1 };
	uint64_t start;
	pid_t pid;

	snprintf(d.dir, sizeof d.dir, "%s", dir);
	if (qemu_read_pid(&d, "swtpm.pid", &pid, &start) < 0)
		return;
	for (int i = 0; qemu_pid_alive(pid, start); i++) {
		if (i == 0)
			kill(pid, SIGTERM);
		else if (i == QEMU_STOP_TIMEOUT_MS / 10)
			kill(pid, SIGKILL);
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	waitpid(pid, NULL, WNOHANG);
}

/* swtpm's own words go to its log; the start-up error QEMU's log shows needs them. */
static void copy_swtpm_log(void)
{
	char p[PATH_MAX], buf[1024];
	int fd;
	ssize_t n;
	off_t end;

	snprintf(p, sizeof p, "%s/swtpm.log", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	lseek(fd, end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0, SEEK_SET);
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n > 0)
		fprintf(stderr, "swtpm: %.*s", (int)n, buf);
}

/* Starts swtpm and waits until its control socket answers, or it ends, or the time is up. */
static int start_swtpm(char **targv)
{
	char sock[PATH_MAX];
	pid_t pid = fork();

	if (pid == 0) {
		/* The taps are for QEMU: swtpm holding one would keep it past QEMU. */
		close_range(3, ~0u, 0);
		execv(targv[0], targv);
		say("cannot run %s", targv[0]);
		_exit(127);
	}
	if (pid < 0) {
		say("cannot fork: %s", strerror(errno));
		return -1;
	}
	write_pidfile("swtpm.pid", pid);
	snprintf(sock, sizeof sock, "%s/swtpm.sock", dir);
	for (int waited = 0; waited < QEMU_SWTPM_TIMEOUT_MS; waited += 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			say("swtpm ended at start-up (its log: %s/swtpm.log)", dir);
			copy_swtpm_log();
			return -1;
		}
		if (sock_answers(sock))
			return 0;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	say("swtpm did not open its control socket in time (its log: %s/swtpm.log)", dir);
	copy_swtpm_log();
	stop_swtpm();
	return -1;
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
	int pidfd, status, qarg = 4;

	/* --tpm SWTPM-ARGV... runs up to the "--" before QEMU's argv. */
	if (!adopt && argc > 4 && !strcmp(argv[3], "--tpm"))
		for (qarg = 4; qarg < argc && strcmp(argv[qarg - 1], "--"); qarg++)
			;
	if (!adopt && (qarg >= argc || strcmp(argv[qarg - 1], "--") || qarg == 5)) {
		fprintf(stderr, "usage: xvm-qemu-monitor RUNDIR SEQFILE [--tpm SWTPM-ARGV...] -- QEMU-ARGV...\n"
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
		if (qarg > 4) {
			argv[qarg - 1] = NULL;
			if (start_swtpm(argv + 4) < 0) {
				record_exit("not started: no TPM");
				return 1;
			}
		}
		pid = fork();
		if (pid == 0) {
			execv(argv[qarg], argv + qarg);
			say("cannot run %s", argv[qarg]);
			_exit(127);
		}
		if (pid < 0) {
			say("cannot fork: %s", strerror(errno));
			stop_swtpm();
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
	stop_swtpm();
	record_exit(how);
	if (!host_stopped)
		note(XVM_HC_SHUTDOWN_CRASH);
	return 0;
}
