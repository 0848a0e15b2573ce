/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VDI operations. Each holds the VDI's operation lock (current_operations)
 * and, while it changes the SR's storage, the SR's storage lock; the
 * driver and qemu-img run outside store transactions.
 *
 * Order of work, so that a crash loses nothing: a new volume is made
 * before its record (a crash in between leaves a volume that the next scan
 * introduces); a deleted one goes before its record (the scan marks it
 * missing).
 */
#include "storage/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/inflight.h"
#include "lifecycle/oplock.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/qemu_img.h"
#include "storage/sr_handle.h"
#include "store/store.h"

/* Everything one VDI operation holds. */
struct vdi_op {
	struct engine *e;
	const char *ref;
	struct oplock lock;
	struct inflight mark;
	struct json_object *rec;   /* the VDI's stored fields at begin */
	struct sr_handle sr;
	int sr_lock;
	char *vm;                  /* the running (or suspended) VM that has it attached, or NULL */
	bool vm_rw;                /* ...read-write */
	bool live;                 /* ...in a domain (not suspended): the hypervisor has the image open */
	int64_t domid;
	uint32_t position;
};

static const char *const vdi_fields[] = { "uuid", "name_label", "name_description", "SR", "virtual_size",
					  "physical_utilisation", "location", "sm_config", "type", "read_only",
					  "sharable", "missing", "other_config", NULL };

/* Which running VM (other than `except`, which may be NULL) uses the VDI, through
 * which position, and how; writers_only: one that has it read-write. In a transaction. */
static int find_running_user(struct engine *e, const char *vdi, const char *except, bool writers_only, char **vm,
			     bool *rw, int64_t *domid, uint32_t *position)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VDI", vdi, &vbds);
	*vm = NULL;
	static const char *const vbd_fields[] = { "VM", "mode", "currently_attached", "userdevice", NULL };
	static const char *const vm_fields[] = { "power_state", "domid", NULL };
	for (size_t i = 0; r == 0 && !*vm && i < json_object_array_length(vbds); i++) {
		const char *vbd = json_object_get_string(json_object_array_get_idx(vbds, i));
		struct json_object *b = NULL, *v = NULL;
		if ((r = rec_read_fields(e, &class_vbd, vbd, vbd_fields, &b)) == 0 && rec_bool(b, "currently_attached") &&
		    (!except || strcmp(rec_str(b, "VM"), except) != 0) &&
		    (!writers_only || strcmp(rec_str(b, "mode"), "RW") == 0) &&
		    (r = rec_read_fields(e, &class_vm, rec_str(b, "VM"), vm_fields, &v)) == 0 &&
		    strcmp(rec_str(v, "power_state"), "Halted") != 0) {
			*vm = strdup(rec_str(b, "VM"));
			if (rw)
				*rw = strcmp(rec_str(b, "mode"), "RW") == 0;
			if (domid)
				*domid = rec_int(v, "domid");
			if (position)
				*position = (uint32_t)atoi(rec_str(b, "userdevice"));
		}
		json_object_put(b);
		json_object_put(v);
	}
	json_object_put(vbds);
	return r;
}

int storage_vdi_running_vm(struct engine *e, const char *vdi, char **vm)
{
	return find_running_user(e, vdi, NULL, false, vm, NULL, NULL, NULL);
}

int storage_vdi_check_attach(struct engine *e, const char *vdi, const char *vm, bool rw)
{
	static const char *const fields[] = { "name_label", "sharable", NULL };
	struct json_object *rec;
	int r = rec_read_fields(e, &class_vdi, vdi, fields, &rec);
	if (r < 0)
		return r;
	char *other = NULL;
	if (!rec_bool(rec, "sharable") && (r = find_running_user(e, vdi, vm, !rw, &other, NULL, NULL, NULL)) == 0 &&
	    other)
		r = ERR2(XVM_ERR_VDI_IN_USE, vdi, other, "VDI %s is in use by running VM %s", rec_str(rec, "name_label"),
			 other);
	free(other);
	json_object_put(rec);
	return r;
}

