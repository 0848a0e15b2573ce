/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The typed storage functions (xvm/storage.h), each one method call. */
#include <stdlib.h>
#include <string.h>

#include "core/api_internal.h"
#include "core/error_internal.h"

/* A call whose result is a reference, stored in *ret (free()). */
static int ref_call(xvm_conn *c, const char *method, struct json_object *args, char **ret)
{
	struct json_object *res = NULL;
	int r = need(ret, "ret");
	if (r < 0) {
		json_object_put(args);
		return r;
	}
	if ((r = call_taking(c, method, args, &res)) < 0)
		return r;
	*ret = strdup(json_object_get_string(res));
	json_object_put(res);
	return *ret ? 0 : error_oom();
}

static struct json_object *map_or_empty(struct json_object *m)
{
	return m ? json_object_get(m) : json_object_new_object();
}

int xvm_sr_create(xvm_conn *c, struct json_object *device_config, const char *name_label, const char *type,
		  const char *content_type, bool shared, struct json_object *sm_config, char **ret)
{
	int r;
	if ((r = need(name_label, "name_label")) < 0 || (r = need(type, "type")) < 0)
		return r;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("OpaqueRef:NULL"));
	json_object_array_add(a, map_or_empty(device_config));
	json_object_array_add(a, json_object_new_string("0"));
	json_object_array_add(a, json_object_new_string(name_label));
	json_object_array_add(a, json_object_new_string(""));
	json_object_array_add(a, json_object_new_string(type));
	json_object_array_add(a, json_object_new_string(content_type ? content_type : ""));
	json_object_array_add(a, json_object_new_boolean(shared));
	json_object_array_add(a, map_or_empty(sm_config));
	return ref_call(c, "SR.create", a, ret);
}

static int on_ref(xvm_conn *c, const char *cls, const char *op, const char *ref)
{
	int r = need(ref, "ref");
	return r < 0 ? r : call_strings(c, cls, op, NULL, ref, NULL);
}

int xvm_sr_forget(xvm_conn *c, const char *sr) { return on_ref(c, "SR", "forget", sr); }
int xvm_sr_destroy(xvm_conn *c, const char *sr) { return on_ref(c, "SR", "destroy", sr); }
int xvm_sr_scan(xvm_conn *c, const char *sr) { return on_ref(c, "SR", "scan", sr); }
int xvm_pbd_plug(xvm_conn *c, const char *pbd) { return on_ref(c, "PBD", "plug", pbd); }
int xvm_pbd_unplug(xvm_conn *c, const char *pbd) { return on_ref(c, "PBD", "unplug", pbd); }
int xvm_vdi_destroy(xvm_conn *c, const char *vdi) { return on_ref(c, "VDI", "destroy", vdi); }
int xvm_vbd_destroy(xvm_conn *c, const char *vbd) { return on_ref(c, "VBD", "destroy", vbd); }
int xvm_vbd_plug(xvm_conn *c, const char *vbd) { return on_ref(c, "VBD", "plug", vbd); }
int xvm_vbd_unplug(xvm_conn *c, const char *vbd) { return on_ref(c, "VBD", "unplug", vbd); }
int xvm_vbd_eject(xvm_conn *c, const char *vbd) { return on_ref(c, "VBD", "eject", vbd); }

int xvm_vdi_create(xvm_conn *c, const char *sr, const char *name_label, int64_t virtual_size, char **ret)
{
	int r;
	if ((r = need(sr, "sr")) < 0 || (r = need(name_label, "name_label")) < 0)
		return r;
	struct json_object *rec = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(rec, "SR", json_object_new_string(sr));
	json_object_object_add(rec, "name_label", json_object_new_string(name_label));
	json_object_object_add(rec, "virtual_size", json_object_new_int64(virtual_size));
	json_object_array_add(a, rec);
	return ref_call(c, "VDI.create", a, ret);
}

int xvm_vdi_resize(xvm_conn *c, const char *vdi, int64_t new_size)
{
	int r = need(vdi, "vdi");
	if (r < 0)
		return r;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vdi));
	json_object_array_add(a, json_object_new_int64(new_size));
	return call_taking(c, "VDI.resize", a, NULL);
}

static int clone_call(xvm_conn *c, const char *method, const char *vdi, char **ret)
{
	int r = need(vdi, "vdi");
	if (r < 0)
		return r;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vdi));
	json_object_array_add(a, json_object_new_object());
	return ref_call(c, method, a, ret);
}

int xvm_vdi_clone(xvm_conn *c, const char *vdi, char **ret) { return clone_call(c, "VDI.clone", vdi, ret); }
int xvm_vdi_snapshot(xvm_conn *c, const char *vdi, char **ret) { return clone_call(c, "VDI.snapshot", vdi, ret); }

int xvm_vdi_copy(xvm_conn *c, const char *vdi, const char *sr, char **ret)
{
	int r;
	if ((r = need(vdi, "vdi")) < 0 || (r = need(sr, "sr")) < 0)
		return r;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vdi));
	json_object_array_add(a, json_object_new_string(sr));
	return ref_call(c, "VDI.copy", a, ret);
}

static int file_call(xvm_conn *c, const char *op, const char *vdi, const char *filename, const char *format)
{
	int r;
	if ((r = need(vdi, "vdi")) < 0 || (r = need(filename, "filename")) < 0 || (r = need(format, "format")) < 0)
		return r;
	return call_strings(c, "VDI", op, NULL, vdi, filename, format, NULL);
}

int xvm_vdi_import(xvm_conn *c, const char *vdi, const char *filename, const char *format)
{
	return file_call(c, "import_from_file", vdi, filename, format);
}

int xvm_vdi_export(xvm_conn *c, const char *vdi, const char *filename, const char *format)
{
	return file_call(c, "export_to_file", vdi, filename, format);
}

int xvm_vbd_create(xvm_conn *c, const char *vm, const char *vdi, const char *userdevice, const char *type,
		   const char *mode, bool bootable, char **ret)
{
	int r;
	if ((r = need(vm, "vm")) < 0)
		return r;
	struct json_object *rec = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(rec, "VM", json_object_new_string(vm));
	json_object_object_add(rec, "VDI", json_object_new_string(vdi ? vdi : "OpaqueRef:NULL"));
	json_object_object_add(rec, "userdevice", json_object_new_string(userdevice ? userdevice : "autodetect"));
	json_object_object_add(rec, "type", json_object_new_string(type ? type : "Disk"));
	json_object_object_add(rec, "mode", json_object_new_string(mode ? mode : "RW"));
	json_object_object_add(rec, "bootable", json_object_new_boolean(bootable));
	json_object_array_add(a, rec);
	return ref_call(c, "VBD.create", a, ret);
}

int xvm_vbd_insert(xvm_conn *c, const char *vbd, const char *vdi)
{
	int r;
	if ((r = need(vbd, "vbd")) < 0 || (r = need(vdi, "vdi")) < 0)
		return r;
	return call_strings(c, "VBD", "insert", NULL, vbd, vdi, NULL);
}
