/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes behind a domain: the monitor helper, started detached
 * (double fork, new session, stdin /dev/null, stdout and stderr to the
 * domain's qemu.log) so that it and the QEMU it starts outlive us; waiting
 * for QEMU to answer; telling a live QEMU from a dead one (or from another
 * process that got its pid); and stopping them both.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

/* Fields 3 (state) and 22 (start time) of /proc/PID/stat; the name may hold spaces. */
static int proc_stat(pid_t pid, char *state, unsigned long long *utime, unsigned long long *stime,
		     uint64_t *start)
{
	char p[64], buf[1024], *s;
	unsigned long long ut, st, t;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
			 state, &ut, &st, &t) != 4)
		return -EIO;
	if (utime)
		*utime = ut;
	if (stime)
		*stime = st;
	if (start)
		*start = t;
	return 0;
}

int qemu_pid_starttime(pid_t pid, uint64_t *ret)
{
	char state;

	return proc_stat(pid, &state, NULL, NULL, ret);
}

bool qemu_pid_alive(pid_t pid, uint64_t start)
{
	uint64_t t;
	char state;

	if (pid <= 0 || proc_stat(pid, &state, NULL, NULL, &t) < 0)
		return false;
	/* A zombie is dead: our reaper may be a PID 1 that does not reap. */
	return state != 'Z' && state != 'X' && t == start;
}

int qemu_read_pid(const struct qdom *d, const char *name, pid_t *pid, uint64_t *start)
{
	char p[PATH_MAX];
	long long v;
	unsigned long long t;
	FILE *f = fopen(qemu_path(p, d, name), "re");
	int n;

	if (!f)
		return -ENOENT;
	n = fscanf(f, "%lld %llu", &v, &t);
	fclose(f);
	if (n != 2 || v <= 0 || v > INT32_MAX)
		return -ENOENT;
	*pid = (pid_t)v;
	*start = t;
	return 0;
}

bool qemu_alive(const struct qdom *d, pid_t *pid)
{
	uint64_t start;
	pid_t p;

	if (qemu_read_pid(d, "qemu.pid", &p, &start) < 0 || !qemu_pid_alive(p, start))
		return false;
	if (pid)
		*pid = p;
	return true;
}

uint64_t qemu_cpu_time_ns(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	long hz = sysconf(_SC_CLK_TCK);
	char state;

	if (proc_stat(pid, &state, &ut, &st, NULL) < 0 || hz <= 0)
		return 0;
	return (uint64_t)(ut + st) * (1000000000ull / (uint64_t)hz);
}

void qemu_log_tail(const struct qdom *d, char *buf, size_t size)
{
	char p[PATH_MAX], raw[1536];
	int fd = open(qemu_path(p, d, "qemu.log"), O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n = 0;
	size_t k = 0;

	if (fd >= 0) {
		end = lseek(fd, 0, SEEK_END);
		if (end > (off_t)sizeof raw)
			lseek(fd, end - (off_t)sizeof raw, SEEK_SET);
		else
			lseek(fd, 0, SEEK_SET);
		n = read(fd, raw, sizeof raw);
		close(fd);
	}
	/* QEMU's words, made safe for a one-line detail. */
	for (ssize_t i = 0; i < n && k + 3 < size; i++) {
		unsigned char c = raw[i];
		if (c == '\n') {
			if (k && i + 1 < n) {
				buf[k++] = ' ';
				buf[k++] = '|';
				buf[k++] = ' ';
			}
		} else {
			buf[k++] = c >= 0x20 && c < 0x7f ? c : '?';
		}
	}
	if (!k)
		k = snprintf(buf, size, "(nothing on its stderr)");
	buf[k < size ? k : size - 1] = '\0';
}

int qemu_spawn(struct qemu *qm, const struct qdom *d, char *const tpm_argv[], char *const argv[])
{
	char mon[PATH_MAX], logp[PATH_MAX], tail[1024];
	int pfd[2], logfd, nullfd, r, child_err = 0;
	size_t argc = 0, tpm_argc = 0, k;
	char **margv;
	pid_t pid, monpid = 0;
	ssize_t n;

	if ((r = qemu_monitor_binary(mon)) < 0)
		return r;
	while (argv && argv[argc])
		argc++;
	while (argv && tpm_argv && tpm_argv[tpm_argc])
		tpm_argc++;
	margv = calloc(argc + tpm_argc + 6, sizeof *margv);
	if (!margv) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	margv[0] = mon;
	if (argv) {
		margv[1] = (char *)d->dir;
		margv[2] = qm->seq_path;
		k = 3;
		if (tpm_argc) {
			margv[k++] = "--tpm";
			memcpy(margv + k, tpm_argv, tpm_argc * sizeof *tpm_argv);
			k += tpm_argc;
		}
		margv[k++] = "--";
		memcpy(margv + k, argv, argc * sizeof *argv);
	} else {
		margv[1] = "--adopt";
		margv[2] = (char *)d->dir;
		margv[3] = qm->seq_path;
	}
	/* A new QEMU gets a fresh log; an adopted one keeps appending to its own. */
	logfd = open(qemu_path(logp, d, "qemu.log"),
		     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (argv ? O_TRUNC : 0), 0600);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		xvm_hv_set_error("cannot prepare to start QEMU: %s", strerror(-r));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here on: the parent may be threaded. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t none;
		pid_t gc;

		setsid();
		gc = fork();
		if (gc != 0) {
			if (gc > 0)
				(void)!write(pfd[1], &gc, sizeof gc);
			_exit(gc < 0);
		}
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		/* Everything else closes at exec; pfd[1] tells the parent if exec failed. */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		/* But the taps, which QEMU's command line names by number. */
		for (int i = 0; i < XVM_HC_MAX_NICS; i++)
			if (d->tap_fds[i] >= 0)
				fcntl(d->tap_fds[i], F_SETFD, 0);
		execv(mon, margv);
		r = errno;
		(void)!write(pfd[1], &r, sizeof r);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		xvm_hv_set_error("cannot fork: %s", strerror(-r));
		goto out;
	}
	waitpid(pid, NULL, 0);
	n = read(pfd[0], &monpid, sizeof monpid);
	if (n == sizeof monpid && read(pfd[0], &child_err, sizeof child_err) == sizeof child_err) {
		r = -child_err;
		xvm_hv_set_error("cannot run the monitor helper %s: %s", mon, strerror(child_err));
	} else if (n != sizeof monpid) {
		qemu_log_tail(d, tail, sizeof tail);
		xvm_hv_set_error("cannot start the monitor helper %s: %s", mon, tail);
		r = -EIO;
	}
	close(pfd[0]);
out:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	free(margv);
	return r;
}