int storage_vdi_location(struct engine *e, const char *vdi, char **location)
{
	static const char *const fields[] = { "location", NULL };
	struct json_object *rec;
	int r = rec_read_fields(e, &class_vdi, vdi, fields, &rec);
	if (r == 0) {
		*location = strdup(rec_str(rec, "location"));
		json_object_put(rec);
	}
	return r;
}

static const char *label(struct vdi_op *op)
{
	return rec_str(op->rec, "name_label");
}

static void vdi_op_end(struct vdi_op *op)
{
	if (op->sr_lock >= 0)
		sr_unlock(op->sr_lock);
	sr_handle_close(&op->sr);
	inflight_end(&op->mark);
	oplock_release(&op->lock);
	json_object_put(op->rec);
	free(op->vm);
}

static int vdi_op_fail(struct vdi_op *op, int r)
{
	vdi_op_end(op);
	return r;
}

enum vdi_op_flags {
	VDI_OP_NOT_IN_USE = 1u << 0,     /* refuse a VDI a running VM writes to (VDI_IN_USE) */
	VDI_OP_NOT_ATTACHED = 1u << 1,   /* refuse a VDI any running VM has attached */
	VDI_OP_STORAGE_LOCK = 1u << 2,   /* hold the SR's storage lock */
	VDI_OP_MAY_BE_MISSING = 1u << 3, /* a VDI whose volume vanished is no error (VDI_MISSING otherwise) */
};

/* Locks the VDI, reads it and its SR (plugged), checks it is there. */
static int vdi_op_begin(struct engine *e, const char *ref, const char *name, unsigned flags, struct vdi_op *op)
{
	memset(op, 0, sizeof(*op));
	op->e = e;
	op->ref = ref;
	op->sr_lock = -1;
	int r = oplock_try(e, "VDI", ref, &op->lock);
	if (r < 0)
		return r;
	if ((r = store_begin_read(e->store)) < 0) {
		oplock_release(&op->lock);
		return r;
	}
	bool rw = false;
	if ((r = rec_read_fields(e, &class_vdi, ref, vdi_fields, &op->rec)) == 0 &&
	    (r = find_running_user(e, ref, NULL, false, &op->vm, &rw, &op->domid, &op->position)) == 0)
		r = sr_handle_open(e, rec_str(op->rec, "SR"), SR_OPEN_PLUGGED, &op->sr);
	store_rollback(e->store);
	op->vm_rw = op->vm && rw;
	op->live = op->vm && op->domid >= 0;
	if (r == 0 && rec_bool(op->rec, "missing") && !(flags & VDI_OP_MAY_BE_MISSING))
		r = ERR1(XVM_ERR_VDI_MISSING, ref, "the storage no longer has VDI %s: sr-scan, or forget it", label(op));
	if (r == 0 && op->vm && ((flags & VDI_OP_NOT_ATTACHED) || ((flags & VDI_OP_NOT_IN_USE) && op->vm_rw)))
		r = ERR2(XVM_ERR_VDI_IN_USE, ref, op->vm, "VDI %s is in use by running VM %s", label(op), op->vm);
	if (r == 0)
		r = inflight_begin(e, &op->lock, "VDI", ref, name, &op->mark);
	if (r == 0 && (flags & VDI_OP_STORAGE_LOCK) && (op->sr_lock = sr_lock(e, op->sr.uuid)) < 0)
		r = op->sr_lock;
	return r < 0 ? vdi_op_fail(op, r) : 0;
}

static int not_supported(struct sr_handle *sr, const char *doing)
{
	return ERR2(XVM_ERR_SR_OPERATION_NOT_SUPPORTED, sr->ref, doing, "a %s SR cannot %s", sr->drv->type, doing);
}

