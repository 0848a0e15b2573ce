/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the simulated guests do on their own, and how callers learn of it.
 * Each guest-made change stamps the slot with the next event sequence
 * number, stored in the shared file; EVENT_POLL reports the domains stamped
 * after since_seq. The event fd is an inotify watch on the table file,
 * which sim_table_note_event() writes to, so it wakes for the changes of
 * every process that opened the state dir, not only this one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sim.h"

void sim_guest_stops(struct sim *sim, struct sim_slot *s, enum xvm_hc_shutdown_reason reason)
{
	s->cpu_time_ns = sim_cpu_time(s, sim_now_ns());
	s->running_since_ns = 0;
	s->state = XVM_HC_STATE_SHUTDOWN;
	s->shutdown_reason = reason;
	sim_table_note_event(sim->table, s);
}

static int guest_action_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_guest_action *a = arg;
	struct sim_slot *s;
	int r;

	if (a->action != XVM_HC_SHUTDOWN_POWEROFF && a->action != XVM_HC_SHUTDOWN_REBOOT &&
	    a->action != XVM_HC_SHUTDOWN_CRASH) {
		xvm_hv_set_error("a guest can power off, reboot or crash, not %d", (int)a->action);
		return -EINVAL;
	}
	r = sim_lookup(sim, a->domid, false, &s);
	if (r < 0)
		return r;
	if (s->state != XVM_HC_STATE_RUNNING) {
		xvm_hv_set_error("domain %u is %s: only a running guest acts", s->domid,
				 sim_state_name(s->state));
		return -EINVAL;
	}
	sim_guest_stops(sim, s, a->action);
	return 0;
}

SIM_LOCKED_OP(sim_op_guest_action, guest_action_locked)

static int event_fd_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_event_fd *a = arg;
	int fd;

	if (sim->event_fd < 0) {
		fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0 || inotify_add_watch(fd, sim_table_path(sim->table), IN_MODIFY) < 0) {
			int r = -errno;
			xvm_hv_set_error("cannot watch %s: %s", sim_table_path(sim->table), strerror(-r));
			if (fd >= 0)
				close(fd);
			return r;
		}
		sim->event_fd = fd;
	}
	a->fd = sim->event_fd;
	return 0;
}

SIM_LOCKED_OP(sim_op_event_fd, event_fd_locked)

/* Emptied before the scan: a change made after it wakes the fd again. */
static void drain(int fd)
{
	char buf[4096];

	if (fd >= 0)
		while (read(fd, buf, sizeof buf) > 0)
			;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

/* Fills up to `capacity` domids; on -ENOBUFS, count is set and seq is not,
 * so the caller retries from the same since_seq with a larger buffer. */
static int event_poll_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_event_poll *a = arg;
	uint32_t cap = sim_table_capacity(sim->table), max = sim_table_count(sim->table);
	uint32_t n = 0, *ids;
	uint64_t seq = sim_table_event_seq(sim->table);

	if (a->capacity && !a->domids) {
		xvm_hv_set_error("event_poll: capacity %u but no buffer", a->capacity);
		return -EFAULT;
	}
	drain(sim->event_fd);
	if (!a->since_seq || a->since_seq >= seq) {
		a->count = 0;
		a->seq = seq;
		return 0;
	}
	ids = malloc((max ? max : 1) * sizeof *ids);
	if (!ids) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap && n < max; i++) {
		const struct sim_slot *s = sim_table_slot(sim->table, i);
		if (s->domid && s->changed_seq > a->since_seq)
			ids[n++] = s->domid;
	}
	qsort(ids, n, sizeof *ids, cmp_u32);
	if (a->capacity)
		memcpy(a->domids, ids, (n < a->capacity ? n : a->capacity) * sizeof *ids);
	free(ids);
	a->count = n;
	if (n > a->capacity) {
		xvm_hv_set_error("%u domains changed; room for %u", n, a->capacity);
		return -ENOBUFS;
	}
	a->seq = seq;
	return 0;
}

SIM_LOCKED_OP(sim_op_event_poll, event_poll_locked)
