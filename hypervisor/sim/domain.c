/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim's domain lifecycle: create, pause/unpause, shutdown requests,
 * destroy, info, list and the runtime memory/vCPU settings. The simulated
 * guest cooperates at once when it runs; a paused one cannot, so a shutdown
 * request waits for the unpause.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "sim.h"

int sim_op_domain_create(void *priv, void *arg)
{
	struct sim *sim = priv;
	struct xvm_hc_domain_create *a = arg;
	struct sim_slot s = { .state = XVM_HC_STATE_PAUSED };
	int r;

	if (!a->config) {
		xvm_hv_set_error("domain_create: no config");
		return -EFAULT;
	}
	/* Checked before locking: it may look at files. */
	r = sim_config_check(a->config, &sim->host);
	if (r < 0)
		return r;
	sim_config_to_slot(a->config, &s);
	s.start_time = time(NULL);
	if (a->head.flags & XVM_HC_F_CREATE_RUNNING) {
		s.state = XVM_HC_STATE_RUNNING;
		s.running_since_ns = sim_now_ns();
	}

	r = sim_table_lock(sim->table);
	if (r < 0)
		return r;
	r = sim_add_domain(sim, &s, a->config);
	sim_table_unlock(sim->table);
	if (r == 0)
		a->domid = s.domid;
	return r;
}

static int domain_unpause_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0 || s->state == XVM_HC_STATE_RUNNING)
		return r;
	s->state = XVM_HC_STATE_RUNNING;
	s->running_since_ns = sim_now_ns();
	if (s->pending_shutdown) {
		/* The guest now sees the request it was sent while paused. */
		enum xvm_hc_shutdown_reason reason = s->pending_shutdown - 1;
		s->pending_shutdown = 0;
		sim_guest_stops(sim, s, reason);
	}
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_unpause, domain_unpause_locked)

static int domain_pause_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0 || s->state == XVM_HC_STATE_PAUSED)
		return r;
	s->cpu_time_ns = sim_cpu_time(s, sim_now_ns());
	s->running_since_ns = 0;
	s->state = XVM_HC_STATE_PAUSED;
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_pause, domain_pause_locked)

static int domain_shutdown_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_shutdown *a = arg;
	struct sim_slot *s;
	int r;

	if (a->reason != XVM_HC_SHUTDOWN_POWEROFF && a->reason != XVM_HC_SHUTDOWN_REBOOT &&
	    a->reason != XVM_HC_SHUTDOWN_SUSPEND) {
		xvm_hv_set_error("a guest can be asked to power off, reboot or suspend, not %d",
				 (int)a->reason);
		return -EINVAL;
	}
	r = sim_lookup(sim, a->domid, true, &s);
	if (r < 0)
		return r;
	if (s->state == XVM_HC_STATE_RUNNING)
		sim_guest_stops(sim, s, a->reason);
	else
		s->pending_shutdown = a->reason + 1;
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_shutdown, domain_shutdown_locked)

static int domain_destroy_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, false, &s);

	if (r == 0)
		sim_table_remove(sim->table, s);
	return r;
}

SIM_LOCKED_OP(sim_op_domain_destroy, domain_destroy_locked)

static void fill_info(const struct sim_slot *s, uint64_t now, struct xvm_hc_domain_info *o)
{
	o->domid = s->domid;
	memcpy(o->uuid, s->uuid, sizeof o->uuid);
	o->uuid[XVM_UUID_STRLEN] = '\0';
	o->state = s->state;
	o->shutdown_reason = s->shutdown_reason;
	o->vcpus_max = s->vcpus_max;
	o->vcpus_online = s->vcpus_online;
	o->memory_static_max_kib = s->memory_static_max_kib;
	o->memory_target_kib = s->memory_target_kib;
	/* The simulated balloon driver reaches its target at once. */
	o->memory_actual_kib = s->memory_target_kib;
	o->cpu_time_ns = sim_cpu_time(s, now);
	o->start_time = s->start_time;
	o->pid = 0;
	o->vtpm = s->flags & SIM_SLOT_VTPM;
}

