/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim backend: an in-process, deterministic hypervisor that runs no
 * guest code, xvm's equivalent of libvirt's test:///default. Its domains
 * live in STATE_DIR/sim-hypervisor (table.c), so that every process opening
 * the same state dir sees one hypervisor. This file holds the op table,
 * open/close, HOST_INFO and the helpers the op files share.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "disk_record.h"
#include "sim.h"

static int sim_open(const char *state_dir, void **ret)
{
	struct sim *sim = calloc(1, sizeof *sim);
	int r;

	if (!sim) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	sim->event_fd = -1;
	sim->disk_fd = -1;
	r = sim_host_probe(&sim->host);
	if (r == 0)
		r = sim_table_open(state_dir, &sim->table);
	if (r == 0 && (r = sim_disks_open(sim, state_dir)) < 0)
		sim_table_close(sim->table);
	if (r < 0) {
		if (sim->disk_fd >= 0)
			close(sim->disk_fd);
		free(sim);
		return r;
	}
	*ret = sim;
	return 0;
}

static void sim_close(void *priv)
{
	struct sim *sim = priv;

	if (sim->event_fd >= 0)
		close(sim->event_fd);
	sim_table_close(sim->table);
	close(sim->disk_fd);
	free(sim);
}

const char *sim_state_name(uint32_t state)
{
	switch (state) {
	case XVM_HC_STATE_PAUSED:
		return "paused";
	case XVM_HC_STATE_RUNNING:
		return "running";
	case XVM_HC_STATE_SHUTDOWN:
		return "shut down";
	default:
		return "in an unknown state";
	}
}

int sim_lookup(struct sim *sim, uint32_t domid, bool live, struct sim_slot **ret)
{
	struct sim_slot *s = sim_table_find(sim->table, domid);

	if (!s) {
		xvm_hv_set_error("domain %u does not exist", domid);
		return -ESRCH;
	}
	if (live && s->state == XVM_HC_STATE_SHUTDOWN) {
		xvm_hv_set_error("domain %u has shut down; only destroy is left to do", domid);
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

static uint64_t memory_free(struct sim *sim)
{
	uint64_t used = sim_table_memory_used(sim->table);

	return sim->host.memory_total_kib > used ? sim->host.memory_total_kib - used : 0;
}

int sim_admit(struct sim *sim, const struct sim_slot *s)
{
	const struct sim_slot *other = sim_table_find_uuid(sim->table, s->uuid);
	uint64_t free_kib = memory_free(sim);

	if (other) {
		xvm_hv_set_error("domain %u already has uuid %s", other->domid, s->uuid);
		return -EEXIST;
	}
	if (s->memory_static_max_kib > free_kib) {
		xvm_hv_set_error("domain needs %" PRIu64 " KiB; the host has %" PRIu64 " KiB free",
				 s->memory_static_max_kib, free_kib);
		return -ENOMEM;
	}
	return 0;
}

int sim_add_domain(struct sim *sim, struct sim_slot *s, const struct xvm_hc_domain_config *c)
{
	int r = sim_admit(sim, s);

	if (r == 0)
		r = sim_table_insert(sim->table, s);
	if (r == 0) {
		struct sim_slot *slot = sim_table_find(sim->table, s->domid);
		if ((r = sim_disks_write_config(sim, slot, c)) < 0)
			sim_table_remove(sim->table, slot);
	}
	return r;
}

uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* Wall-clock CLOCK_REALTIME, not CLOCK_MONOTONIC: the file outlives boots. */
uint64_t sim_cpu_time(const struct sim_slot *s, uint64_t now)
{
	uint64_t t = s->cpu_time_ns;

	if (s->running_since_ns && now > s->running_since_ns)
		t += now - s->running_since_ns;
	return t;
}

static int host_info_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_host_info *a = arg;
	struct xvm_hc_host_info o = {
		.head = a->head,
		.backend = "sim",
		.cpu_count = sim->host.cpu_count,
		.memory_total_kib = sim->host.memory_total_kib,
		.memory_free_kib = memory_free(sim),
		.max_vcpus_per_domain = SIM_MAX_VCPUS,
		.accel = XVM_HC_ACCEL_NONE,
		.hvm_capable = true,
		.pv_capable = true,
		.cpu_model = "sim",
	};

	memcpy(o.hostname, sim->host.hostname, sizeof o.hostname);
	*a = o;
	return 0;
}

static SIM_LOCKED_OP(host_info, host_info_locked)

const struct xvm_hv_backend xvm_hv_backend_sim = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.op = {
		[XVM_HC_HOST_INFO] = host_info,
		[XVM_HC_DOMAIN_CREATE] = sim_op_domain_create,
		[XVM_HC_DOMAIN_UNPAUSE] = sim_op_domain_unpause,
		[XVM_HC_DOMAIN_PAUSE] = sim_op_domain_pause,
		[XVM_HC_DOMAIN_SHUTDOWN] = sim_op_domain_shutdown,
		[XVM_HC_DOMAIN_DESTROY] = sim_op_domain_destroy,
		[XVM_HC_DOMAIN_GET_INFO] = sim_op_domain_get_info,
		[XVM_HC_DOMAIN_LIST] = sim_op_domain_list,
		[XVM_HC_DOMAIN_SET_MEMORY] = sim_op_domain_set_memory,
		[XVM_HC_DOMAIN_SET_VCPUS] = sim_op_domain_set_vcpus,
		[XVM_HC_DOMAIN_VCPU_AFFINITY] = sim_op_domain_vcpu_affinity,
		[XVM_HC_DEVICE_ATTACH] = sim_op_device_attach,
		[XVM_HC_DEVICE_DETACH] = sim_op_device_detach,
		[XVM_HC_MEDIA_CHANGE] = sim_op_media_change,
		[XVM_HC_DOMAIN_SAVE] = sim_op_domain_save,
		[XVM_HC_DOMAIN_RESTORE] = sim_op_domain_restore,
		[XVM_HC_EVENT_FD] = sim_op_event_fd,
		[XVM_HC_EVENT_POLL] = sim_op_event_poll,
		[XVM_HC_GUEST_ACTION] = sim_op_guest_action,
		[XVM_HC_DISK_RESIZE] = sim_op_disk_resize,
		[XVM_HC_DISK_SNAPSHOT] = sim_op_disk_snapshot,
		[XVM_HC_DISK_GET_INFO] = sim_op_disk_get_info,
		[XVM_HC_BRIDGE_RELEASE] = sim_op_bridge_release,
	},
	.why_not = {
		[XVM_HC_CONSOLE_OPEN] = "it runs no guest code, so there is no console output",
		[XVM_HC_MIGRATE_SEND] = "it has no network to migrate over",
		[XVM_HC_MIGRATE_RECEIVE] = "it has no network to migrate over",
	},
};
