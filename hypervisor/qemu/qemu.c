/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu backend: one QEMU process per domain, real guests (TCG, or KVM
 * where it works). This file holds the op table, HOST_INFO, and open,
 * which re-adopts the domains earlier processes started: a QEMU that is
 * alive and answers QMP runs on (its monitor helper restarted if that
 * died); one that is dead, or alive but mute, is recorded as crashed, so
 * that EVENT_POLL reports it and the caller destroys it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu.h"
#include "qmp.h"

static void adopt(struct qemu *qm, struct qdom *d)
{
	enum xvm_hc_shutdown_reason why;
	uint64_t seq, start;
	struct qmp *q;
	pid_t pid;

	if (qemu_read_stop(d->dir, &why, &seq) || qemu_dom_locked_elsewhere(d))
		return; /* its end is recorded, or someone is busy with it */
	if (!qemu_alive(d, NULL) || qemu_qmp(d, &q) < 0) {
		qemu_note_stop(qm->seq_path, d->dir, XVM_HC_SHUTDOWN_CRASH);
		return;
	}
	qmp_close(q);
	if (qemu_read_pid(d, "monitor.pid", &pid, &start) < 0 || !qemu_pid_alive(pid, start))
		qemu_spawn(qm, d, NULL, NULL);
}

static void adopt_all(struct qemu *qm)
{
	struct qdom *d = qemu_dom_new();
	uint32_t *ids, n;

	if (!d || qemu_dom_list(qm, &ids, &n) < 0) {
		qemu_dom_free(d);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		if (qemu_dom_load(qm, ids[i], d) == 0)
			adopt(qm, d);
	free(ids);
	qemu_dom_free(d);
}

static int qemu_open(const char *state_dir, void **ret)
{
	struct qemu *qm = calloc(1, sizeof *qm);
	int r;

	if (!qm) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	if (strlen(state_dir) >= sizeof qm->state_dir) {
		free(qm);
		xvm_hv_set_error("state dir %s is too long", state_dir);
		return -ENAMETOOLONG;
	}
	strcpy(qm->state_dir, state_dir);
	qm->event_fd = -1;
	if ((r = qemu_rundir_init(qm)) < 0 || (r = qemu_host_probe(state_dir, &qm->host)) < 0) {
		free(qm);
		return r;
	}
	pthread_mutex_init(&qm->lock, NULL);
	adopt_all(qm);
	*ret = qm;
	return 0;
}

static void qemu_close(void *priv)
{
	struct qemu *qm = priv;

	if (qm->event_fd >= 0)
		close(qm->event_fd);
	pthread_mutex_destroy(&qm->lock);
	free(qm);
}

static int host_info(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_host_info *a = arg;
	char bin[PATH_MAX];
	bool have_qemu = qemu_binary(bin) == 0;
	struct xvm_hc_host_info o = {
		.head = a->head,
		.backend = "qemu",
		.cpu_count = qm->host.cpu_count,
		.memory_total_kib = qm->host.memory_total_kib,
		.memory_free_kib = qemu_host_memory_free_kib(),
		.max_vcpus_per_domain = qm->host.max_vcpus,
		.accel = qm->host.accel,
		.hvm_capable = have_qemu,
		.pv_capable = have_qemu,
	};

	memcpy(o.hostname, qm->host.hostname, sizeof o.hostname);
	memcpy(o.cpu_model, qm->host.cpu_model, sizeof o.cpu_model);
	*a = o;
	return 0;
}

const struct xvm_hv_backend xvm_hv_backend_qemu = {
	.name = "qemu",
	.open = qemu_open,
	.close = qemu_close,
	.op = {
		[XVM_HC_HOST_INFO] = host_info,
		[XVM_HC_DOMAIN_CREATE] = qemu_op_domain_create,
		[XVM_HC_DOMAIN_UNPAUSE] = qemu_op_domain_unpause,
		[XVM_HC_DOMAIN_PAUSE] = qemu_op_domain_pause,
		[XVM_HC_DOMAIN_SHUTDOWN] = qemu_op_domain_shutdown,
		[XVM_HC_DOMAIN_DESTROY] = qemu_op_domain_destroy,
		[XVM_HC_DOMAIN_GET_INFO] = qemu_op_domain_get_info,
		[XVM_HC_DOMAIN_LIST] = qemu_op_domain_list,
		[XVM_HC_DOMAIN_SET_MEMORY] = qemu_op_domain_set_memory,
		[XVM_HC_DOMAIN_SET_VCPUS] = qemu_op_domain_set_vcpus,
		[XVM_HC_DOMAIN_VCPU_AFFINITY] = qemu_op_domain_vcpu_affinity,
		[XVM_HC_DEVICE_ATTACH] = qemu_op_device_attach,
		[XVM_HC_DEVICE_DETACH] = qemu_op_device_detach,
		[XVM_HC_MEDIA_CHANGE] = qemu_op_media_change,
		[XVM_HC_DOMAIN_SAVE] = qemu_op_domain_save,
		[XVM_HC_DOMAIN_RESTORE] = qemu_op_domain_restore,
		[XVM_HC_CONSOLE_OPEN] = qemu_op_console_open,
		[XVM_HC_EVENT_FD] = qemu_op_event_fd,
		[XVM_HC_EVENT_POLL] = qemu_op_event_poll,
		[XVM_HC_GUEST_ACTION] = qemu_op_guest_action,
		[XVM_HC_DISK_RESIZE] = qemu_op_disk_resize,
		[XVM_HC_DISK_SNAPSHOT] = qemu_op_disk_snapshot,
		[XVM_HC_DISK_GET_INFO] = qemu_op_disk_get_info,
		[XVM_HC_BRIDGE_RELEASE] = qemu_op_bridge_release,
	},
	.why_not = {
		[XVM_HC_MIGRATE_SEND] = "live migration between hosts is not implemented yet",
		[XVM_HC_MIGRATE_RECEIVE] = "live migration between hosts is not implemented yet",
	},
};
