/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The storage methods of the method table: XenAPI's SR, PBD, VDI and VBD calls, plus xvm's own for image files. */
#include <stdlib.h>

#include "core/error_internal.h"
#include "core/methods.h"
#include "storage/storage.h"

/* The result of a call that made an object: r, and *ref (freed) as the result. */
static int ref_result(int r, char **ref, struct json_object **result)
{
	if (r == 0)
		*result = json_object_new_string(*ref);
	free(*ref);
	return r;
}

static int arg_map(struct json_object *args, size_t i, const char *what, struct json_object **ret)
{
	struct json_object *v = json_object_array_get_idx(args, i);
	*ret = NULL;
	if (!json_object_is_type(v, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be a map", what);
	*ret = v;
	return 0;
}

typedef int (*on_ref_fn)(struct engine *e, const char *ref);

/* Class.X(self) -> void */
static int on_ref(struct json_object *args, struct json_object **result, struct engine *e, on_ref_fn fn)
{
	const char *ref;
	int r = arg_string(args, 0, "self", &ref);
	*result = NULL;
	return r < 0 ? r : fn(e, ref);
}

#define ON_REF(name, fn)                                                                                   \
	static int m_##name(struct engine *e, struct json_object *args, struct json_object **result) \
	{                                                                                                  \
		return on_ref(args, result, e, fn);                                                        \
	}
ON_REF(sr_forget, sr_forget)
ON_REF(sr_destroy, sr_destroy)
ON_REF(sr_scan, sr_scan)
ON_REF(sr_update, sr_update)
ON_REF(pbd_destroy, pbd_destroy)
ON_REF(pbd_plug, pbd_plug)
ON_REF(pbd_unplug, pbd_unplug)
ON_REF(vdi_destroy, vdi_destroy)
ON_REF(vdi_forget, vdi_forget)
ON_REF(vbd_destroy, vbd_destroy)
ON_REF(vbd_plug, vbd_plug)
ON_REF(vbd_unplug, vbd_unplug)
ON_REF(vbd_eject, vbd_eject)

static int m_sr_create(struct engine *e, struct json_object *args, struct json_object **result)
{
	struct sr_create_args a = { 0 };
	const char *size;
	struct json_object *sm;
	int r;
	if ((r = arg_string(args, 0, "host", &a.host)) < 0 || (r = arg_map(args, 1, "device_config", &a.device_config)) < 0 ||
	    (r = arg_string(args, 2, "physical_size", &size)) < 0 ||
	    (r = arg_string(args, 3, "name_label", &a.name_label)) < 0 ||
	    (r = arg_string(args, 4, "name_description", &a.name_description)) < 0 ||
	    (r = arg_string(args, 5, "type", &a.type)) < 0 ||
	    (r = arg_string(args, 6, "content_type", &a.content_type)) < 0 ||
	    (r = arg_bool(args, 7, "shared", &a.shared)) < 0 || (r = arg_map(args, 8, "sm_config", &sm)) < 0)
		return r;
	a.sm_config = sm;
	char *ref = NULL;
	int made = sr_create(e, &a, &ref);
	return ref_result(made, &ref, result);
}

static int m_sr_introduce(struct engine *e, struct json_object *args, struct json_object **result)
{
	struct sr_create_args a = { 0 };
	const char *uuid;
	struct json_object *sm;
	int r;
	if ((r = arg_string(args, 0, "uuid", &uuid)) < 0 || (r = arg_string(args, 1, "name_label", &a.name_label)) < 0 ||
	    (r = arg_string(args, 2, "name_description", &a.name_description)) < 0 ||
	    (r = arg_string(args, 3, "type", &a.type)) < 0 ||
	    (r = arg_string(args, 4, "content_type", &a.content_type)) < 0 ||
	    (r = arg_bool(args, 5, "shared", &a.shared)) < 0 || (r = arg_map(args, 6, "sm_config", &sm)) < 0)
		return r;
	a.sm_config = sm;
	char *ref = NULL;
	int made = sr_introduce(e, &a, uuid, &ref);
	return ref_result(made, &ref, result);
}

static const char *field_or(struct json_object *rec, const char *k, const char *dflt)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
												: dflt;
}

static int m_pbd_create(struct engine *e, struct json_object *args, struct json_object **result)
{
	struct json_object *rec, *dc = NULL;
	int r = arg_map(args, 0, "record", &rec);
	if (r < 0)
		return r;
	json_object_object_get_ex(rec, "device_config", &dc);
	char *ref = NULL;
	int made = pbd_create(e, field_or(rec, "host", "OpaqueRef:NULL"), field_or(rec, "SR", ""), dc, &ref);
	return ref_result(made, &ref, result);
}

typedef int (*create_fn)(struct engine *e, struct json_object *record, char **ret);

static int create_from_record(struct json_object *args, struct json_object **result, struct engine *e, create_fn fn)
{
	struct json_object *rec;
	int r = arg_map(args, 0, "record", &rec);
	char *ref = NULL;
	if (r < 0)
		return r;
	int made = fn(e, rec, &ref);
	return ref_result(made, &ref, result);
}

static int m_vdi_create(struct engine *e, struct json_object *args, struct json_object **result)
{
	return create_from_record(args, result, e, vdi_create);
}

static int m_vbd_create(struct engine *e, struct json_object *args, struct json_object **result)
{
	return create_from_record(args, result, e, vbd_create);
}

static int m_vdi_resize(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref;
	int64_t size;
	int r;
	if ((r = arg_string(args, 0, "self", &ref)) < 0 || (r = arg_int64(args, 1, "size", &size)) < 0)
		return r;
	*result = NULL;
	return vdi_resize(e, ref, size);
}

/* VDI.clone / snapshot(self, driver_params): no driver takes parameters yet. */
static int clone_like(struct engine *e, struct json_object *args, struct json_object **result, bool snapshot)
{
	const char *ref;
	struct json_object *params;
	int r;
	if ((r = arg_string(args, 0, "self", &ref)) < 0 || (r = arg_map(args, 1, "driver_params", &params)) < 0)
		return r;
	char *out = NULL;
	int made = vdi_clone(e, ref, snapshot, &out);
	return ref_result(made, &out, result);
}

static int m_vdi_clone(struct engine *e, struct json_object *args, struct json_object **result)
{
	return clone_like(e, args, result, false);
}

static int m_vdi_snapshot(struct engine *e, struct json_object *args, struct json_object **result)
{
	return clone_like(e, args, result, true);
}

static int m_vdi_copy(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref, *sr;
	int r;
	if ((r = arg_string(args, 0, "self", &ref)) < 0 || (r = arg_string(args, 1, "sr", &sr)) < 0)
		return r;
	char *out = NULL;
	int made = vdi_copy(e, ref, sr, &out);
	return ref_result(made, &out, result);
}

typedef int (*file_fn)(struct engine *e, const char *vdi, const char *filename, const char *format);

static int with_file(struct json_object *args, struct json_object **result, struct engine *e, file_fn fn)
{
	const char *ref, *filename, *format;
	int r;
	if ((r = arg_string(args, 0, "self", &ref)) < 0 || (r = arg_string(args, 1, "filename", &filename)) < 0 ||
	    (r = arg_string(args, 2, "format", &format)) < 0)
		return r;
	*result = NULL;
	return fn(e, ref, filename, format);
}

static int m_vdi_import(struct engine *e, struct json_object *args, struct json_object **result)
{
	return with_file(args, result, e, vdi_import);
}

static int m_vdi_export(struct engine *e, struct json_object *args, struct json_object **result)
{
	return with_file(args, result, e, vdi_export);
}

static int m_vdi_create_from_image(struct engine *e, struct json_object *args, struct json_object **result)
{
	struct json_object *rec;
	const char *filename, *format;
	int r;
	if ((r = arg_map(args, 0, "record", &rec)) < 0 || (r = arg_string(args, 1, "filename", &filename)) < 0 ||
	    (r = arg_string(args, 2, "format", &format)) < 0)
		return r;
	char *ref = NULL;
	int made = vdi_create_from_image(e, rec, filename, format, &ref);
	return ref_result(made, &ref, result);
}

static int m_vbd_insert(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref, *vdi;
	int r;
	if ((r = arg_string(args, 0, "self", &ref)) < 0 || (r = arg_string(args, 1, "vdi", &vdi)) < 0)
		return r;
	*result = NULL;
	return vbd_insert(e, ref, vdi);
}

const struct method storage_methods[] = {
	{ "SR.create", m_sr_create, 9,
	  "Makes new storage and its SR, plugged into this host (host, device_config, physical_size, name_label, "
	  "name_description, type, content_type, shared, sm_config) -> SR" },
	{ "SR.introduce", m_sr_introduce, 7,
	  "Records existing storage as an SR, without a PBD (uuid, name_label, name_description, type, "
	  "content_type, shared, sm_config) -> SR" },
	{ "SR.forget", m_sr_forget, 1, "Forgets the SR's records, keeping its storage (sr)" },
	{ "SR.destroy", m_sr_destroy, 1, "Deletes the SR's disks and storage, then its records (sr)" },
	{ "SR.scan", m_sr_scan, 1, "Brings the VDI records in line with the storage (sr)" },
	{ "SR.update", m_sr_update, 1, "Refreshes the SR's size figures (sr)" },
	{ "PBD.create", m_pbd_create, 1, "Records how this host reaches an SR (record: host, SR, device_config) -> PBD" },
	{ "PBD.destroy", m_pbd_destroy, 1, "Deletes an unplugged PBD (pbd)" },
	{ "PBD.plug", m_pbd_plug, 1, "Attaches the SR on this host and scans it (pbd)" },
	{ "PBD.unplug", m_pbd_unplug, 1, "Detaches the SR from this host (pbd)" },
	{ "VDI.create", m_vdi_create, 1,
	  "A new empty disk (record: SR, virtual_size, name_label, sm_config:type=qcow2|raw, ...) -> VDI" },
	{ "VDI.destroy", m_vdi_destroy, 1, "Deletes a disk no running VM uses (vdi)" },
	{ "VDI.forget", m_vdi_forget, 1, "Forgets a disk's record, keeping its volume (vdi)" },
	{ "VDI.resize", m_vdi_resize, 2, "Grows a disk, also while a running VM uses it (vdi, size)" },
	{ "VDI.resize_online", m_vdi_resize, 2, "Grows a disk a running VM uses (vdi, size)" },
	{ "VDI.clone", m_vdi_clone, 2, "A copy-on-write copy of a disk (vdi, driver_params) -> VDI" },
	{ "VDI.snapshot", m_vdi_snapshot, 2, "A copy-on-write snapshot of a disk (vdi, driver_params) -> VDI" },
	{ "VDI.copy", m_vdi_copy, 2, "A full copy of a disk in an SR (vdi, sr) -> VDI" },
	{ "VDI.import_from_file", m_vdi_import, 3,
	  "xvm: writes an image file's content into a disk (vdi, filename, format: raw|qcow2|vhd|vmdk)" },
	{ "VDI.create_from_image", m_vdi_create_from_image, 3,
	  "xvm: a new disk holding an image file's content, as big as the image unless the record says more "
	  "(record, filename, format: raw|qcow2|vhd|vmdk) -> VDI" },
	{ "VDI.export_to_file", m_vdi_export, 3,
	  "xvm: writes a disk to an image file (vdi, filename, format: raw|qcow2|vhd|vmdk)" },
	{ "VBD.create", m_vbd_create, 1,
	  "A new drive of a VM (record: VM, VDI, userdevice, type=Disk|CD, mode=RW|RO, bootable, ...) -> VBD" },
	{ "VBD.destroy", m_vbd_destroy, 1, "Deletes a drive that is not attached (vbd)" },
	{ "VBD.plug", m_vbd_plug, 1, "Hot-plugs the drive into its running VM (vbd)" },
	{ "VBD.unplug", m_vbd_unplug, 1, "Hot-unplugs the drive from its running VM (vbd)" },
	{ "VBD.insert", m_vbd_insert, 2, "Puts a disc into an empty CD drive (vbd, vdi)" },
	{ "VBD.eject", m_vbd_eject, 1, "Takes the disc out of a CD drive (vbd)" },
	{ NULL },
};