/* SR_FULL unless `bytes` more fit in the SR now. */
static int check_room(struct sr_handle *sr, uint64_t bytes)
{
	if (!sr->drv->space)
		return 0;
	struct sr_space s;
	int r = sr->drv->space(sr, &s);
	if (r < 0)
		return r;
	uint64_t free_bytes = s.physical_size > s.physical_utilisation ? s.physical_size - s.physical_utilisation : 0;
	if (bytes <= free_bytes)
		return 0;
	char need[24], have[24];
	snprintf(need, sizeof(need), "%" PRIu64, bytes);
	snprintf(have, sizeof(have), "%" PRIu64, free_bytes);
	return ERR3(XVM_ERR_SR_FULL, need, have, sr->ref, "SR %s has %s bytes free; this needs %s", sr->uuid, have,
		    need);
}

/* Writes `changes` to the VDI, the new VDI `added` (may be NULL) and the SR's figures, in one transaction. */
static int record(struct vdi_op *op, struct json_object *changes, const struct sr_volume *added,
		  struct json_object *added_fields, char added_ref[XVM_REF_BUFLEN])
{
	int r = store_begin_write(op->e->store);
	if (r < 0)
		return r;
	if (changes)
		r = rec_update(op->e, &class_vdi, op->ref, changes);
	if (r == 0 && added)
		r = storage_volume_record(op->e, op->sr.ref, added, added_fields, added_ref);
	if (r == 0)
		r = storage_update_space(op->e, &op->sr);
	if (r < 0) {
		store_rollback(op->e->store);
		return r;
	}
	return store_commit(op->e->store);
}

/* Adds the volume's physical_utilisation to `changes` once its content or size
 * changed; left out (the old figure stays) if the image cannot be read now. */
static void add_usage(struct vdi_op *op, struct json_object *changes)
{
	char path[XVM_HC_PATH_MAX], format[SR_FORMAT_MAX];
	uint64_t vsize, used;
	if (op->sr.drv->vdi_path(&op->sr, rec_str(op->rec, "location"), path, format) == 0 &&
	    qemu_img_info(path, format, &vsize, &used) == 0)
		json_object_object_add(changes, "physical_utilisation", json_object_new_int64((int64_t)used));
	error_clear();
}

static int parse_format(struct json_object *sm_config, const char **format)
{
	struct json_object *v;
	*format = "qcow2";
	if (sm_config && json_object_object_get_ex(sm_config, "type", &v))
		*format = json_object_get_string(v);
	if (strcmp(*format, "qcow2") != 0 && strcmp(*format, "raw") != 0)
		return ERR2(XVM_ERR_INVALID_VALUE, "sm_config:type", *format,
			    "a disk is qcow2 or raw, not '%s'", *format);
	return 0;
}

/* The copyable fields of a VDI.create record. */
static struct json_object *new_vdi_fields(struct json_object *record)
{
	static const char *const keep[] = { "name_label", "name_description", "type", "sharable", "read_only",
					    "other_config", "sm_config", "tags", NULL };
	struct json_object *o = json_object_new_object(), *v;
	for (const char *const *k = keep; *k; k++)
		if (json_object_object_get_ex(record, *k, &v))
			json_object_object_add(o, *k, json_object_get(v));
	return o;
}

