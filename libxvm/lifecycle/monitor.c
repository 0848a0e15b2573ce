/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/monitor.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/log.h"
#include "hypercall.h"
#include "lifecycle/reconcile.h"

/* How soon a VM that an operation held is looked at again. */
#define RETRY_MS 20

struct monitor {
	pthread_t thread;
	int hv_fd;   /* the backend's */
	int stop_fd;
};

static void sync_logged(struct engine *e)
{
	if (engine_sync_domains(e) < 0)
		log_error("monitor: %s", xvm_last_error() ? xvm_last_error()->message : "reconciling failed");
}

static void *run(void *arg)
{
	struct engine *e = arg;
	struct monitor *m = e->monitor;
	struct pollfd fds[2] = { { .fd = m->hv_fd, .events = POLLIN }, { .fd = m->stop_fd, .events = POLLIN } };
	for (;;) {
		int n = poll(fds, 2, engine_sync_pending(e) ? RETRY_MS : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		/* The poll inside drains the fd: a change after it wakes us again. */
		if (n == 0 || fds[0].revents)
			sync_logged(e);
	}
	return NULL;
}

int monitor_start(struct engine *e)
{
	struct xvm_hc_event_fd ev = { .head = XVM_HC_HEAD(0) };
	int r = xvm_hypercall(e->hv, XVM_HC_EVENT_FD, &ev);
	if (r < 0)
		return engine_hv_error(e, r, "event fd", NULL);
	struct monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return error_oom();
	m->hv_fd = ev.fd;
	if ((m->stop_fd = eventfd(0, EFD_CLOEXEC)) < 0) {
		free(m);
		return ERR0(XVM_ERR_INTERNAL_ERROR, "monitor: eventfd: %s", strerror(errno));
	}
	/* What guests did while nobody watched, first. */
	if ((r = engine_sync_domains(e)) < 0) {
		close(m->stop_fd);
		free(m);
		return r;
	}
	e->monitor = m;
	if ((r = pthread_create(&m->thread, NULL, run, e)) != 0) {
		e->monitor = NULL;
		close(m->stop_fd);
		free(m);
		return ERR0(XVM_ERR_INTERNAL_ERROR, "monitor: cannot start its thread: %s", strerror(r));
	}
	return 0;
}

void monitor_stop(struct engine *e)
{
	struct monitor *m = e->monitor;
	if (!m)
		return;
	uint64_t one = 1;
	if (write(m->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(m->thread, NULL);
	close(m->stop_fd);
	free(m);
	e->monitor = NULL;
}
