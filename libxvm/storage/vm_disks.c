/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the VM lifecycle needs of storage: the drives of a domain, their attachment, owned disks. */
#include "storage/storage.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/sr_handle.h"
#include "store/store.h"

static const char *const vbd_fields[] = { "VM", "VDI", "userdevice", "type", "mode", "bootable", "empty",
					  "currently_attached", NULL };

static int by_position(const void *a, const void *b)
{
	const struct xvm_hc_disk_config *x = a, *y = b;
	return (x->position > y->position) - (x->position < y->position);
}

int vm_disks_config(struct engine *e, const char *vm, bool resuming, struct xvm_hc_domain_config *cfg)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	struct json_object *vbds;
	cfg->ndisks = 0;
	if ((r = rec_find(e, &class_vbd, "VM", vm, &vbds)) == 0) {
		for (size_t i = 0; r == 0 && i < json_object_array_length(vbds); i++) {
			struct json_object *rec;
			const char *vbd = json_object_get_string(json_object_array_get_idx(vbds, i));
			if ((r = rec_read_fields(e, &class_vbd, vbd, vbd_fields, &rec)) < 0)
				break;
			/* A resumed guest gets back the devices it had, not one more. */
			if (!resuming || rec_bool(rec, "currently_attached")) {
				if (cfg->ndisks == XVM_HC_MAX_DISKS)
					r = ERR1(XVM_ERR_INVALID_VALUE, vm, "VM %s has more than %d drives", vm,
						 XVM_HC_MAX_DISKS);
				else
					r = storage_vbd_disk(e, rec, &cfg->disks[cfg->ndisks++]);
			}
			json_object_put(rec);
		}
		json_object_put(vbds);
	}
	store_rollback(e->store);
	/* By position, as the guest numbers them: the second virtio disk is vdb
	 * whatever order the VBDs were made in. */
	if (r == 0)
		qsort(cfg->disks, cfg->ndisks, sizeof(cfg->disks[0]), by_position);
	return r;
}

int vm_vbds_set_attached(struct engine *e, const char *vm, bool attached)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VM", vm, &vbds);
	if (r < 0)
		return r;
	/* Through the records, so that event.from sees the drives change. */
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "currently_attached", json_object_new_boolean(attached));
	for (size_t i = 0; r == 0 && i < json_object_array_length(vbds); i++)
		r = rec_update(e, &class_vbd, json_object_get_string(json_object_array_get_idx(vbds, i)), ch);
	json_object_put(ch);
	json_object_put(vbds);
	return r;
}

/* Whether a VBD other than `mine` uses the VDI. */
static int used_elsewhere(struct engine *e, const char *vdi, const char *vm, bool *used)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VDI", vdi, &vbds);
	static const char *const fields[] = { "VM", NULL };
	*used = false;
	for (size_t i = 0; r == 0 && !*used && i < json_object_array_length(vbds); i++) {
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vbd, json_object_get_string(json_object_array_get_idx(vbds, i)), fields,
					 &rec)) == 0) {
			*used = strcmp(rec_str(rec, "VM"), vm) != 0;
			json_object_put(rec);
		}
	}
	json_object_put(vbds);
	return r;
}

int vm_disks_forget_owned(struct engine *e, const char *vm, struct json_object **volumes)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VM", vm, &vbds);
	if (r < 0)
		return r;
	*volumes = json_object_new_array();
	static const char *const vdi_fields[] = { "SR", "location", NULL };
	for (size_t i = 0; r == 0 && i < json_object_array_length(vbds); i++) {
		struct json_object *rec, *d = NULL;
		const char *vbd = json_object_get_string(json_object_array_get_idx(vbds, i));
		if ((r = rec_read_fields(e, &class_vbd, vbd, vbd_fields, &rec)) < 0)
			break;
		const char *vdi = rec_str(rec, "VDI");
		bool shared = false;
		if (strcmp(rec_str(rec, "type"), "Disk") == 0 && strcmp(rec_str(rec, "mode"), "RW") == 0 &&
		    !ref_is_null(vdi) && (r = used_elsewhere(e, vdi, vm, &shared)) == 0 && !shared &&
		    (r = rec_read_fields(e, &class_vdi, vdi, vdi_fields, &d)) == 0) {
			struct json_object *v = json_object_new_object();
			json_object_object_add(v, "sr", json_object_new_string(rec_str(d, "SR")));
			json_object_object_add(v, "location", json_object_new_string(rec_str(d, "location")));
			json_object_array_add(*volumes, v);
			r = storage_forget_vdi(e, vdi);
		}
		json_object_put(d);
		json_object_put(rec);
	}
	json_object_put(vbds);
	if (r < 0) {
		json_object_put(*volumes);
		*volumes = NULL;
	}
	return r;
}

/* The SR's figures without the deleted disk; a failure leaves them for the next operation to correct. */
static void update_space(struct engine *e, struct sr_handle *h)
{
	if (store_begin_write(e->store) < 0)
		return;
	if (storage_update_space(e, h) < 0)
		store_rollback(e->store);
	else
		store_commit(e->store);
}

void vm_disks_delete_volumes(struct engine *e, struct json_object *volumes)
{
	for (size_t i = 0; i < json_object_array_length(volumes); i++) {
		struct json_object *v = json_object_array_get_idx(volumes, i);
		struct sr_handle h;
		int r = store_begin_read(e->store);
		if (r == 0) {
			r = sr_handle_open(e, rec_str(v, "sr"), SR_OPEN_PLUGGED, &h);
			store_rollback(e->store);
		}
		int lock = r == 0 ? sr_lock(e, h.uuid) : -1;
		if (r == 0 && lock >= 0) {
			/* The record is gone: a volume left by a failure here is one sr-scan brings back. */
			if (h.drv->vdi_delete(&h, rec_str(v, "location")) < 0)
				log_warning("deleting disk %s: %s", rec_str(v, "location"), xvm_last_error()->message);
			else
				update_space(e, &h);
			sr_unlock(lock);
		}
		if (r == 0)
			sr_handle_close(&h);
		error_clear();
	}
}
