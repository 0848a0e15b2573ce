/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VBD operations: creating drives, hot-plugging disks into running VMs,
 * changing the disc of a CD drive. Those that touch a running guest hold
 * the VM's operation lock, as the lifecycle does, so that a start or a
 * shutdown never races a plug.
 */
#include "storage/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/vm_op.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/sr_handle.h"
#include "store/store.h"

#define MAX_POSITION (XVM_HC_MAX_DISKS - 1)

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static bool bool_or(struct json_object *rec, const char *k, bool dflt)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rec, k, &v))
		return dflt;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), "true") == 0;
	return json_object_get_boolean(v);
}

/* Positions the VM's VBDs take, as a bit set. In a transaction. */
static int used_positions(struct engine *e, const char *vm, unsigned *used)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VM", vm, &vbds);
	static const char *const fields[] = { "userdevice", NULL };
	*used = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(vbds); i++) {
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vbd, json_object_get_string(json_object_array_get_idx(vbds, i)), fields,
					 &rec)) == 0) {
			int64_t p;
			if (parse_int64(rec_str(rec, "userdevice"), &p) == 0 && p >= 0 && p <= MAX_POSITION)
				*used |= 1u << p;
			json_object_put(rec);
		}
	}
	json_object_put(vbds);
	return r;
}

/* "xvda" for 0: the name XenServer gives the guest's disk at each position. */
static void device_name(char out[8], int64_t position)
{
	snprintf(out, 8, "xvd%c", (char)('a' + position));
}

/* The VDI's fields a drive needs, and whether it is an ISO image. */
static int read_vdi_for_drive(struct engine *e, const char *vdi, struct json_object **rec, bool *iso)
{
	static const char *const fields[] = { "name_label", "read_only", "SR", "missing", NULL };
	static const char *const sr_fields[] = { "content_type", NULL };
	struct json_object *sr;
	/* rec_read_fields leaves *rec as it was when it fails. */
	int r = rec_read_fields(e, &class_vdi, vdi, fields, rec);
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_sr, rec_str(*rec, "SR"), sr_fields, &sr)) < 0) {
		json_object_put(*rec);
		*rec = NULL;
		return r;
	}
	*iso = strcmp(rec_str(sr, "content_type"), "iso") == 0;
	json_object_put(sr);
	return 0;
}

static int not_a_cd(const char *vdi, struct json_object *rec)
{
	return ERR1(XVM_ERR_VDI_IS_NOT_ISO, vdi, "%s is a disk, not a CD image: a CD drive takes the images of an "
		    "ISO library (an iso SR) or a DVD drive", rec_str(rec, "name_label"));
}

