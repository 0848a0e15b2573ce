/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DOMAIN_SAVE and DOMAIN_RESTORE on the sim: the "memory image" is the
 * run state (start time, CPU time, balloon target, online vCPUs, a shutdown
 * request the guest has not seen yet), so a restored domain provably
 * continues the same run.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "save.h"
#include "sim.h"

static int check_path(const char *op, const char (*path)[XVM_HC_PATH_MAX])
{
	if (!HV_TERMINATED(*path) || !**path) {
		xvm_hv_set_error("%s: the path is empty or not NUL-terminated", op);
		return -EINVAL;
	}
	return 0;
}

static int domain_save_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_domain_save *a = arg;
	struct sim_saved saved;
	struct sim_slot *s;
	int r = check_path("domain_save", &a->path);

	if (r < 0)
		return r;
	r = sim_lookup(sim, a->domid, false, &s);
	if (r < 0)
		return r;
	/* A guest that suspended itself is saved; one that powered off or crashed has nothing left. */
	if (s->state == XVM_HC_STATE_SHUTDOWN && s->shutdown_reason != XVM_HC_SHUTDOWN_SUSPEND) {
		xvm_hv_set_error("domain %u has shut down; there is nothing to save", s->domid);
		return -EINVAL;
	}
	saved = (struct sim_saved){
		.vcpus_max = s->vcpus_max,
		.memory_static_max_kib = s->memory_static_max_kib,
		.vcpus_online = s->vcpus_online,
		.pending_shutdown = s->pending_shutdown,
		.memory_target_kib = s->memory_target_kib,
		.start_time = s->start_time,
		.cpu_time_ns = sim_cpu_time(s, sim_now_ns()),
	};
	memcpy(saved.uuid, s->uuid, sizeof saved.uuid);
	r = sim_save_write(a->path, &saved);
	if (r == 0 && !(a->head.flags & XVM_HC_F_SAVE_KEEP))
		sim_table_remove(sim->table, s);
	return r;
}

SIM_LOCKED_OP(sim_op_domain_save, domain_save_locked)

/* The config may give new device paths, even a new uuid (a copied VM), but
 * the memory image only fits a domain of the same shape. */
int sim_op_domain_restore(void *priv, void *arg)
{
	struct sim *sim = priv;
	struct xvm_hc_domain_restore *a = arg;
	const struct xvm_hc_domain_config *c = a->config;
	struct sim_slot s = { .state = XVM_HC_STATE_PAUSED };
	struct sim_saved saved;
	int r;

	if (!c) {
		xvm_hv_set_error("domain_restore: no config");
		return -EFAULT;
	}
	r = check_path("domain_restore", &a->path);
	if (r < 0)
		return r;
	r = sim_config_check(c, &sim->host);
	if (r < 0)
		return r;
	r = sim_save_read(a->path, &saved);
	if (r < 0)
		return r;
	if (c->vcpus_max != saved.vcpus_max || c->memory_static_max_kib != saved.memory_static_max_kib) {
		xvm_hv_set_error("%s holds a domain with %u vCPUs and %" PRIu64 " KiB; the config asks for %u and %" PRIu64,
				 a->path, saved.vcpus_max, saved.memory_static_max_kib, c->vcpus_max,
				 c->memory_static_max_kib);
		return -EINVAL;
	}
	sim_config_to_slot(c, &s);
	s.vcpus_online = saved.vcpus_online;
	s.memory_target_kib = saved.memory_target_kib;
	s.pending_shutdown = saved.pending_shutdown;
	s.start_time = saved.start_time;
	s.cpu_time_ns = saved.cpu_time_ns;

	r = sim_table_lock(sim->table);
	if (r < 0)
		return r;
	r = sim_add_domain(sim, &s, c);
	sim_table_unlock(sim->table);
	if (r == 0)
		a->domid = s.domid;
	return r;
}
