/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sim hypervisor's domain table: one file, STATE_DIR/sim-hypervisor,
 * mapped MAP_SHARED by every process that opens the state dir, so that
 * successive processes see one hypervisor. Every access happens between
 * sim_table_lock() and sim_table_unlock(), which exclude other threads and
 * other processes and pick up a growth made by another process.
 *
 * The slot layout is part of the file format: change it, bump the format
 * version in table.c.
 */
#pragma once

#include <stdint.h>

#include "hypercall.h"

struct sim_disk {
	uint32_t position;
	uint8_t kind;      /* enum xvm_hc_disk_kind */
	uint8_t read_only;
	uint8_t bootable;
	uint8_t has_media; /* a CD drive may be empty */
	char format[16];
};

struct sim_nic {
	uint32_t position;
	char mac[18];
	uint8_t pad[2];
};

/* The domain has a vTPM: recorded and reported, never emulated. */
#define SIM_SLOT_VTPM (1u << 0)

struct sim_slot {
	uint32_t domid;            /* 0: the slot is free */
	uint32_t next_free;        /* free list link: slot index + 1, 0 ends */
	char uuid[40];
	uint32_t state;            /* enum xvm_hc_domain_state */
	uint32_t shutdown_reason;  /* enum xvm_hc_shutdown_reason */
	uint32_t pending_shutdown; /* reason + 1 of a request a paused guest has not seen yet */
	uint32_t vcpus_max;
	uint32_t vcpus_online;
	uint32_t ndisks;
	uint32_t nnics;
	uint32_t flags;            /* SIM_SLOT_* */
	uint64_t memory_static_max_kib;
	uint64_t memory_target_kib;
	uint64_t start_time;       /* seconds since the epoch */
	uint64_t cpu_time_ns;      /* run time accumulated before running_since_ns */
	uint64_t running_since_ns; /* CLOCK_REALTIME of the last unpause; 0 when not running */
	uint64_t changed_seq;      /* event sequence of the last guest-made change */
	struct sim_disk disks[XVM_HC_MAX_DISKS];
	struct sim_nic nics[XVM_HC_MAX_NICS];
};

struct sim_table;

int sim_table_open(const char *state_dir, struct sim_table **ret);
void sim_table_close(struct sim_table *t);
const char *sim_table_path(const struct sim_table *t);

int sim_table_lock(struct sim_table *t);
void sim_table_unlock(struct sim_table *t);

/* The rest is called with the table locked. */
struct sim_slot *sim_table_find(struct sim_table *t, uint32_t domid);
struct sim_slot *sim_table_find_uuid(struct sim_table *t, const char *uuid);

/* Stores a copy of `dom` under a new domid (written to dom->domid). */
int sim_table_insert(struct sim_table *t, struct sim_slot *dom);
void sim_table_remove(struct sim_table *t, struct sim_slot *s);

uint32_t sim_table_capacity(const struct sim_table *t);
uint32_t sim_table_count(const struct sim_table *t);
struct sim_slot *sim_table_slot(struct sim_table *t, uint32_t i);
/* Where s is: slots never move, so it is s's for as long as its domain lives. */
uint32_t sim_table_slot_index(const struct sim_table *t, const struct sim_slot *s);
uint64_t sim_table_memory_used(const struct sim_table *t);

/* Records a guest-made change of s and wakes every process's event fd. */
void sim_table_note_event(struct sim_table *t, struct sim_slot *s);
uint64_t sim_table_event_seq(const struct sim_table *t);