static int check_vbd_record(struct engine *e, const char *vm, const char *vdi,
			    const char *type, const char **mode, const char *userdevice, int64_t *position)
{
	if (strcmp(type, "Disk") != 0 && strcmp(type, "CD") != 0)
		return ERR2(XVM_ERR_INVALID_VALUE, "type", type, "a VBD's type is Disk or CD, not '%s'", type);
	if (strcmp(*mode, "RW") != 0 && strcmp(*mode, "RO") != 0)
		return ERR2(XVM_ERR_INVALID_VALUE, "mode", *mode, "a VBD's mode is RW or RO, not '%s'", *mode);
	static const char *const vm_fields[] = { "name_label", "is_default_template", NULL };
	struct json_object *vrec;
	int r = rec_read_fields(e, &class_vm, vm, vm_fields, &vrec);
	if (r < 0)
		return r;
	if (rec_bool(vrec, "is_default_template"))
		r = ERR1(XVM_ERR_VM_IS_TEMPLATE, vm, "%s is a built-in template: its drives cannot change",
			 rec_str(vrec, "name_label"));
	json_object_put(vrec);
	if (r < 0)
		return r;
	bool empty = ref_is_null(vdi);
	if (empty && strcmp(type, "CD") != 0)
		return ERR1(XVM_ERR_INVALID_VALUE, "VDI", "a disk drive needs a VDI; only a CD drive may be empty");
	if (strcmp(type, "CD") == 0)
		*mode = "RO";
	if (!empty) {
		struct json_object *d;
		bool iso;
		if ((r = read_vdi_for_drive(e, vdi, &d, &iso)) < 0)
			return r;
		if (iso && strcmp(type, "CD") != 0)
			r = ERR1(XVM_ERR_VDI_IS_NOT_ISO, vdi, "%s is a CD image: attach it as a CD (type=CD)",
				 rec_str(d, "name_label"));
		else if (!iso && strcmp(type, "CD") == 0)
			r = not_a_cd(vdi, d);
		else if (rec_bool(d, "read_only") && strcmp(*mode, "RW") == 0)
			r = ERR1(XVM_ERR_VDI_READ_ONLY, vdi, "%s is read-only: attach it with mode=RO",
				 rec_str(d, "name_label"));
		json_object_put(d);
		if (r < 0)
			return r;
	}
	unsigned used;
	if ((r = used_positions(e, vm, &used)) < 0)
		return r;
	if (strcmp(userdevice, "autodetect") == 0 || !*userdevice) {
		/* As xapi: the first free position, 3 kept for the CD of HVM templates. */
		*position = -1;
		for (int p = 0; p <= MAX_POSITION && *position < 0; p++)
			if (!(used & (1u << p)) && (p != 3 || strcmp(type, "CD") == 0))
				*position = p;
		if (*position < 0)
			return ERR1(XVM_ERR_DEVICE_ALREADY_EXISTS, vm, "VM %s has no free drive position", vm);
	} else if (parse_int64(userdevice, position) < 0 || *position < 0 || *position > MAX_POSITION) {
		return ERR2(XVM_ERR_INVALID_VALUE, "userdevice", userdevice,
			    "userdevice is a position 0..%d or autodetect, not '%s'", MAX_POSITION, userdevice);
	} else if (used & (1u << *position)) {
		return ERR2(XVM_ERR_DEVICE_ALREADY_EXISTS, vm, userdevice, "VM %s has a drive at position %s already",
			    vm, userdevice);
	}
	return 0;
}

