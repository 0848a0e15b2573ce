/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the sim keeps of a domain's disks beyond its table slot: each image's
 * path, its size once known, and whether it sits on the board's IDE/AHCI
 * controller. Paths are too big for the fixed-size slots of a table meant
 * for 10,000 domains, so they live in a file of their own,
 * STATE_DIR/sim-disks, sparse, with one record per table slot:
 *
 *   header (4 KiB): "XVMSIMDK" | u32 version | u32 record size
 *   record of slot i at 4096 + i * record size: struct sim_disk_records,
 *       written up to its last disk; a slot that never had disks is a hole
 *
 * A record names the domid that wrote it, so that a slot's next domain does
 * not inherit the last one's disks, and nothing needs erasing when a domain
 * goes; no file is created per domain (ext4 makes creating files in a
 * directory that also sees deletions slow). Host-local and in host byte
 * order, as the table is. Called with the table locked, as every sim op is.
 */
#pragma once

#include <stdint.h>

#include "hypercall.h"
#include "sim.h"

struct sim_disk_record {
	uint32_t position;
	uint8_t ide;                 /* the guest sees no resize */
	uint8_t pad[3];
	uint64_t size;               /* bytes the guest sees; 0 until the sim knows */
	char path[XVM_HC_PATH_MAX];  /* "" for an empty CD drive */
};

struct sim_disk_records {
	uint32_t domid;              /* whose record this is */
	uint32_t n;
	struct sim_disk_record d[XVM_HC_MAX_DISKS];
};

int sim_disks_open(struct sim *sim, const char *state_dir);

/* The records of slot s's domain; none (n = 0) if it never wrote any. */
int sim_disks_read(const struct sim *sim, const struct sim_slot *s, struct sim_disk_records *ret);
int sim_disks_write(const struct sim *sim, const struct sim_slot *s, struct sim_disk_records *recs);
/* The records of a new domain's disks (create, restore). */
int sim_disks_write_config(const struct sim *sim, const struct sim_slot *s, const struct xvm_hc_domain_config *c);

/* The record at `position`, or NULL with an error detail. */
struct sim_disk_record *sim_disks_find(struct sim_disk_records *recs, uint32_t position);
/* Adds the record of disk d, of a size not known yet. */
void sim_disks_add(struct sim_disk_records *recs, const struct xvm_hc_disk_config *d, bool ide);
void sim_disks_remove(struct sim_disk_records *recs, uint32_t position);
