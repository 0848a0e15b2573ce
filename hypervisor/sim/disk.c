/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DISK_RESIZE, DISK_SNAPSHOT and DISK_GET_INFO on a sim domain. The sim
 * refuses what the qemu backend refuses, checking what it can read (a local
 * overlay's header, a local raw or qcow2 image's size); it records the
 * outcome in the domain's disk records and its slot, and never touches an
 * image: the size a resize gives lives in the record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "disk_record.h"
#include "image.h"
#include "sim.h"
#include "url.h"

/* A disk op's domain, slot disk and record, looked up under the table lock. */
struct disk_op {
	struct sim_slot *slot;
	struct sim_disk *disk;
	struct sim_disk_records recs;
	struct sim_disk_record *rec;
	struct xvm_hc_disk_config cfg; /* the disk as a config: slot and record */
};

static int disk_op_find(struct sim *sim, uint32_t domid, uint32_t position, struct disk_op *op)
{
	int r = sim_lookup(sim, domid, true, &op->slot);

	if (r < 0)
		return r;
	op->disk = NULL;
	for (uint32_t i = 0; i < op->slot->ndisks; i++)
		if (op->slot->disks[i].position == position)
			op->disk = &op->slot->disks[i];
	if (!op->disk) {
		xvm_hv_set_error("domain %u has no disk at position %u", domid, position);
		return -ENOENT;
	}
	if ((r = sim_disks_read(sim, op->slot, &op->recs)) < 0)
		return r;
	if (!(op->rec = sim_disks_find(&op->recs, position)))
		return -EIO;
	op->cfg = (struct xvm_hc_disk_config){
		.kind = op->disk->kind,
		.position = position,
		.read_only = op->disk->read_only,
		.bootable = op->disk->bootable,
	};
	memcpy(op->cfg.format, op->disk->format, sizeof op->cfg.format);
	memcpy(op->cfg.path, op->rec->path, sizeof op->cfg.path);
	return 0;
}

static uint64_t disk_size(const struct disk_op *op)
{
	if (op->rec->size || !*op->rec->path)
		return op->rec->size;
	return hv_image_size(op->rec->path, op->cfg.format);
}

/* Runs fn on the disk op of (domid, position); struct disk_op is big (the records hold paths): on the heap. */
static int with_disk(struct sim *sim, uint32_t domid, uint32_t position,
		     int (*fn)(struct sim *sim, struct disk_op *op, void *arg), void *arg)
{
	struct disk_op *op = malloc(sizeof *op);
	int r;

	if (!op) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	if ((r = disk_op_find(sim, domid, position, op)) == 0)
		r = fn(sim, op, arg);
	free(op);
	return r;
}

static int resize(struct sim *sim, struct disk_op *op, void *arg)
{
	const struct xvm_hc_disk_resize *a = arg;
	int r = hv_resize_check(a->domid, &op->cfg, op->rec->ide, disk_size(op), a->size_bytes);

	if (r < 0)
		return r;
	op->rec->size = a->size_bytes;
	return sim_disks_write(sim, op->slot, &op->recs);
}

static int disk_resize_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_disk_resize *a = arg;

	return with_disk(sim, a->domid, a->position, resize, a);
}

SIM_LOCKED_OP(sim_op_disk_resize, disk_resize_locked)

/* QEMU would open the overlay, read its header and refuse one that is not the disk's. */
static int snapshot(struct sim *sim, struct disk_op *op, void *arg)
{
	const struct xvm_hc_disk_config *ov = arg;
	struct hv_image img = { .size = disk_size(op) };
	int r;

	if ((r = hv_snapshot_check(op->slot->domid, &op->cfg, ov)) < 0)
		return r;
	/* One on NFS the sim cannot read: it is taken on the caller's word. */
	if (!hv_path_is_url(ov->path) && (r = hv_overlay_read_check(&op->cfg, img.size, ov->path, &img)) < 0)
		return r;
	memcpy(op->rec->path, ov->path, sizeof op->rec->path);
	op->rec->size = img.size;
	/* The record first: the slot's change cannot fail. */
	if ((r = sim_disks_write(sim, op->slot, &op->recs)) == 0)
		memcpy(op->disk->format, ov->format, sizeof op->disk->format);
	return r;
}

static int disk_snapshot_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_disk_snapshot *a = arg;
	struct xvm_hc_disk_config ov;
	int r;

	if ((r = hv_snapshot_args(a, &ov)) < 0 || (r = hv_disk_check(&ov)) < 0)
		return r;
	return with_disk(sim, a->domid, a->position, snapshot, &ov);
}

SIM_LOCKED_OP(sim_op_disk_snapshot, disk_snapshot_locked)

static int get_info(struct sim *sim, struct disk_op *op, void *arg)
{
	struct xvm_hc_disk_info *a = arg;

	a->disk = op->cfg;
	a->size_bytes = disk_size(op);
	a->resize_online = op->cfg.kind == XVM_HC_DISK && !op->cfg.read_only && !op->rec->ide;
	return 0;
}

static int disk_get_info_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_disk_info *a = arg;

	return with_disk(sim, a->domid, a->position, get_info, a);
}

SIM_LOCKED_OP(sim_op_disk_get_info, disk_get_info_locked)
