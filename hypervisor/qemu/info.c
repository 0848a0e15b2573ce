/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GET_INFO and LIST. The run state comes from QEMU itself (query-status),
 * the reason of a stop from what the monitor recorded. A domain whose QEMU
 * is gone reads as SHUTDOWN with reason CRASH, never as missing: the
 * domain stays until it is destroyed, as a crashed Xen domain does.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qemu.h"
#include "qmp.h"

/* The stop the monitor records a moment after QEMU stops. */
static bool wait_stop(const struct qdom *d, enum xvm_hc_shutdown_reason *why)
{
	uint64_t seq;

	for (int i = 0; i < 200; i++) {
		if (qemu_read_stop(d->dir, why, &seq))
			return true;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return false;
}

static void from_status(struct qemu *qm, const struct qdom *d, const char *status, struct xvm_hc_domain_info *o)
{
	bool crashed = !strcmp(status, "guest-panicked") || !strcmp(status, "internal-error");
	enum xvm_hc_shutdown_reason why;

	if (!strcmp(status, "running")) {
		o->state = XVM_HC_STATE_RUNNING;
	} else if (crashed || !strcmp(status, "shutdown")) {
		o->state = XVM_HC_STATE_SHUTDOWN;
		if (!wait_stop(d, &why)) {
			/* No monitor recorded it (it died): record it so that EVENT_POLL tells too. */
			why = crashed ? XVM_HC_SHUTDOWN_CRASH : XVM_HC_SHUTDOWN_POWEROFF;
			qemu_note_stop(qm->seq_path, d->dir, why);
		}
		o->shutdown_reason = why;
	} else {
		o->state = XVM_HC_STATE_PAUSED; /* prelaunch, paused, inmigrate, postmigrate, ... */
	}
}

static void from_qemu(struct qmp *q, struct xvm_hc_domain_info *o)
{
	struct json_object *v, *x;

	if (qmp_command(q, "query-balloon", NULL, &v) == 0) {
		if (json_object_object_get_ex(v, "actual", &x))
			o->memory_actual_kib = (uint64_t)json_object_get_int64(x) / 1024;
		json_object_put(v);
	}
	if (qmp_command(q, "query-cpus-fast", NULL, &v) == 0) {
		o->vcpus_online = (uint32_t)json_object_array_length(v);
		json_object_put(v);
	}
}

static int fill_info(struct qemu *qm, const struct qdom *d, struct xvm_hc_domain_info *o)
{
	enum xvm_hc_shutdown_reason why;
	char status[32];
	struct json_object *st, *v;
	struct qmp *q;
	uint64_t seq;
	pid_t pid = 0;
	int r;

	o->domid = d->domid;
	memcpy(o->uuid, d->cfg.uuid, sizeof o->uuid);
	o->vcpus_max = d->cfg.vcpus_max;
	o->vcpus_online = d->cfg.vcpus_online;
	o->memory_static_max_kib = d->cfg.memory_static_max_kib;
	o->memory_target_kib = d->memory_target_kib;
	o->memory_actual_kib = d->memory_target_kib;
	o->start_time = d->start_time;
	o->cpu_time_ns = 0;
	o->pid = 0;
	o->vtpm = *d->cfg.vtpm_dir;
	o->shutdown_reason = XVM_HC_SHUTDOWN_POWEROFF;
	if (qemu_alive(d, &pid)) {
		o->pid = pid;
		o->cpu_time_ns = qemu_cpu_time_ns(pid);
	}
	if (qemu_read_stop(d->dir, &why, &seq)) {
		o->state = XVM_HC_STATE_SHUTDOWN;
		o->shutdown_reason = why;
		return 0;
	}
	if (!pid) {
		uint64_t start;
		/* No QEMU: one being started (its creator holds the lock), or one that died. */
		if (qemu_read_pid(d, "qemu.pid", &pid, &start) < 0 && qemu_dom_locked_elsewhere(d)) {
			o->state = XVM_HC_STATE_PAUSED;
		} else {
			o->state = XVM_HC_STATE_SHUTDOWN;
			o->shutdown_reason = XVM_HC_SHUTDOWN_CRASH;
		}
		return 0;
	}
	if ((r = qemu_qmp(d, &q)) < 0) {
		if (qemu_alive(d, NULL))
			return r;
		o->state = XVM_HC_STATE_SHUTDOWN; /* it died as we asked */
		o->shutdown_reason = XVM_HC_SHUTDOWN_CRASH;
		return 0;
	}
	r = qmp_command(q, "query-status", NULL, &st);
	if (r == 0) {
		snprintf(status, sizeof status, "%s",
			 json_object_object_get_ex(st, "status", &v) ? json_object_get_string(v) : "");
		json_object_put(st);
		from_status(qm, d, status, o);
		from_qemu(q, o);
	}
	qmp_close(q);
	return r;
}

int qemu_op_domain_get_info(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain_info *a = arg, o = { .head = a->head };
	uint32_t domid = a->domid;
	struct qdom *d;
	int r;

	if ((a->head.flags & XVM_HC_F_INFO_BY_UUID) && (r = qemu_dom_find_uuid(qm, a->uuid, &domid)) < 0)
		return r;
	if (!(d = qemu_dom_new()))
		return -ENOMEM;
	r = qemu_dom_load(qm, domid, d);
	if (r == 0)
		r = fill_info(qm, d, &o);
	qemu_dom_free(d);
	if (r == 0)
		*a = o;
	return r;
}

int qemu_op_domain_list(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain_list *a = arg;
	struct qdom *d;
	uint32_t *ids, n, k = 0;
	int r;

	if (a->capacity && !a->domains) {
		xvm_hv_set_error("domain_list: capacity %u but no buffer", a->capacity);
		return -EFAULT;
	}
	if ((r = qemu_dom_list(qm, &ids, &n)) < 0)
		return r;
	if (!(d = qemu_dom_new())) {
		free(ids);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && r == 0; i++) {
		struct xvm_hc_domain_info o = { .head = XVM_HC_HEAD(0) };
		r = qemu_dom_load(qm, ids[i], d);
		if (r == 0)
			r = fill_info(qm, d, &o);
		if (r == -ESRCH) {
			r = 0; /* destroyed meanwhile */
			continue;
		}
		if (r == 0 && k < a->capacity)
			a->domains[k] = o;
		k += r == 0;
	}
	qemu_dom_free(d);
	free(ids);
	if (r < 0)
		return r;
	a->count = k;
	if (k > a->capacity) {
		xvm_hv_set_error("%u domains; room for %u", k, a->capacity);
		return -ENOBUFS;
	}
	return 0;
}
