/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Computed fields of SR, VDI and VBD records: the operations in flight and
 * those allowed now, and the space figures of SRs on a local file system,
 * measured at each read (a guest filling its disk changes them without any
 * operation) rather than as of the last operation.
 */
#include "storage/storage.h"

#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/inflight.h"
#include "storage/sr_handle.h"
#include "store/store.h"

static void add_op(struct json_object *ops, const char *op)
{
	json_object_array_add(ops, json_object_new_string(op));
}

/* The record's current_operations from the operations in flight; true when there are some. */
static bool fill_current(struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct json_object *inflight = NULL, *ops;
	json_object_object_get_ex(ctx, "inflight", &inflight);
	bool busy = inflight && json_object_object_get_ex(inflight, ref, &ops);
	json_object_object_add(rec, "current_operations", busy ? json_object_get(ops) : json_object_new_object());
	return busy;
}

/* {"inflight": {...}, "types": {sr: type}} and, with space, {"space": {sr: [size, used]}}. */
static struct json_object *context(struct engine *e, bool space)
{
	struct json_object *ctx = json_object_new_object(), *by_object = NULL;
	if (inflight_read(e, &by_object, NULL) == 0)
		json_object_object_add(ctx, "inflight", by_object);
	struct json_object *types = json_object_new_object(), *figures = json_object_new_object();
	json_object_object_add(ctx, "types", types);
	json_object_object_add(ctx, "space", figures);
	sqlite3_stmt *st = store_stmt(e->store, "SELECT ref, type, uuid FROM SR");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_object_object_add(types, (const char *)sqlite3_column_text(st, 0),
				       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	if (st)
		sqlite3_reset(st);
	if (!space)
		return ctx;
	json_object_object_foreach(types, sr_ref, type) {
		const struct sr_driver *drv = sr_driver_lookup(json_object_get_string(type));
		struct sr_handle h;
		struct sr_space s;
		if (!drv || !(drv->caps & SR_CAP_LOCAL_SPACE) || sr_handle_open(e, sr_ref, SR_OPEN_PLUGGED, &h) < 0)
			continue;
		if (drv->space(&h, &s) == 0) {
			struct json_object *pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_int64((int64_t)s.physical_size));
			json_object_array_add(pair, json_object_new_int64((int64_t)s.physical_utilisation));
			json_object_object_add(figures, sr_ref, pair);
		}
		sr_handle_close(&h);
	}
	/* Nothing here is worth failing a read for. */
	error_clear();
	return ctx;
}

static unsigned caps_of(struct json_object *ctx, const char *sr_ref)
{
	struct json_object *types, *type;
	const struct sr_driver *drv = json_object_object_get_ex(ctx, "types", &types) &&
						      json_object_object_get_ex(types, sr_ref, &type)
					      ? sr_driver_lookup(json_object_get_string(type))
					      : NULL;
	return drv ? drv->caps : 0;
}

struct json_object *storage_sr_context(struct engine *e)
{
	return context(e, true);
}

void storage_sr_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct json_object *ops = json_object_new_array(), *figures, *pair;
	if (json_object_object_get_ex(ctx, "space", &figures) && json_object_object_get_ex(figures, ref, &pair)) {
		json_object_object_add(rec, "physical_size", json_object_get(json_object_array_get_idx(pair, 0)));
		json_object_object_add(rec, "physical_utilisation", json_object_get(json_object_array_get_idx(pair, 1)));
	}
	if (!fill_current(ctx, ref, rec)) {
		unsigned caps = caps_of(ctx, ref);
		add_op(ops, "scan");
		add_op(ops, "forget");
		add_op(ops, "plug");
		add_op(ops, "unplug");
		add_op(ops, "update");
		const struct sr_driver *drv = sr_driver_lookup(rec_str(rec, "type"));
		if (drv && drv->destroy)
			add_op(ops, "destroy");
		if (caps & SR_CAP_VDI_CREATE) {
			add_op(ops, "vdi_create");
			add_op(ops, "vdi_destroy");
		}
		if (caps & SR_CAP_VDI_RESIZE)
			add_op(ops, "vdi_resize");
		if (caps & SR_CAP_VDI_CLONE) {
			add_op(ops, "vdi_clone");
			add_op(ops, "vdi_snapshot");
		}
	}
	json_object_object_add(rec, "allowed_operations", ops);
}

struct json_object *storage_vdi_context(struct engine *e)
{
	return context(e, false);
}

void storage_vdi_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct json_object *ops = json_object_new_array();
	if (!fill_current(ctx, ref, rec) && !rec_bool(rec, "missing")) {
		unsigned caps = caps_of(ctx, rec_str(rec, "SR"));
		add_op(ops, "copy");
		add_op(ops, "forget");
		add_op(ops, "update");
		if (caps & SR_CAP_VDI_CREATE)
			add_op(ops, "destroy");
		if (caps & SR_CAP_VDI_RESIZE) {
			add_op(ops, "resize");
			add_op(ops, "resize_online");
		}
		if (caps & SR_CAP_VDI_CLONE) {
			add_op(ops, "clone");
			add_op(ops, "snapshot");
		}
	}
	json_object_object_add(rec, "allowed_operations", ops);
}

struct json_object *storage_vbd_context(struct engine *e)
{
	struct json_object *ctx = json_object_new_object(), *by_object = NULL;
	if (inflight_read(e, &by_object, NULL) == 0)
		json_object_object_add(ctx, "inflight", by_object);
	return ctx;
}

void storage_vbd_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec)
{
	struct json_object *ops = json_object_new_array();
	if (!fill_current(ctx, ref, rec)) {
		bool attached = rec_bool(rec, "currently_attached"), cd = strcmp(rec_str(rec, "type"), "CD") == 0;
		if (!attached)
			add_op(ops, "plug");
		else if (rec_bool(rec, "unpluggable"))
			add_op(ops, "unplug");
		if (cd)
			add_op(ops, rec_bool(rec, "empty") ? "insert" : "eject");
	}
	json_object_object_add(rec, "allowed_operations", ops);
}
