/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What guests do on their own, and how callers learn of it, across
 * processes. A domain's stop (poweroff, reboot, crash, QEMU dying) is
 * recorded in its rundir's `stop` file as "REASON SEQ" and the backend's
 * event sequence, a u64 in run/qemu/event-seq, is bumped, both under an
 * flock of that file. The monitor helper does this when no xvm process is
 * running; the file survives processes, so the sequence never goes back.
 * The stop is written before the sequence: a poller that sees the new
 * sequence finds the stop. The event fd is an inotify watch on the sequence
 * file, which every bump writes to.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

static const char *const reason_names[] = {
	[XVM_HC_SHUTDOWN_POWEROFF] = "poweroff",
	[XVM_HC_SHUTDOWN_REBOOT] = "reboot",
	[XVM_HC_SHUTDOWN_SUSPEND] = "suspend",
	[XVM_HC_SHUTDOWN_CRASH] = "crash",
};

const char *qemu_reason_name(enum xvm_hc_shutdown_reason r)
{
	return (unsigned)r < 4 ? reason_names[r] : "crash";
}

static int open_seq(const char *seq_path, int op)
{
	int fd = open(seq_path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || flock(fd, op) < 0) {
		int r = -errno;
		xvm_hv_set_error("cannot lock %s: %s", seq_path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

static uint64_t read_seq(int fd)
{
	uint64_t seq = 0;

	if (pread(fd, &seq, sizeof seq, 0) != sizeof seq)
		seq = 0;
	return seq;
}

int qemu_seq_init(const char *seq_path)
{
	/* Starts at 1: a seq of 0 means "now" to EVENT_POLL. */
	uint64_t one = 1;
	int fd = open(seq_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0 || pwrite(fd, &one, sizeof one, 0) != sizeof one) {
		int r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot create %s: %s", seq_path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int qemu_read_stop(const char *dir, enum xvm_hc_shutdown_reason *reason, uint64_t *seq)
{
	char p[PATH_MAX], name[16];
	unsigned long long s;
	FILE *f;
	int n;

	snprintf(p, sizeof p, "%s/stop", dir);
	f = fopen(p, "re");
	if (!f)
		return 0;
	n = fscanf(f, "%15s %llu", name, &s);
	fclose(f);
	if (n != 2)
		return 0;
	*reason = XVM_HC_SHUTDOWN_CRASH;
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, reason_names[i]))
			*reason = i;
	*seq = s;
	return 1;
}

int qemu_note_stop(const char *seq_path, const char *dir, enum xvm_hc_shutdown_reason reason)
{
	enum xvm_hc_shutdown_reason old;
	char p[PATH_MAX], tmp[PATH_MAX];
	uint64_t seq, old_seq;
	FILE *f;
	int fd = open_seq(seq_path, LOCK_EX), r = 0;

	if (fd < 0)
		return fd;
	if (qemu_read_stop(dir, &old, &old_seq))
		goto out; /* the first stop is the one that counts */
	seq = read_seq(fd) + 1;
	snprintf(p, sizeof p, "%s/stop", dir);
	snprintf(tmp, sizeof tmp, "%s/stop.tmp", dir);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s %llu\n", qemu_reason_name(reason), (unsigned long long)seq) < 0 ||
	    fclose(f) != 0 || rename(tmp, p) < 0) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot record the stop of %s: %s", dir, strerror(-r));
		goto out;
	}
	/* A write(), not a store to a mapping: it raises inotify's IN_MODIFY. */
	if (pwrite(fd, &seq, sizeof seq, 0) != sizeof seq) {
		r = errno ? -errno : -EIO;
		xvm_hv_set_error("cannot write %s: %s", seq_path, strerror(-r));
	}
out:
	close(fd);
	return r;
}

int qemu_op_event_fd(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_event_fd *a = arg;
	int r = 0;

	pthread_mutex_lock(&qm->lock);
	if (qm->event_fd < 0) {
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0 || inotify_add_watch(fd, qm->seq_path, IN_MODIFY) < 0) {
			r = -errno;
			xvm_hv_set_error("cannot watch %s: %s", qm->seq_path, strerror(-r));
			if (fd >= 0)
				close(fd);
		} else {
			qm->event_fd = fd;
		}
	}
	if (r == 0)
		a->fd = qm->event_fd;
	pthread_mutex_unlock(&qm->lock);
	return r;
}

