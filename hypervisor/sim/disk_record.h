/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sim keeps of a domain's disks beyond its table slot: each image's
 * path, its size once known, and whether it sits on the board's IDE/AHCI
 * controller. Paths are too big for the fixed-size slots of a table meant
 * for 10,000 domains, so they live in one small file per domain with disks,
 * STATE_DIR/sim-disks/DOMID (domids are never reused):
 *
 *   {"format": "xvm-sim-disks", "version": 1,
 *    "disks": [{"position", "path", "size", "ide"}]}
 *
 * Called with the table locked, as every sim op is.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hypercall.h"
#include "sim.h"

struct sim_disk_record {
	uint32_t position;
	bool ide;                    /* the guest sees no resize */
	uint64_t size;               /* bytes the guest sees; 0 until the sim knows */
	char path[XVM_HC_PATH_MAX];  /* "" for an empty CD drive */
};

struct sim_disk_records {
	uint32_t n;
	struct sim_disk_record d[XVM_HC_MAX_DISKS];
};

int sim_disk_dir_init(struct sim *sim, const char *state_dir);

/* A domain without the file has no records (n = 0). */
int sim_disks_read(const struct sim *sim, uint32_t domid, struct sim_disk_records *ret);
/* Replaces the file (removes it when n = 0). */
int sim_disks_write(const struct sim *sim, uint32_t domid, const struct sim_disk_records *recs);
void sim_disks_forget(const struct sim *sim, uint32_t domid);
/* The records of a new domain's disks (create, restore). */
int sim_disks_write_config(const struct sim *sim, uint32_t domid, const struct xvm_hc_domain_config *c);

/* The record at `position`, or NULL with an error detail. */
struct sim_disk_record *sim_disks_find(struct sim_disk_records *recs, uint32_t domid, uint32_t position);
/* Adds the record of disk d, unknown size. */
void sim_disks_add(struct sim_disk_records *recs, const struct xvm_hc_disk_config *d, bool ide);
void sim_disks_remove(struct sim_disk_records *recs, uint32_t position);