int vbd_create(struct engine *e, struct json_object *in, char **ret_ref)
{
	if (!json_object_is_type(in, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, "record", "VBD.create takes a record");
	const char *vm = rec_str_or(in, "VM", ""), *vdi = rec_str_or(in, "VDI", XVM_NULL_REF);
	const char *type = rec_str_or(in, "type", "Disk"), *mode = rec_str_or(in, "mode", "RW");
	const char *userdevice = rec_str_or(in, "userdevice", "autodetect");
	if (!*vdi)
		vdi = XVM_NULL_REF;
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	int64_t position;
	char ref[XVM_REF_BUFLEN], pos[24], dev[8];
	if ((r = check_vbd_record(e, vm, vdi, type, &mode, userdevice, &position)) == 0) {
		struct json_object *o = json_object_new_object(), *v;
		snprintf(pos, sizeof(pos), "%lld", (long long)position);
		device_name(dev, position);
		add_str(o, "VM", vm);
		add_str(o, "VDI", vdi);
		add_str(o, "userdevice", pos);
		add_str(o, "device", dev);
		add_str(o, "type", type);
		add_str(o, "mode", mode);
		json_object_object_add(o, "bootable", json_object_new_boolean(bool_or(in, "bootable", false)));
		json_object_object_add(o, "unpluggable", json_object_new_boolean(bool_or(in, "unpluggable", true)));
		json_object_object_add(o, "empty", json_object_new_boolean(ref_is_null(vdi)));
		if (json_object_object_get_ex(in, "other_config", &v) && json_object_is_type(v, json_type_object))
			json_object_object_add(o, "other_config", json_object_get(v));
		ref_generate(ref);
		r = rec_insert(e, &class_vbd, ref, o);
		json_object_put(o);
	}
	if (r < 0 || (r = store_commit(e->store)) < 0) {
		store_rollback(e->store);
		return r;
	}
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

static const char *const vbd_fields[] = { "VM", "VDI", "userdevice", "type", "mode", "bootable", "empty",
					  "unpluggable", "currently_attached", NULL };

static int read_vbd(struct engine *e, const char *vbd, struct json_object **rec)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = rec_read_fields(e, &class_vbd, vbd, vbd_fields, rec);
	store_rollback(e->store);
	return r;
}

static int write_vbd(struct engine *e, const char *vbd, struct json_object *changes)
{
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	if ((r = rec_update(e, &class_vbd, vbd, changes)) < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

int vbd_destroy(struct engine *e, const char *vbd)
{
	return vm_device_destroy(e, &class_vbd, vbd);
}

int storage_vbd_disk(struct engine *e, struct json_object *vbd, struct xvm_hc_disk_config *disk)
{
	memset(disk, 0, sizeof(*disk));
	disk->kind = strcmp(rec_str(vbd, "type"), "CD") == 0 ? XVM_HC_CDROM : XVM_HC_DISK;
	disk->position = (uint32_t)atoi(rec_str(vbd, "userdevice"));
	disk->read_only = strcmp(rec_str(vbd, "mode"), "RO") == 0;
	disk->bootable = rec_bool(vbd, "bootable");
	const char *vdi = rec_str(vbd, "VDI");
	if (ref_is_null(vdi) || rec_bool(vbd, "empty"))
		return 0;
	static const char *const fields[] = { "SR", "location", "missing", "name_label", NULL };
	struct json_object *d;
	int r = rec_read_fields(e, &class_vdi, vdi, fields, &d);
	if (r < 0)
		return r;
	if (rec_bool(d, "missing")) {
		r = ERR1(XVM_ERR_VDI_MISSING, vdi, "the storage no longer has VDI %s", rec_str(d, "name_label"));
	} else if ((r = storage_vdi_check_attach(e, vdi, rec_str(vbd, "VM"), !disk->read_only)) == 0) {
		struct sr_handle h;
		char format[SR_FORMAT_MAX];
		if ((r = sr_handle_open(e, rec_str(d, "SR"), SR_OPEN_PLUGGED, &h)) == 0) {
			if ((r = h.drv->vdi_path(&h, rec_str(d, "location"), disk->path, format)) == 0)
				snprintf(disk->format, sizeof(disk->format), "%s",
					 strcmp(format, "iso") == 0 ? "raw" : format);
			sr_handle_close(&h);
		}
	}
	json_object_put(d);
	return r;
}

static int disk_of(struct engine *e, struct json_object *vbd, struct xvm_hc_disk_config *disk)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = storage_vbd_disk(e, vbd, disk);
	store_rollback(e->store);
	return r;
}

int vbd_plug(struct engine *e, const char *ref)
{
	struct json_object *vbd;
	int r = read_vbd(e, ref, &vbd);
	if (r < 0)
		return r;
	struct vm_op op;
	if ((r = vm_op_begin_live(e, rec_str(vbd, "VM"), "plug", &op)) < 0)
		goto out;
	struct xvm_hc_device dev = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid, .type = XVM_HC_DEV_DISK };
	if (rec_bool(vbd, "currently_attached"))
		r = ERR1(XVM_ERR_DEVICE_ALREADY_ATTACHED, ref, "VBD %s is attached already", ref);
	else if ((r = disk_of(e, vbd, &dev.disk)) == 0 && (r = xvm_hypercall(e->hv, XVM_HC_DEVICE_ATTACH, &dev)) < 0)
		r = engine_hv_error(e, r, "disk hot-plug", op.ref);
	if (r == 0) {
		struct json_object *ch = json_object_new_object();
		json_object_object_add(ch, "currently_attached", json_object_new_boolean(1));
		r = write_vbd(e, ref, ch);
		json_object_put(ch);
		if (r < 0)
			/* Unrecorded, the disk must not stay in the guest. */
			xvm_hypercall(e->hv, XVM_HC_DEVICE_DETACH, &dev);
	}
	vm_op_finish(&op);
out:
	json_object_put(vbd);
	return r;
}

int vbd_unplug(struct engine *e, const char *ref)
{
	struct json_object *vbd;
	int r = read_vbd(e, ref, &vbd);
	if (r < 0)
		return r;
	struct vm_op op;
	if ((r = vm_op_begin_live(e, rec_str(vbd, "VM"), "unplug", &op)) < 0)
		goto out;
	struct xvm_hc_device dev = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid, .type = XVM_HC_DEV_DISK };
	dev.disk.position = (uint32_t)atoi(rec_str(vbd, "userdevice"));
	dev.disk.kind = strcmp(rec_str(vbd, "type"), "CD") == 0 ? XVM_HC_CDROM : XVM_HC_DISK;
	if (!rec_bool(vbd, "currently_attached"))
		r = ERR1(XVM_ERR_DEVICE_ALREADY_DETACHED, ref, "VBD %s is not attached", ref);
	else if (!rec_bool(vbd, "unpluggable"))
		r = ERR1(XVM_ERR_VBD_NOT_UNPLUGGABLE, ref, "VBD %s is not unpluggable (unpluggable=false)", ref);
	else if ((r = xvm_hypercall(e->hv, XVM_HC_DEVICE_DETACH, &dev)) < 0)
		r = engine_hv_error(e, r, "disk hot-unplug", op.ref);
	if (r == 0) {
		struct json_object *ch = json_object_new_object();
		json_object_object_add(ch, "currently_attached", json_object_new_boolean(0));
		r = write_vbd(e, ref, ch);
		json_object_put(ch);
	}
	vm_op_finish(&op);
out:
	json_object_put(vbd);
	return r;
}