/* Emptied before the scan: a change made after it wakes the fd again. */
static void drain(struct qemu *qm)
{
	char buf[4096];

	pthread_mutex_lock(&qm->lock);
	if (qm->event_fd >= 0)
		while (read(qm->event_fd, buf, sizeof buf) > 0)
			;
	pthread_mutex_unlock(&qm->lock);
}

int qemu_op_event_poll(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_event_poll *a = arg;
	uint32_t *ids, n, k = 0;
	uint64_t seq;
	int fd, r;

	if (a->capacity && !a->domids) {
		xvm_hv_set_error("event_poll: capacity %u but no buffer", a->capacity);
		return -EFAULT;
	}
	drain(qm);
	if ((fd = open_seq(qm->seq_path, LOCK_SH)) < 0)
		return fd;
	seq = read_seq(fd);
	close(fd);
	if (!a->since_seq || a->since_seq >= seq) {
		a->count = 0;
		a->seq = seq;
		return 0;
	}
	if ((r = qemu_dom_list(qm, &ids, &n)) < 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		enum xvm_hc_shutdown_reason why;
		char dir[PATH_MAX];
		uint64_t s;
		snprintf(dir, sizeof dir, "%s/%u", qm->run_dir, ids[i]);
		if (qemu_read_stop(dir, &why, &s) && s > a->since_seq && s <= seq)
			ids[k++] = ids[i];
	}
	if (a->capacity && k)
		memcpy(a->domids, ids, (k < a->capacity ? k : a->capacity) * sizeof *ids);
	free(ids);
	a->count = k;
	if (k > a->capacity) {
		xvm_hv_set_error("%u domains changed; room for %u", k, a->capacity);
		return -ENOBUFS;
	}
	a->seq = seq;
	return 0;
}

/* Only a crash can be made from outside: a real guest decides to power off or reboot. */
int qemu_op_guest_action(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_guest_action *a = arg;
	enum xvm_hc_shutdown_reason why;
	struct json_object *st = NULL, *v;
	struct qdom *d = NULL;
	struct qmp *q = NULL;
	uint64_t seq;
	pid_t pid;
	int r;

	if (a->action == XVM_HC_SHUTDOWN_POWEROFF || a->action == XVM_HC_SHUTDOWN_REBOOT) {
		xvm_hv_set_error("a real guest powers off or reboots when it decides to; "
				 "the qemu backend can only make it crash");
		return -EOPNOTSUPP;
	}
	if (a->action != XVM_HC_SHUTDOWN_CRASH) {
		xvm_hv_set_error("a guest can power off, reboot or crash, not %d", (int)a->action);
		return -EINVAL;
	}
	if ((r = qemu_dom_open_locked(qm, a->domid, &d)) < 0)
		return r;
	if ((r = qemu_dom_live(d, &q)) < 0)
		goto out;
	if ((r = qmp_command(q, "query-status", NULL, &st)) < 0)
		goto out;
	if (!json_object_object_get_ex(st, "status", &v) || strcmp(json_object_get_string(v), "running")) {
		xvm_hv_set_error("domain %u is not running: only a running guest acts", d->domid);
		r = -EINVAL;
		goto out;
	}
	q = qmp_close(q);
	if (!qemu_alive(d, &pid) || kill(pid, SIGKILL) < 0) {
		xvm_hv_set_error("domain %u: its QEMU is gone already", d->domid);
		r = -ESRCH;
		goto out;
	}
	/* The monitor records the death; wait for it so the caller's next poll sees it. */
	for (int i = 0; i < 500 && !qemu_read_stop(d->dir, &why, &seq); i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
out:
	json_object_put(st);
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}