static int domain_get_info_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_info *a = arg;
	struct sim_slot *s;
	int r;

	if (a->head.flags & XVM_HC_F_INFO_BY_UUID) {
		s = sim_table_find_uuid(sim->table, a->uuid);
		if (!s) {
			xvm_hv_set_error("no domain has uuid %.36s", a->uuid);
			return -ESRCH;
		}
		r = 0;
	} else {
		r = sim_lookup(sim, a->domid, false, &s);
	}
	if (r == 0)
		fill_info(s, sim_now_ns(), a);
	return r;
}

SIM_LOCKED_OP(sim_op_domain_get_info, domain_get_info_locked)

static int by_domid(const void *x, const void *y)
{
	const struct sim_slot *a = *(struct sim_slot *const *)x, *b = *(struct sim_slot *const *)y;

	return (a->domid > b->domid) - (a->domid < b->domid);
}

/* Fills up to `capacity` entries in domid order; -ENOBUFS says there are more. */
static int domain_list_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_list *a = arg;
	uint32_t n = sim_table_count(sim->table), cap = sim_table_capacity(sim->table), k = 0;
	uint64_t now = sim_now_ns();
	struct sim_slot **all;

	if (a->capacity && !a->domains) {
		xvm_hv_set_error("domain_list: capacity %u but no buffer", a->capacity);
		return -EFAULT;
	}
	all = malloc((n ? n : 1) * sizeof *all);
	if (!all) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap && k < n; i++) {
		struct sim_slot *s = sim_table_slot(sim->table, i);
		if (s->domid)
			all[k++] = s;
	}
	qsort(all, k, sizeof *all, by_domid);
	for (uint32_t i = 0; i < k && i < a->capacity; i++) {
		a->domains[i] = (struct xvm_hc_domain_info){ .head = XVM_HC_HEAD(0) };
		fill_info(all[i], now, &a->domains[i]);
	}
	free(all);
	a->count = k;
	if (k > a->capacity) {
		xvm_hv_set_error("%u domains; room for %u", k, a->capacity);
		return -ENOBUFS;
	}
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_list, domain_list_locked)

static int domain_set_memory_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_memory *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0)
		return r;
	if (!a->target_kib || a->target_kib > s->memory_static_max_kib) {
		xvm_hv_set_error("memory target %" PRIu64 " KiB is out of range 1..%" PRIu64 " KiB",
				 a->target_kib, s->memory_static_max_kib);
		return -EINVAL;
	}
	s->memory_target_kib = a->target_kib;
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_set_memory, domain_set_memory_locked)

static int domain_set_vcpus_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_vcpus *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0)
		return r;
	if (a->online < 1 || a->online > s->vcpus_max) {
		xvm_hv_set_error("%u online vCPUs is out of range 1..%u", a->online, s->vcpus_max);
		return -EINVAL;
	}
	s->vcpus_online = a->online;
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_set_vcpus, domain_set_vcpus_locked)

/* The sim has no vCPU threads to pin: it checks the request as a real backend would. */
static int domain_vcpu_affinity_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_vcpu_affinity *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0)
		return r;
	if (a->vcpu >= s->vcpus_max) {
		xvm_hv_set_error("domain %u has no vcpu %u (it has %u)", a->domid, a->vcpu,
				 s->vcpus_max);
		return -EINVAL;
	}
	if (a->cpumask & ~sim_host_cpumask(&sim->host)) {
		xvm_hv_set_error("affinity 0x%" PRIx64 " names CPUs the host (%u CPUs) lacks",
				 a->cpumask, sim->host.cpu_count);
		return -EINVAL;
	}
	return 0;
}

SIM_LOCKED_OP(sim_op_domain_vcpu_affinity, domain_vcpu_affinity_locked)