int qemu_qmp(const struct qdom *d, struct qmp **ret)
{
	char p[PATH_MAX];

	return qmp_connect(qemu_path(p, d, "qmp.sock"), QMP_TIMEOUT_MS, ret);
}

static bool exists(const struct qdom *d, const char *name)
{
	char p[PATH_MAX];

	return access(qemu_path(p, d, name), F_OK) == 0;
}

static int exited(const struct qdom *d)
{
	char tail[1536], how[64] = "", p[PATH_MAX];
	FILE *f = fopen(qemu_path(p, d, "exit"), "re");

	if (f) {
		if (!fgets(how, sizeof how, f))
			how[0] = '\0';
		how[strcspn(how, "\n")] = '\0';
		fclose(f);
	}
	qemu_log_tail(d, tail, sizeof tail);
	xvm_hv_set_error("QEMU exited at start-up (%s): %s", how, tail);
	return -EIO;
}

int qemu_startup_failure(const struct qdom *d, int r)
{
	/* The monitor writes `exit` a moment after QEMU is gone. */
	for (int i = 0; i < 50 && !qemu_alive(d, NULL); i++) {
		if (exists(d, "exit"))
			return exited(d);
		sleep_ms(10);
	}
	return r;
}

int qemu_wait_ready(const struct qdom *d, int timeout_ms, struct qmp **ret)
{
	char tail[1536];
	uint64_t start;
	pid_t mpid;
	int r;

	for (int waited = 0;; waited += 10) {
		if (exists(d, "exit"))
			return exited(d);
		r = qemu_qmp(d, ret);
		if (r == 0)
			return 0;
		/* Not up yet, or dying: the next round tells which. */
		if (r != -ENOENT && r != -ECONNREFUSED && r != -ECONNRESET && r != -EPIPE)
			return r;
		if (qemu_read_pid(d, "monitor.pid", &mpid, &start) == 0 && !qemu_pid_alive(mpid, start) &&
		    !exists(d, "exit")) {
			qemu_log_tail(d, tail, sizeof tail);
			xvm_hv_set_error("the monitor helper died while QEMU started: %s", tail);
			return -EIO;
		}
		if (waited >= timeout_ms) {
			qemu_log_tail(d, tail, sizeof tail);
			xvm_hv_set_error("QEMU did not open its QMP socket within %d ms: %s", timeout_ms, tail);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
}

/* Waits up to ms for the process of pid file `name` to end. */
static bool wait_gone(const struct qdom *d, const char *name, int ms)
{
	uint64_t start;
	pid_t pid;

	if (qemu_read_pid(d, name, &pid, &start) < 0)
		return true;
	for (int waited = 0; qemu_pid_alive(pid, start); waited += 10) {
		if (waited >= ms)
			return false;
		sleep_ms(10);
	}
	return true;
}

static void kill_pidfile(const struct qdom *d, const char *name)
{
	uint64_t start;
	pid_t pid;

	if (qemu_read_pid(d, name, &pid, &start) == 0 && qemu_pid_alive(pid, start))
		kill(pid, SIGKILL);
}

void qemu_stop(const struct qdom *d, bool gently)
{
	struct qmp *q;

	if (gently && qemu_alive(d, NULL) && qemu_qmp(d, &q) == 0) {
		qmp_command(q, "quit", NULL, NULL);
		qmp_close(q);
	}
	if (!wait_gone(d, "qemu.pid", gently ? QEMU_STOP_TIMEOUT_MS : 0)) {
		kill_pidfile(d, "qemu.pid");
		wait_gone(d, "qemu.pid", QEMU_STOP_TIMEOUT_MS);
	}
	/* The monitor leaves when its QEMU has; one that does not is killed. */
	if (!wait_gone(d, "monitor.pid", QEMU_STOP_TIMEOUT_MS)) {
		kill_pidfile(d, "monitor.pid");
		wait_gone(d, "monitor.pid", QEMU_STOP_TIMEOUT_MS);
	}
	/* swtpm ends with QEMU's connection, and its monitor stops it; one whose monitor was killed is stopped here. */
	if (!wait_gone(d, "swtpm.pid", QEMU_STOP_TIMEOUT_MS)) {
		kill_pidfile(d, "swtpm.pid");
		wait_gone(d, "swtpm.pid", QEMU_STOP_TIMEOUT_MS);
	}
}
