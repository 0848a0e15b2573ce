/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VDI records from what the storage holds: a scan's volumes become records
 * (new ones introduced, vanished ones marked missing or forgotten), and an
 * SR's space figures. Inside the caller's write transaction.
 */
#include "storage/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* The volume of a VDI record: at its location, or else one that carries its
 * identity (an operation that moved the volume, such as a live snapshot,
 * was cut short before recording the new location). */
static const struct sr_volume *find_volume(const struct sr_volume *vols, size_t n, const char *location,
					   const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(vols[i].location, location) == 0)
			return &vols[i];
	for (size_t i = 0; *uuid && i < n; i++)
		if (strcmp(vols[i].vdi_uuid, uuid) == 0)
			return &vols[i];
	return NULL;
}

static void volume_fields(struct json_object *o, const struct sr_volume *v)
{
	add_int(o, "virtual_size", v->virtual_size);
	add_int(o, "physical_utilisation", v->physical_utilisation);
	json_object_object_add(o, "missing", json_object_new_boolean(0));
}

int storage_volume_record(struct engine *e, const char *sr_ref, const struct sr_volume *v,
			  struct json_object *extra, char ref[XVM_REF_BUFLEN])
{
	struct json_object *o = extra ? json_object_get(extra) : json_object_new_object(), *sm;
	char uuid[XVM_UUID_BUFLEN];
	char *clash = NULL;
	int r = 0;
	snprintf(uuid, sizeof(uuid), "%s", v->vdi_uuid);
	/* A volume copied from another SR may carry a VDI identity in use already. */
	if (*uuid && (r = rec_find_one(e, &class_vdi, "uuid", uuid, &clash)) == 0 && clash)
		*uuid = 0;
	free(clash);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	if (!*uuid)
		uuid_generate_str(uuid);
	ref_generate(ref);
	add_str(o, "uuid", uuid);
	add_str(o, "SR", sr_ref);
	add_str(o, "location", v->location);
	if (!json_object_object_get_ex(o, "name_label", NULL))
		add_str(o, "name_label", *v->label ? v->label : v->location);
	/* A read-only volume (an ISO image) is a read-only disk; others are as the caller asked. */
	if (v->read_only || !json_object_object_get_ex(o, "read_only", NULL))
		json_object_object_add(o, "read_only", json_object_new_boolean(v->read_only));
	if (!json_object_object_get_ex(o, "sm_config", &sm)) {
		sm = json_object_new_object();
		json_object_object_add(o, "sm_config", sm);
	}
	add_str(sm, "type", v->format);
	volume_fields(o, v);
	r = rec_insert(e, &class_vdi, ref, o);
	json_object_put(o);
	return r;
}

/* The VBDs that use a VDI: the CD drives among them are emptied, the rest deleted. */
static int drop_vbds_of(struct engine *e, const char *vdi)
{
	struct json_object *vbds;
	int r = rec_find(e, &class_vbd, "VDI", vdi, &vbds);
	static const char *const fields[] = { "type", NULL };
	STORAGE_FOR_EACH_REF(vbds, i, vbd) {
		if (r < 0)
			break;
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vbd, vbd, fields, &rec)) < 0)
			break;
		if (strcmp(rec_str(rec, "type"), "CD") == 0) {
			struct json_object *ch = json_object_new_object();
			add_str(ch, "VDI", XVM_NULL_REF);
			json_object_object_add(ch, "empty", json_object_new_boolean(1));
			r = rec_update(e, &class_vbd, vbd, ch);
			json_object_put(ch);
		} else {
			r = rec_delete(e, &class_vbd, vbd);
		}
		json_object_put(rec);
	}
	json_object_put(vbds);
	return r;
}

int storage_forget_vdi(struct engine *e, const char *vdi)
{
	int r = drop_vbds_of(e, vdi);
	return r < 0 ? r : rec_delete(e, &class_vdi, vdi);
}

/* A vanished volume's VDI: an ISO image is forgotten (CD drives that held
 * it are emptied) unless a running VM has it in; a disk is kept, marked
 * missing, for the user to see what was lost. */
static int volume_gone(struct engine *e, const char *vdi, bool iso)
{
	char *vm = NULL;
	int r = iso ? storage_vdi_running_vm(e, vdi, &vm) : 0;
	if (r < 0)
		return r;
	if (iso && !vm)
		return storage_forget_vdi(e, vdi);
	free(vm);
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "missing", json_object_new_boolean(1));
	r = rec_update(e, &class_vdi, vdi, ch);
	json_object_put(ch);
	return r;
}

int storage_sync_volumes(struct engine *e, struct sr_handle *sr, const struct sr_volume *vols, size_t n)
{
	struct json_object *vdis;
	int r = rec_find(e, &class_vdi, "SR", sr->ref, &vdis);
	if (r < 0)
		return r;
	bool iso = strcmp(sr->drv->content_type, "iso") == 0;
	bool *known = calloc(n ? n : 1, sizeof(*known));
	if (!known) {
		json_object_put(vdis);
		return error_oom();
	}
	static const char *const fields[] = { "location", "uuid", NULL };
	STORAGE_FOR_EACH_REF(vdis, i, vdi) {
		if (r < 0)
			break;
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vdi, vdi, fields, &rec)) < 0)
			break;
		const struct sr_volume *v = find_volume(vols, n, rec_str(rec, "location"), rec_str(rec, "uuid"));
		if (v && known[v - vols])
			v = NULL;
		if (v) {
			known[v - vols] = true;
			struct json_object *ch = json_object_new_object();
			volume_fields(ch, v);
			json_object_object_add(ch, "location", json_object_new_string(v->location));
			r = rec_update(e, &class_vdi, vdi, ch);
			json_object_put(ch);
		} else {
			r = volume_gone(e, vdi, iso);
		}
		json_object_put(rec);
	}
	json_object_put(vdis);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char ref[XVM_REF_BUFLEN];
		if (!known[i]) {
			log_info("SR %s: introducing %s", sr->uuid, vols[i].location);
			r = storage_volume_record(e, sr->ref, &vols[i], NULL, ref);
		}
	}
	free(known);
	return r;
}

int storage_update_space(struct engine *e, struct sr_handle *sr)
{
	struct sr_space space = { 0 };
	int r = sr->drv->space ? sr->drv->space(sr, &space) : 0;
	if (r < 0)
		return r;
	sqlite3_stmt *st = store_stmt(e->store, "SELECT COALESCE(SUM(virtual_size), 0) FROM VDI WHERE SR = ? AND missing = 0");
	if (!st)
		return -XVM_ERR_STORE_ERROR;
	sqlite3_bind_text(st, 1, sr->ref, -1, SQLITE_TRANSIENT);
	int64_t allocated = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	struct json_object *ch = json_object_new_object();
	add_int(ch, "physical_size", space.physical_size);
	add_int(ch, "physical_utilisation", space.physical_utilisation);
	add_int(ch, "virtual_allocation", (uint64_t)allocated);
	r = rec_update(e, &class_sr, sr->ref, ch);
	json_object_put(ch);
	return r;
}
