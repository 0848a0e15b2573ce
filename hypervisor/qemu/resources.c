/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running domain's memory target (the balloon), online vCPUs (hot-plug
 * of socket k as device "vcpuK"; vCPU 0 stays) and vCPU pinning (each
 * vCPU thread's affinity, as query-cpus-fast names the threads).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "qemu.h"
#include "qmp.h"

#define UNPLUG_TIMEOUT_MS 5000

int qemu_op_domain_set_memory(void *priv, void *arg)
{
	struct xvm_hc_domain_memory *a = arg;
	struct qdom *d;
	struct qmp *q = NULL;
	int r;

	if ((r = qemu_dom_open_locked(priv, a->domid, &d)) < 0)
		return r;
	if (!a->target_kib || a->target_kib > d->cfg.memory_static_max_kib) {
		xvm_hv_set_error("memory target %" PRIu64 " KiB is out of range 1..%" PRIu64 " KiB",
				 a->target_kib, d->cfg.memory_static_max_kib);
		r = -EINVAL;
	} else if ((r = qemu_dom_live(d, &q)) == 0 &&
		   (r = qmp_commandf(q, NULL, "balloon", "{\"value\": %" PRIu64 "}", a->target_kib * 1024)) == 0) {
		d->memory_target_kib = a->target_kib;
		r = qemu_dom_store(d);
	}
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

/* Which sockets (= vCPUs) are plugged in. */
static int plugged(struct qmp *q, bool present[XVM_HC_MAX_VCPUS], uint32_t *count)
{
	struct json_object *cpus, *props, *v;
	int r = qmp_command(q, "query-cpus-fast", NULL, &cpus);

	if (r < 0)
		return r;
	memset(present, 0, XVM_HC_MAX_VCPUS * sizeof *present);
	*count = 0;
	for (size_t i = 0; i < json_object_array_length(cpus); i++) {
		int64_t s;
		if (json_object_object_get_ex(json_object_array_get_idx(cpus, i), "props", &props) &&
		    json_object_object_get_ex(props, "socket-id", &v) && (s = json_object_get_int64(v)) >= 0 &&
		    s < XVM_HC_MAX_VCPUS) {
			present[s] = true;
			++*count;
		}
	}
	json_object_put(cpus);
	return 0;
}

static int plug(const struct qdom *d, struct qmp *q, uint32_t k)
{
	return qmp_commandf(q, NULL, "device_add",
			    "{\"driver\": \"%s\", \"id\": \"vcpu%u\", \"socket-id\": %u, \"core-id\": 0, \"thread-id\": 0}",
			    qemu_cpu_type(d->accel), k, k);
}

/* x86 vCPU removal needs the guest's consent (ACPI eject): wait for it, bounded. */
static int unplug(const struct qdom *d, struct qmp *q, uint32_t k)
{
	char id[32];
	int r;

	snprintf(id, sizeof id, "vcpu%u", k);
	if ((r = qmp_commandf(q, NULL, "device_del", "{\"id\": \"%s\"}", id)) < 0)
		return r;
	r = qmp_wait_event(q, "DEVICE_DELETED", "device", id, UNPLUG_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		xvm_hv_set_error("domain %u: the guest did not release vCPU %u within %d ms "
				 "(a guest without ACPI CPU hot-plug support never does)",
				 d->domid, k, UNPLUG_TIMEOUT_MS);
	return r;
}

int qemu_op_domain_set_vcpus(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_domain_vcpus *a = arg;
	bool present[XVM_HC_MAX_VCPUS];
	struct qdom *d;
	struct qmp *q = NULL;
	uint32_t n;
	int r;

	if ((r = qemu_dom_open_locked(qm, a->domid, &d)) < 0)
		return r;
	if (a->online < 1 || a->online > d->cfg.vcpus_max) {
		xvm_hv_set_error("%u online vCPUs is out of range 1..%u", a->online, d->cfg.vcpus_max);
		r = -EINVAL;
		goto out;
	}
	if ((r = qemu_dom_live(d, &q)) < 0 || (r = plugged(q, present, &n)) < 0)
		goto out;
	for (uint32_t k = 1; k < d->cfg.vcpus_max && n < a->online && r == 0; k++)
		if (!present[k] && (r = plug(d, q, k)) == 0)
			n++;
	for (uint32_t k = d->cfg.vcpus_max - 1; k >= 1 && n > a->online && r == 0; k--)
		if (present[k] && (r = unplug(d, q, k)) == 0)
			n--;
	if (r == 0)
		r = qemu_apply_affinity(qm, d, q);
	if (r == 0) {
		d->cfg.vcpus_online = a->online;
		r = qemu_dom_store(d);
	}
out:
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}

int qemu_op_domain_vcpu_affinity(void *priv, void *arg)
{
	struct qemu *qm = priv;
	struct xvm_hc_vcpu_affinity *a = arg;
	struct qdom *d;
	struct qmp *q = NULL;
	int r;

	if ((r = qemu_dom_open_locked(qm, a->domid, &d)) < 0)
		return r;
	if (a->vcpu >= d->cfg.vcpus_max) {
		xvm_hv_set_error("domain %u has no vcpu %u (it has %u)", a->domid, a->vcpu, d->cfg.vcpus_max);
		r = -EINVAL;
	} else if (a->cpumask & ~qemu_host_cpumask(&qm->host)) {
		xvm_hv_set_error("affinity 0x%" PRIx64 " names CPUs the host (%u CPUs) lacks", a->cpumask,
				 qm->host.cpu_count);
		r = -EINVAL;
	} else if ((r = qemu_dom_live(d, &q)) == 0) {
		/* Kept in the record: a vCPU plugged in later is pinned too. */
		d->cfg.vcpu_affinity[a->vcpu] = a->cpumask;
		if ((r = qemu_apply_affinity(qm, d, q)) == 0)
			r = qemu_dom_store(d);
	}
	qmp_close(q);
	qemu_dom_free(d);
	return r;
}