/* Changes the disc of a CD drive: `vdi` NULL ejects. A running guest sees it at once. */
static int change_disc(struct engine *e, const char *ref, const char *vdi)
{
	struct json_object *vbd;
	int r = read_vbd(e, ref, &vbd);
	if (r < 0)
		return r;
	if (strcmp(rec_str(vbd, "type"), "CD") != 0)
		r = ERR1(XVM_ERR_VBD_NOT_REMOVABLE_MEDIA, ref, "VBD %s is a disk: only CD drives take discs", ref);
	else if (vdi && !rec_bool(vbd, "empty"))
		r = ERR1(XVM_ERR_VBD_NOT_EMPTY, ref, "the drive holds a disc: eject it first");
	else if (!vdi && rec_bool(vbd, "empty"))
		r = ERR1(XVM_ERR_VBD_IS_EMPTY, ref, "the drive holds no disc");
	struct vm_op op;
	if (r == 0 && (r = vm_op_begin(e, rec_str(vbd, "VM"), vdi ? "insert" : "eject", VM_OP_ANY_STATE, &op)) == 0) {
		struct json_object *ch = json_object_new_object();
		add_str(ch, "VDI", vdi ? vdi : XVM_NULL_REF);
		json_object_object_add(ch, "empty", json_object_new_boolean(!vdi));
		struct xvm_hc_media m = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op.domid };
		m.position = (uint32_t)atoi(rec_str(vbd, "userdevice"));
		bool live = op.power == VM_RUNNING || op.power == VM_PAUSED;
		if (vdi && (r = store_begin_read(e->store)) == 0) {
			struct json_object *d = NULL;
			bool iso;
			if ((r = read_vdi_for_drive(e, vdi, &d, &iso)) == 0 && !iso)
				r = not_a_cd(vdi, d);
			else if (r == 0 && rec_bool(d, "missing"))
				r = ERR1(XVM_ERR_VDI_MISSING, vdi, "the storage no longer has %s", rec_str(d, "name_label"));
			json_object_put(d);
			if (r == 0 && live) {
				struct json_object *with = json_object_get(vbd);
				add_str(with, "VDI", vdi);
				json_object_object_add(with, "empty", json_object_new_boolean(0));
				struct xvm_hc_disk_config disk;
				if ((r = storage_vbd_disk(e, with, &disk)) == 0) {
					snprintf(m.path, sizeof(m.path), "%s", disk.path);
					snprintf(m.format, sizeof(m.format), "%s", disk.format);
				}
				json_object_put(with);
			}
			store_rollback(e->store);
		}
		if (r == 0 && live && (r = xvm_hypercall(e->hv, XVM_HC_MEDIA_CHANGE, &m)) < 0)
			r = engine_hv_error(e, r, vdi ? "CD insert" : "CD eject", op.ref);
		if (r == 0)
			r = write_vbd(e, ref, ch);
		json_object_put(ch);
		vm_op_finish(&op);
	}
	json_object_put(vbd);
	return r;
}

int vbd_insert(struct engine *e, const char *vbd, const char *vdi)
{
	if (ref_is_null(vdi))
		return ERR1(XVM_ERR_INVALID_VALUE, "vdi", "insert takes a VDI: use eject to empty the drive");
	return change_disc(e, vbd, vdi);
}

int vbd_eject(struct engine *e, const char *vbd)
{
	return change_disc(e, vbd, NULL);
}