int vdi_create(struct engine *e, struct json_object *record, char **ret_ref)
{
	if (!json_object_is_type(record, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "record", "VDI.create takes a record");
	struct json_object *v, *sm = NULL;
	const char *sr_ref = json_object_object_get_ex(record, "SR", &v) ? json_object_get_string(v) : "";
	int64_t size = json_object_object_get_ex(record, "virtual_size", &v) ? json_object_get_int64(v) : 0;
	if (v && json_object_is_type(v, json_type_string) && parse_int64(json_object_get_string(v), &size) < 0)
		size = 0;
	if (size <= 0)
		return ERR2(XVM_ERR_INVALID_VALUE, "virtual_size", v ? json_object_get_string(v) : "",
			    "a new VDI needs a virtual_size above 0 bytes");
	json_object_object_get_ex(record, "sm_config", &sm);
	const char *format;
	int r = parse_format(sm, &format);
	if (r < 0)
		return r;
	struct sr_handle h;
	if ((r = store_begin_read(e->store)) < 0)
		return r;
	r = sr_handle_open(e, sr_ref, SR_OPEN_PLUGGED, &h);
	store_rollback(e->store);
	if (r < 0)
		return r;
	int lock = -1;
	if (!(h.drv->caps & SR_CAP_VDI_CREATE))
		r = not_supported(&h, "create disks");
	/* Thin or not, a new disk must fit now: a guest never finds its disk full at creation. */
	if (r == 0)
		r = check_room(&h, (uint64_t)size);
	if (r == 0 && (lock = sr_lock(e, h.uuid)) < 0)
		r = lock;
	char uuid[XVM_UUID_BUFLEN], ref[XVM_REF_BUFLEN];
	uuid_generate_str(uuid);
	struct sr_volume vol;
	if (r == 0 && (r = h.drv->vdi_create(&h, uuid, (uint64_t)size, format, &vol)) == 0) {
		struct json_object *fields = new_vdi_fields(record);
		if ((r = store_begin_write(e->store)) == 0) {
			if ((r = storage_volume_record(e, h.ref, &vol, fields, ref)) == 0)
				r = storage_update_space(e, &h);
			if (r < 0)
				store_rollback(e->store);
			else
				r = store_commit(e->store);
		}
		json_object_put(fields);
		if (r < 0) {
			void *first = error_stash();
			h.drv->vdi_delete(&h, vol.location);
			r = error_unstash(first);
		}
	}
	sr_unlock(lock);
	sr_handle_close(&h);
	if (r < 0)
		return r;
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

/* Deletes the VDI's record (and VBDs, emptying CD drives), and the SR's figures, in one transaction. */
static int forget_record(struct vdi_op *op)
{
	int r = store_begin_write(op->e->store);
	if (r < 0)
		return r;
	if ((r = storage_forget_vdi(op->e, op->ref)) == 0)
		r = storage_update_space(op->e, &op->sr);
	if (r < 0) {
		store_rollback(op->e->store);
		return r;
	}
	return store_commit(op->e->store);
}

int vdi_destroy(struct engine *e, const char *ref)
{
	struct vdi_op op;
	int r = vdi_op_begin(e, ref, "destroy", VDI_OP_NOT_ATTACHED | VDI_OP_STORAGE_LOCK | VDI_OP_MAY_BE_MISSING, &op);
	if (r < 0)
		return r;
	if (!(op.sr.drv->caps & SR_CAP_VDI_CREATE))
		r = not_supported(&op.sr, "delete disks");
	/* A missing disk's record is all that is left to delete. */
	else if (!rec_bool(op.rec, "missing"))
		r = op.sr.drv->vdi_delete(&op.sr, rec_str(op.rec, "location"));
	if (r == 0)
		r = forget_record(&op);
	vdi_op_end(&op);
	return r;
}

int vdi_forget(struct engine *e, const char *ref)
{
	struct vdi_op op;
	int r = vdi_op_begin(e, ref, "forget", VDI_OP_NOT_ATTACHED | VDI_OP_MAY_BE_MISSING, &op);
	if (r < 0)
		return r;
	r = forget_record(&op);
	vdi_op_end(&op);
	return r;
}

int vdi_resize(struct engine *e, const char *ref, int64_t size)
{
	struct vdi_op op;
	int r = vdi_op_begin(e, ref, "resize", VDI_OP_STORAGE_LOCK, &op);
	if (r < 0)
		return r;
	int64_t old = rec_int(op.rec, "virtual_size");
	if (!(op.sr.drv->caps & SR_CAP_VDI_RESIZE))
		return vdi_op_fail(&op, not_supported(&op.sr, "resize disks"));
	if (size < old) {
		char a[24], b[24];
		snprintf(a, sizeof(a), "%" PRId64, size);
		snprintf(b, sizeof(b), "%" PRId64, old);
		return vdi_op_fail(&op, ERR2(XVM_ERR_VDI_TOO_SMALL, ref, a,
					     "VDI %s can only grow: it has %s bytes, not %s", label(&op), b, a));
	}
	if (size == old)
		return vdi_op_fail(&op, 0);
	/* A suspended guest would wake up on a disk of another size than it knows. */
	if (op.vm && !op.live)
		return vdi_op_fail(&op, ERR2(XVM_ERR_VDI_IN_USE, ref, op.vm, "VDI %s is in use by suspended VM %s",
					     label(&op), op.vm));
	if ((r = check_room(&op.sr, (uint64_t)(size - old))) < 0)
		return vdi_op_fail(&op, r);
	if (op.live) {
		/* The running guest's QEMU grows the image itself and tells the guest. */
		struct xvm_hc_disk_resize rz = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid,
						 .position = op.position, .size_bytes = (uint64_t)size };
		if ((r = xvm_hypercall(e->hv, XVM_HC_DISK_RESIZE, &rz)) < 0)
			r = engine_hv_error(e, r, "disk resize", op.vm);
	} else {
		r = op.sr.drv->vdi_resize(&op.sr, rec_str(op.rec, "location"), (uint64_t)size);
	}
	if (r == 0) {
		struct json_object *ch = json_object_new_object();
		json_object_object_add(ch, "virtual_size", json_object_new_int64(size));
		/* A raw disk reserves its new room at once. */
		add_usage(&op, ch);
		r = record(&op, ch, NULL, NULL, NULL);
		json_object_put(ch);
	}
	vdi_op_end(&op);
	return r;
}

/* The live half of a clone: the running guest moves onto the source's new top image. */
static int switch_disk(void *ctx, const char *path, const char *format)
{
	struct vdi_op *op = ctx;
	struct xvm_hc_disk_snapshot s = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op->domid,
					  .position = op->position };
	snprintf(s.overlay_path, sizeof(s.overlay_path), "%s", path);
	snprintf(s.overlay_format, sizeof(s.overlay_format), "%s", format);
	int r = xvm_hypercall(op->e->hv, XVM_HC_DISK_SNAPSHOT, &s);
	return r < 0 ? engine_hv_error(op->e, r, "disk snapshot", op->vm) : 0;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

int vdi_clone(struct engine *e, const char *ref, bool snapshot, char **ret_ref)
{
	struct vdi_op op;
	int r = vdi_op_begin(e, ref, snapshot ? "snapshot" : "clone", VDI_OP_STORAGE_LOCK, &op);
	if (r < 0)
		return r;
	if (!(op.sr.drv->caps & SR_CAP_VDI_CLONE))
		return vdi_op_fail(&op, not_supported(&op.sr, snapshot ? "snapshot disks" : "clone disks"));
	char uuid[XVM_UUID_BUFLEN], new_ref[XVM_REF_BUFLEN];
	uuid_generate_str(uuid);
	/* A guest that writes to the disk moves onto a new top image at the instant of the copy. */
	struct sr_live_switch live = { switch_disk, &op };
	struct sr_volume src_after, vol;
	/* A suspended guest's disk is cloned offline: it resumes on the source's new top. */
	if ((r = op.sr.drv->vdi_clone(&op.sr, rec_str(op.rec, "location"), uuid, op.vm_rw && op.live ? &live : NULL,
				      &src_after, &vol)) < 0)
		return vdi_op_fail(&op, r);

	struct json_object *src = json_object_new_object(), *sm, *fields = json_object_new_object(), *v;
	add_str(src, "location", src_after.location);
	json_object_object_add(src, "physical_utilisation", json_object_new_int64((int64_t)src_after.physical_utilisation));
	json_object_object_get_ex(op.rec, "sm_config", &sm);
	sm = sm ? json_object_get(sm) : json_object_new_object();
	add_str(sm, "type", src_after.format);
	json_object_object_add(src, "sm_config", json_object_get(sm));
	static const char *const copied[] = { "name_label", "name_description", "type", "sharable", "read_only",
					      "other_config", NULL };
	for (const char *const *k = copied; *k; k++)
		if (json_object_object_get_ex(op.rec, *k, &v))
			json_object_object_add(fields, *k, json_object_get(v));
	struct json_object *new_sm = json_object_new_object();
	json_object_object_add(fields, "sm_config", new_sm);
	if (snapshot) {
		char now[XVM_DATETIME_BUFLEN];
		datetime_format(time(NULL), now);
		json_object_object_add(fields, "is_a_snapshot", json_object_new_boolean(1));
		add_str(fields, "snapshot_of", ref);
		add_str(fields, "snapshot_time", now);
	}
	r = record(&op, src, &vol, fields, new_ref);
	json_object_put(src);
	json_object_put(sm);
	json_object_put(fields);
	if (r < 0) {
		void *first = error_stash();
		op.sr.drv->vdi_delete(&op.sr, vol.location);
		r = error_unstash(first);
	}
	vdi_op_end(&op);
	if (r < 0)
		return r;
	*ret_ref = strdup(new_ref);
	return *ret_ref ? 0 : error_oom();
}

static bool direct_io_works(const char *path)
{
	if (strstr(path, "://"))
		return false;
	int fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* qemu-img convert from one image into an existing one of at least its size. */
static int convert_into(const char *what, const char *src, const char *src_format, const char *dst,
			const char *dst_format, const struct qemu_img_progress *progress)
{
	/* -n: the target exists (its SR made it); -W: out of order writes, faster.
	 * -S 0 for a raw disk: its zeros are written, not punched out of the
	 * room it reserved. -p: the caller follows the copy. */
	const char *args[16] = { "convert", progress ? "-p" : "-q", "-n", "-W", "-f", src_format, "-O", dst_format };
	size_t n = 8;
	if (strcmp(dst_format, "raw") == 0) {
		args[n++] = "-S";
		args[n++] = "0";
	}
	/* Writing around the page cache (O_DIRECT) is twice as fast as through
	 * it, flush included, where the file system allows it (tmpfs does not). */
	if (direct_io_works(dst)) {
		args[n++] = "-t";
		args[n++] = "none";
	}
	args[n++] = src;
	args[n++] = dst;
	args[n] = NULL;
	return progress ? qemu_img_run_progress(what, QEMU_IMG_COPY, args, progress)
			: qemu_img_runv(what, QEMU_IMG_COPY, NULL, args);
}

int vdi_copy(struct engine *e, const char *ref, const char *sr_ref, char **ret_ref)
{
	struct vdi_op op;
	/* A disk a guest writes to would be copied half-changed: snapshot it and copy that. */
	int r = vdi_op_begin(e, ref, "copy", VDI_OP_NOT_IN_USE, &op);
	if (r < 0)
		return r;
	char src[XVM_HC_PATH_MAX], src_format[SR_FORMAT_MAX];
	if ((r = op.sr.drv->vdi_path(&op.sr, rec_str(op.rec, "location"), src, src_format)) < 0)
		return vdi_op_fail(&op, r);
	struct json_object *rec = json_object_new_object(), *v;
	static const char *const copied[] = { "name_label", "name_description", "type", "sharable", "other_config",
					      NULL };
	for (const char *const *k = copied; *k; k++)
		if (json_object_object_get_ex(op.rec, *k, &v))
			json_object_object_add(rec, *k, json_object_get(v));
	add_str(rec, "SR", sr_ref);
	json_object_object_add(rec, "virtual_size", json_object_new_int64(rec_int(op.rec, "virtual_size")));
	char *new_ref = NULL;
	r = vdi_create(e, rec, &new_ref);
	json_object_put(rec);
	if (r == 0)
		r = vdi_import(e, new_ref, src, src_format);
	if (r < 0 && new_ref) {
		void *first = error_stash();
		vdi_destroy(e, new_ref);
		r = error_unstash(first);
	}
	vdi_op_end(&op);
	if (r < 0) {
		free(new_ref);
		return r;
	}
	*ret_ref = new_ref;
	return 0;
}

static int unknown_format(const char *format)
{
	return ERR2(XVM_ERR_INVALID_VALUE, "format", format ? format : "",
		    "image format '%s': use raw, qcow2, vhd or vmdk", format ? format : "");
}

/* The room an import needs beyond what the disk takes: all of the image's bytes
 * for a thin qcow2 disk; for a raw one, which reserved its size, those beyond. */
static uint64_t import_room(const char *disk_format, uint64_t image_bytes, uint64_t disk_bytes)
{
	if (strcmp(disk_format, "raw") != 0)
		return image_bytes;
	return image_bytes > disk_bytes ? image_bytes - disk_bytes : 0;
}

/* The image's size and the bytes it takes, or IMPORT_ERROR: unreadable, or not of that format. */
static int readable_image(const char *filename, const char *qformat, const char *format, uint64_t *size,
			  uint64_t *actual)
{
	/* Not a URL: an import reads a file of this host. */
	bool url = strstr(filename, "://") != NULL;
	if (!url && access(filename, R_OK) < 0)
		return ERR2(XVM_ERR_IMPORT_ERROR, filename, "cannot read", "cannot read %s: %s", filename,
			    strerror(errno));
	int r = qemu_img_info(filename, qformat, size, actual);
	if (r < 0) {
		/* Setting the new error frees the old one's message: copy it first. */
		char *why = strdup(xvm_last_error()->message);
		if (!why)
			return error_oom();
		r = ERR2(XVM_ERR_IMPORT_ERROR, filename, why, "%s is not a %s image: %s", filename, format, why);
		free(why);
	}
	return r;
}

int vdi_import(struct engine *e, const char *ref, const char *filename, const char *format)
{
	return vdi_import_progress(e, ref, filename, format, NULL);
}

int vdi_import_progress(struct engine *e, const char *ref, const char *filename, const char *format,
			const struct qemu_img_progress *progress)
{
	const char *qformat = qemu_img_format(format);
	if (!qformat)
		return unknown_format(format);
	uint64_t size, actual;
	int r = readable_image(filename, qformat, format, &size, &actual);
	if (r < 0)
		return r;
	struct vdi_op op;
	if ((r = vdi_op_begin(e, ref, "import", VDI_OP_NOT_ATTACHED, &op)) < 0)
		return r;
	if (rec_bool(op.rec, "read_only") || !(op.sr.drv->caps & SR_CAP_VDI_CREATE))
		return vdi_op_fail(&op, ERR1(XVM_ERR_VDI_READ_ONLY, ref, "VDI %s is read-only", label(&op)));
	if ((int64_t)size > rec_int(op.rec, "virtual_size")) {
		char a[24];
		snprintf(a, sizeof(a), "%" PRIu64, size);
		return vdi_op_fail(&op, ERR2(XVM_ERR_VDI_TOO_SMALL, ref, a,
					     "%s holds %s bytes; VDI %s has only %" PRId64, filename, a, label(&op),
					     rec_int(op.rec, "virtual_size")));
	}
	char dst[XVM_HC_PATH_MAX], dst_format[SR_FORMAT_MAX];
	uint64_t used = (uint64_t)rec_int(op.rec, "physical_utilisation");
	if ((r = op.sr.drv->vdi_path(&op.sr, rec_str(op.rec, "location"), dst, dst_format)) == 0 &&
	    (r = check_room(&op.sr, import_room(dst_format, actual, used))) == 0)
		r = convert_into("import the image", filename, qformat, dst, dst_format, progress);
	if (r == 0) {
		struct json_object *ch = json_object_new_object();
		add_usage(&op, ch);
		r = record(&op, ch, NULL, NULL, NULL);
		json_object_put(ch);
	}
	vdi_op_end(&op);
	return r;
}

int vdi_export(struct engine *e, const char *ref, const char *filename, const char *format)
{
	return vdi_export_progress(e, ref, filename, format, NULL);
}

int vdi_export_progress(struct engine *e, const char *ref, const char *filename, const char *format,
			const struct qemu_img_progress *progress)
{
	const char *qformat = qemu_img_format(format);
	if (!qformat)
		return unknown_format(format);
	struct vdi_op op;
	int r = vdi_op_begin(e, ref, "export", VDI_OP_NOT_IN_USE, &op);
	if (r < 0)
		return r;
	char src[XVM_HC_PATH_MAX], src_format[SR_FORMAT_MAX], *tmp = NULL;
	if ((r = op.sr.drv->vdi_path(&op.sr, rec_str(op.rec, "location"), src, src_format)) < 0)
		return vdi_op_fail(&op, r);
	/* Written aside and renamed: a full disk or a crash leaves no half image under the name. */
	if (asprintf(&tmp, "%s.xvm-partial", filename) < 0)
		return vdi_op_fail(&op, error_oom());
	const char *options = strcmp(qformat, "vpc") == 0 ? "subformat=dynamic"
			      : strcmp(qformat, "vmdk") == 0 ? "subformat=streamOptimized" : NULL;
	const char *args[16] = { "convert", progress ? "-p" : "-q", "-f", src_format, "-O", qformat };
	size_t n = 6;
	if (options) {
		args[n++] = "-o";
		args[n++] = options;
	}
	args[n++] = src;
	args[n++] = tmp;
	args[n] = NULL;
	r = progress ? qemu_img_run_progress("export the disk", QEMU_IMG_COPY, args, progress)
		     : qemu_img_runv("export the disk", QEMU_IMG_COPY, NULL, args);
	if (r == 0 && rename(tmp, filename) < 0)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "export the disk", filename, "cannot write %s: %s", filename,
			 strerror(errno));
	if (r < 0)
		unlink(tmp);
	free(tmp);
	vdi_op_end(&op);
	return r;
}

int vdi_create_from_image(struct engine *e, struct json_object *record, const char *filename, const char *format,
			  char **ret_ref)
{
	const char *qformat = qemu_img_format(format);
	if (!qformat)
		return unknown_format(format);
	if (!json_object_is_type(record, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "record", "VDI.create_from_image takes a record");
	uint64_t size, actual;
	int r = readable_image(filename, qformat, format, &size, &actual);
	if (r < 0)
		return r;
	/* The disk is as big as the image, unless the record asks for more. */
	struct json_object *rec = json_object_new_object(), *v;
	json_object_object_foreach(record, k, val)
		json_object_object_add(rec, k, json_object_get(val));
	if (!json_object_object_get_ex(rec, "virtual_size", &v))
		json_object_object_add(rec, "virtual_size", json_object_new_int64((int64_t)((size + 511) / 512 * 512)));
	char *ref = NULL;
	r = vdi_create(e, rec, &ref);
	json_object_put(rec);
	if (r == 0 && (r = vdi_import(e, ref, filename, format)) < 0) {
		void *first = error_stash();
		vdi_destroy(e, ref);
		r = error_unstash(first);
	}
	if (r < 0) {
		free(ref);
		return r;
	}
	*ret_ref = ref;
	return 0;
}
