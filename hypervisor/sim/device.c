/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plugging disks, CD drives and NICs on a sim domain, and changing the
 * disc in a CD drive, in its slot and its disk records. Disks and NICs
 * have separate position spaces, as VBD userdevices and VIF devices do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "disk_record.h"
#include "sim.h"

static int find_disk(const struct sim_slot *s, uint32_t position)
{
	for (uint32_t i = 0; i < s->ndisks; i++)
		if (s->disks[i].position == position)
			return i;
	return -1;
}

static int find_nic(const struct sim_slot *s, uint32_t position)
{
	for (uint32_t i = 0; i < s->nnics; i++)
		if (s->nics[i].position == position)
			return i;
	return -1;
}

/*
 * The domain's disk records, changed by `change` and written back, before
 * the slot changes: what follows in the slot cannot fail.
 */
static int update_records(struct sim *sim, const struct sim_slot *s,
			  void (*change)(struct sim_disk_records *recs, const void *arg), const void *arg)
{
	struct sim_disk_records *recs = malloc(sizeof *recs);
	int r;

	if (!recs) {
		xvm_hv_set_error("out of memory");
		return -ENOMEM;
	}
	if ((r = sim_disks_read(sim, s, recs)) == 0) {
		change(recs, arg);
		r = sim_disks_write(sim, s, recs);
	}
	free(recs);
	return r;
}

/* Hot-plugged: a virtio disk, whatever its position. */
static void record_attach(struct sim_disk_records *recs, const void *disk)
{
	sim_disks_add(recs, disk, false);
}

static void record_detach(struct sim_disk_records *recs, const void *position)
{
	sim_disks_remove(recs, *(const uint32_t *)position);
}

static void record_disc(struct sim_disk_records *recs, const void *disc)
{
	const struct xvm_hc_disk_config *d = disc;

	for (uint32_t i = 0; i < recs->n; i++)
		if (recs->d[i].position == d->position) {
			memcpy(recs->d[i].path, d->path, sizeof recs->d[i].path);
			recs->d[i].size = 0;
		}
}

static int attach_disk(struct sim *sim, struct sim_slot *s, const struct xvm_hc_disk_config *d)
{
	int r = hv_disk_check(d);

	if (r < 0)
		return r;
	/* As on QEMU, where CD drives are IDE: a simulated host promises nothing a real one cannot do. */
	if (d->kind == XVM_HC_CDROM) {
		xvm_hv_set_error("a CD drive cannot be hot-plugged (IDE); give the VM one before it starts");
		return -EOPNOTSUPP;
	}
	if (find_disk(s, d->position) >= 0) {
		xvm_hv_set_error("domain %u already has a disk at position %u", s->domid, d->position);
		return -EEXIST;
	}
	if (s->ndisks == XVM_HC_MAX_DISKS) {
		xvm_hv_set_error("domain %u already has %d disks", s->domid, XVM_HC_MAX_DISKS);
		return -ENOSPC;
	}
	if ((r = update_records(sim, s, record_attach, d)) < 0)
		return r;
	sim_disk_to_slot(d, &s->disks[s->ndisks++]);
	return 0;
}

static int attach_nic(struct sim_slot *s, const struct xvm_hc_nic_config *n)
{
	int r = hv_nic_check(n);

	if (r < 0)
		return r;
	if (find_nic(s, n->position) >= 0) {
		xvm_hv_set_error("domain %u already has a nic at position %u", s->domid, n->position);
		return -EEXIST;
	}
	if (s->nnics == XVM_HC_MAX_NICS) {
		xvm_hv_set_error("domain %u already has %d nics", s->domid, XVM_HC_MAX_NICS);
		return -ENOSPC;
	}
	sim_nic_to_slot(n, &s->nics[s->nnics++]);
	return 0;
}

static int device_attach_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_device *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s);

	if (r < 0)
		return r;
	switch (a->type) {
	case XVM_HC_DEV_DISK:
		return attach_disk(sim, s, &a->disk);
	case XVM_HC_DEV_NIC:
		return attach_nic(s, &a->nic);
	}
	xvm_hv_set_error("unknown device type %d", (int)a->type);
	return -EINVAL;
}

SIM_LOCKED_OP(sim_op_device_attach, device_attach_locked)

static int device_detach_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_device *a = arg;
	struct sim_slot *s;
	int r = sim_lookup(sim, a->domid, true, &s), i;

	if (r < 0)
		return r;
	switch (a->type) {
	case XVM_HC_DEV_DISK:
		i = find_disk(s, a->disk.position);
		if (i < 0) {
			xvm_hv_set_error("domain %u has no disk at position %u", s->domid,
					 a->disk.position);
			return -ENOENT;
		}
		if ((r = update_records(sim, s, record_detach, &a->disk.position)) < 0)
			return r;
		memmove(&s->disks[i], &s->disks[i + 1], (--s->ndisks - i) * sizeof s->disks[0]);
		return 0;
	case XVM_HC_DEV_NIC:
		i = find_nic(s, a->nic.position);
		if (i < 0) {
			xvm_hv_set_error("domain %u has no nic at position %u", s->domid,
					 a->nic.position);
			return -ENOENT;
		}
		memmove(&s->nics[i], &s->nics[i + 1], (--s->nnics - i) * sizeof s->nics[0]);
		return 0;
	}
	xvm_hv_set_error("unknown device type %d", (int)a->type);
	return -EINVAL;
}

SIM_LOCKED_OP(sim_op_device_detach, device_detach_locked)

static int media_change_locked(struct sim *sim, void *arg)
{
	struct xvm_hc_media *a = arg;
	struct xvm_hc_disk_config disc = { .kind = XVM_HC_CDROM, .position = a->position, .read_only = true };
	struct sim_disk *d;
	struct sim_slot *s;
	int r, i;

	if (!HV_TERMINATED(a->path) || !HV_TERMINATED(a->format)) {
		xvm_hv_set_error("media path or format is not NUL-terminated");
		return -EINVAL;
	}
	memcpy(disc.path, a->path, sizeof disc.path);
	memcpy(disc.format, a->format, sizeof disc.format);
	if ((r = hv_disk_check(&disc)) < 0)
		return r;
	r = sim_lookup(sim, a->domid, true, &s);
	if (r < 0)
		return r;
	i = find_disk(s, a->position);
	if (i < 0) {
		xvm_hv_set_error("domain %u has no drive at position %u", s->domid, a->position);
		return -ENOENT;
	}
	d = &s->disks[i];
	if (d->kind != XVM_HC_CDROM) {
		xvm_hv_set_error("position %u of domain %u is a disk, not a CD drive", a->position,
				 s->domid);
		return -EINVAL;
	}
	if ((r = update_records(sim, s, record_disc, &disc)) < 0)
		return r;
	d->has_media = *a->path != '\0';
	memset(d->format, 0, sizeof d->format);
	if (d->has_media)
		memcpy(d->format, a->format, sizeof d->format);
	return 0;
}

SIM_LOCKED_OP(sim_op_media_change, media_change_locked)

/* The sim has no host networking: a released bridge is only checked. */
int sim_op_bridge_release(void *priv, void *arg)
{
	(void)priv;
	return hv_bridge_check(arg);
}
