/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals shared by the sim backend's op files. Every op runs with the
 * domain table locked (SIM_LOCKED_OP), so that one hypercall is atomic for
 * every thread and every process that opened the same state dir.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "host.h"
#include "table.h"

struct sim {
	struct sim_table *table;
	int disk_fd;    /* STATE_DIR/sim-disks: disk_record.c */
	struct sim_host host;
	int event_fd; /* inotify on the table file; -1 until EVENT_FD; guarded by the table lock */
};

/* Defines `int name(void *priv, void *arg)` that runs locked_fn(sim, arg) under the lock. */
#define SIM_LOCKED_OP(name, locked_fn)                             \
	int name(void *priv, void *arg)                            \
	{                                                          \
		struct sim *sim = priv;                            \
		int r = sim_table_lock(sim->table);                \
		if (r < 0)                                         \
			return r;                                  \
		r = locked_fn(sim, arg);                           \
		sim_table_unlock(sim->table);                      \
		return r;                                          \
	}

/* The domain, or -ESRCH; with `live`, -EINVAL for one that has shut down. */
int sim_lookup(struct sim *sim, uint32_t domid, bool live, struct sim_slot **ret);

/* Refuses a domain whose uuid is taken or whose memory the host lacks. */
int sim_admit(struct sim *sim, const struct sim_slot *s);

/* Admits s, made from config c, and stores it and its disk records; s->domid is set. */
int sim_add_domain(struct sim *sim, struct sim_slot *s, const struct xvm_hc_domain_config *c);

uint64_t sim_now_ns(void);
uint64_t sim_cpu_time(const struct sim_slot *s, uint64_t now);

/* The guest stops on its own: SHUTDOWN with `reason`, reported to EVENT_POLL. */
void sim_guest_stops(struct sim *sim, struct sim_slot *s, enum xvm_hc_shutdown_reason reason);

const char *sim_state_name(uint32_t state);

/* Op entries, one group per file. */
int sim_op_domain_create(void *priv, void *arg);
int sim_op_domain_unpause(void *priv, void *arg);
int sim_op_domain_pause(void *priv, void *arg);
int sim_op_domain_shutdown(void *priv, void *arg);
int sim_op_domain_destroy(void *priv, void *arg);
int sim_op_domain_get_info(void *priv, void *arg);
int sim_op_domain_list(void *priv, void *arg);
int sim_op_domain_set_memory(void *priv, void *arg);
int sim_op_domain_set_vcpus(void *priv, void *arg);
int sim_op_domain_vcpu_affinity(void *priv, void *arg);
int sim_op_device_attach(void *priv, void *arg);
int sim_op_device_detach(void *priv, void *arg);
int sim_op_media_change(void *priv, void *arg);
int sim_op_domain_save(void *priv, void *arg);
int sim_op_domain_restore(void *priv, void *arg);
int sim_op_event_fd(void *priv, void *arg);
int sim_op_event_poll(void *priv, void *arg);
int sim_op_guest_action(void *priv, void *arg);
int sim_op_disk_resize(void *priv, void *arg);
int sim_op_disk_snapshot(void *priv, void *arg);
int sim_op_disk_get_info(void *priv, void *arg);
int sim_op_bridge_release(void *priv, void *arg);
