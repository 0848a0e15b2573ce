/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR and PBD operations: create, introduce, forget, destroy, scan, plug.
 *
 * The driver's work (formatting, mounting, listing) runs under the SR's
 * storage lock and outside any store transaction; the records it leads to
 * are written in one transaction afterwards.
 */
#include "storage/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/log.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/sr_handle.h"
#include "store/store.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* Scans the storage (caller holds the SR lock) and records what it found, in one transaction. */
static int scan_and_record(struct engine *e, struct sr_handle *sr, int (*more)(struct engine *, void *), void *ctx)
{
	struct sr_volume *vols = NULL;
	size_t n = 0;
	int r = sr->drv->scan ? sr->drv->scan(sr, &vols, &n) : 0;
	if (r < 0)
		return r;
	if ((r = store_begin_write(e->store)) < 0) {
		free(vols);
		return r;
	}
	if (more)
		r = more(e, ctx);
	if (r == 0)
		r = storage_sync_volumes(e, sr, vols, n);
	if (r == 0)
		r = storage_update_space(e, sr);
	if (r == 0 && sr->drv->stamp) {
		char stamp[128], key[80];
		snprintf(key, sizeof(key), "sr_stamp:%s", sr->uuid);
		if (sr->drv->stamp(sr, stamp, sizeof(stamp)) == 0)
			r = store_meta_set(e->store, key, stamp);
	}
	free(vols);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

/* --- SR.create / introduce ------------------------------------------------- */

static int unknown_type(const char *type)
{
	return ERR1(XVM_ERR_SR_UNKNOWN_DRIVER, type, "there is no SR type '%s': use one of %s", type,
		    sr_driver_types());
}

struct new_sr {
	const char *ref, *uuid, *pbd_ref;
	struct json_object *sr, *pbd;
};

static int insert_new_sr(struct engine *e, void *ctx)
{
	struct new_sr *n = ctx;
	int r = rec_insert(e, &class_sr, n->ref, n->sr);
	return r < 0 || !n->pbd ? r : rec_insert(e, &class_pbd, n->pbd_ref, n->pbd);
}

static struct json_object *sr_fields(const char *uuid, const char *name_label, const char *name_description,
				     const char *type, const char *content_type, bool shared,
				     struct json_object *sm_config)
{
	struct json_object *o = json_object_new_object();
	add_str(o, "uuid", uuid);
	add_str(o, "name_label", name_label);
	add_str(o, "name_description", name_description);
	add_str(o, "type", type);
	add_str(o, "content_type", content_type);
	json_object_object_add(o, "shared", json_object_new_boolean(shared));
	json_object_object_add(o, "sm_config", sm_config ? json_object_get(sm_config) : json_object_new_object());
	return o;
}

static int check_content_type(const struct sr_driver *drv, const char **content_type)
{
	if (!**content_type)
		*content_type = drv->content_type;
	/* xe also calls disk SRs' content "disk"; an ISO library's is always "iso". */
	bool disk_alias = strcmp(*content_type, "disk") == 0 && strcmp(drv->content_type, "user") == 0;
	if (strcmp(*content_type, drv->content_type) != 0 && !disk_alias)
		return ERR2(XVM_ERR_INVALID_VALUE, "content_type", *content_type,
			    "a %s SR holds content of type %s, not %s", drv->type, drv->content_type, *content_type);
	return 0;
}

static int check_map_of_strings(struct json_object *m, const char *what)
{
	if (!m)
		return 0;
	if (!json_object_is_type(m, json_type_object))
		return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be a map of strings", what);
	json_object_object_foreach(m, k, v) {
		(void)k;
		if (!json_object_is_type(v, json_type_string))
			return ERR1(XVM_ERR_FIELD_TYPE_ERROR, what, "%s must be a map of strings", what);
	}
	return 0;
}

/* In a transaction: SR_DEVICE_IN_USE when an SR of this type has a PBD here
 * whose storage is this one (the same root: a directory, a device; an nfs
 * SR's root is its own directory of the export): an empty directory holds no
 * image that would tell, and two SRs on one storage delete each other's disks. */
static int refuse_known_config(struct engine *e, const struct sr_driver *drv, const struct sr_handle *h)
{
	struct json_object *pbds;
	int r = rec_find(e, &class_pbd, "host", e->host_ref, &pbds);
	if (r < 0)
		return r;
	static const char *const pbd_fields[] = { "SR", NULL };
	static const char *const sr_fields[] = { "type", "name_label", NULL };
	STORAGE_FOR_EACH_REF(pbds, i, pbd) {
		struct json_object *p = NULL, *sr = NULL;
		struct sr_handle other;
		if (r == 0 && (r = rec_read_fields(e, &class_pbd, pbd, pbd_fields, &p)) == 0 &&
		    strcmp(rec_str(p, "SR"), h->ref) != 0 &&
		    (r = rec_read_fields(e, &class_sr, rec_str(p, "SR"), sr_fields, &sr)) == 0 &&
		    strcmp(rec_str(sr, "type"), drv->type) == 0) {
			/* An SR whose own config is broken shares nothing with this one. */
			if (sr_handle_open(e, rec_str(p, "SR"), 0, &other) == 0) {
				if (other.root && h->root && strcmp(other.root, h->root) == 0)
					r = ERR1(XVM_ERR_SR_DEVICE_IN_USE, h->root, "%s is SR %s's already", h->root,
						 rec_str(sr, "name_label"));
				sr_handle_close(&other);
			}
			if (r == 0)
				error_clear();
		}
		json_object_put(p);
		json_object_put(sr);
	}
	json_object_put(pbds);
	return r;
}

int sr_create(struct engine *e, const struct sr_create_args *a, char **ret_ref)
{
	const struct sr_driver *drv = sr_driver_lookup(a->type);
	if (!drv)
		return unknown_type(a->type);
	const char *content_type = a->content_type;
	int r;
	if ((r = check_content_type(drv, &content_type)) < 0 ||
	    (r = check_map_of_strings(a->device_config, "device_config")) < 0 ||
	    (r = check_map_of_strings(a->sm_config, "sm_config")) < 0)
		return r;
	if (a->host && !ref_is_null(a->host) && strcmp(a->host, e->host_ref) != 0)
		return ERR2(XVM_ERR_HANDLE_INVALID, "host", a->host, "host %s is not this host", a->host);
	if (a->shared && !(drv->caps & SR_CAP_SHARED))
		return ERR2(XVM_ERR_INVALID_VALUE, "shared", "true", "a %s SR cannot be shared", drv->type);
	char ref[XVM_REF_BUFLEN], pbd_ref[XVM_REF_BUFLEN], uuid[XVM_UUID_BUFLEN];
	ref_generate(ref);
	ref_generate(pbd_ref);
	uuid_generate_str(uuid);
	struct sr_handle h;
	if ((r = sr_handle_open_config(e, ref, uuid, drv, a->device_config, a->sm_config, &h)) < 0)
		return r;
	int lock = sr_lock(e, uuid);
	if (lock < 0) {
		sr_handle_close(&h);
		return lock;
	}
	bool created = false, attached = false;
	if ((r = store_begin_read(e->store)) == 0) {
		r = refuse_known_config(e, drv, &h);
		store_rollback(e->store);
	}
	if (r == 0 && drv->create && (r = drv->create(&h)) == 0)
		created = true;
	if (r == 0 && drv->attach && (r = drv->attach(&h)) == 0)
		attached = true;
	if (r == 0) {
		struct new_sr n = { .ref = ref, .uuid = uuid, .pbd_ref = pbd_ref };
		n.sr = sr_fields(uuid, a->name_label, a->name_description, drv->type, content_type, a->shared,
				 a->sm_config);
		n.pbd = json_object_new_object();
		add_str(n.pbd, "host", e->host_ref);
		add_str(n.pbd, "SR", ref);
		json_object_object_add(n.pbd, "device_config", json_object_get(h.device_config));
		json_object_object_add(n.pbd, "currently_attached", json_object_new_boolean(1));
		r = scan_and_record(e, &h, insert_new_sr, &n);
		json_object_put(n.sr);
		json_object_put(n.pbd);
	}
	if (r < 0) {
		/* Undo what was done to the storage; the first error stands. */
		void *first = error_stash();
		if (attached && drv->detach)
			drv->detach(&h);
		if (created && drv->destroy)
			drv->destroy(&h);
		r = error_unstash(first);
	}
	sr_handle_close(&h);
	sr_unlock(lock);
	if (r < 0)
		return r;
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

int sr_introduce(struct engine *e, const struct sr_create_args *a, const char *uuid, char **ret_ref)
{
	const struct sr_driver *drv = sr_driver_lookup(a->type);
	if (!drv)
		return unknown_type(a->type);
	const char *content_type = a->content_type;
	int r;
	if ((r = check_content_type(drv, &content_type)) < 0 || (r = check_map_of_strings(a->sm_config, "sm_config")) < 0)
		return r;
	char own_uuid[XVM_UUID_BUFLEN];
	if (!uuid || !*uuid) {
		uuid_generate_str(own_uuid);
		uuid = own_uuid;
	} else if (!uuid_valid(uuid)) {
		return ERR2(XVM_ERR_UUID_INVALID, "SR", uuid, "SR UUID '%s' is malformed", uuid);
	}
	char ref[XVM_REF_BUFLEN], *clash = NULL;
	ref_generate(ref);
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	if ((r = rec_find_one(e, &class_sr, "uuid", uuid, &clash)) == 0 && clash)
		r = ERR2(XVM_ERR_INVALID_VALUE, "uuid", uuid, "there is an SR with UUID %s already", uuid);
	free(clash);
	if (r == 0) {
		struct json_object *o = sr_fields(uuid, a->name_label, a->name_description, drv->type, content_type,
						  a->shared, a->sm_config);
		r = rec_insert(e, &class_sr, ref, o);
		json_object_put(o);
	}
	if (r < 0 || (r = store_commit(e->store)) < 0) {
		store_rollback(e->store);
		return r;
	}
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

/* --- PBDs ----------------------------------------------------------------- */

int pbd_create(struct engine *e, const char *host, const char *sr_ref, struct json_object *device_config,
	       char **ret_ref)
{
	int r = check_map_of_strings(device_config, "device_config");
	if (r < 0)
		return r;
	if (!ref_is_null(host) && strcmp(host, e->host_ref) != 0)
		return ERR2(XVM_ERR_HANDLE_INVALID, "host", host, "host %s is not this host", host);
	if ((r = store_begin_write(e->store)) < 0)
		return r;
	static const char *const fields[] = { "type", "uuid", NULL };
	struct json_object *sr = NULL;
	char *existing = NULL, ref[XVM_REF_BUFLEN];
	if ((r = rec_read_fields(e, &class_sr, sr_ref, fields, &sr)) == 0 &&
	    (r = sr_host_pbd(e, sr_ref, &existing)) == 0 && existing)
		r = ERR2(XVM_ERR_PBD_EXISTS, sr_ref, existing, "this host already has a PBD for SR %s", sr_ref);
	const struct sr_driver *drv = r == 0 ? sr_driver_lookup(rec_str(sr, "type")) : NULL;
	if (r == 0 && !drv)
		r = unknown_type(rec_str(sr, "type"));
	/* The driver checks the device_config as it will use it. */
	struct sr_handle h;
	if (r == 0 && (r = sr_handle_open_config(e, sr_ref, rec_str(sr, "uuid"), drv, device_config, NULL, &h)) == 0) {
		r = refuse_known_config(e, drv, &h);
		sr_handle_close(&h);
	}
	if (r == 0) {
		ref_generate(ref);
		struct json_object *o = json_object_new_object();
		add_str(o, "host", e->host_ref);
		add_str(o, "SR", sr_ref);
		json_object_object_add(o, "device_config",
				       device_config ? json_object_get(device_config) : json_object_new_object());
		r = rec_insert(e, &class_pbd, ref, o);
		json_object_put(o);
	}
	free(existing);
	json_object_put(sr);
	if (r < 0 || (r = store_commit(e->store)) < 0) {
		store_rollback(e->store);
		return r;
	}
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

/* The VDIs of an SR that a running (or paused, or suspended) VM has attached: VDI_IN_USE. */
static int refuse_in_use(struct engine *e, const char *sr_ref, const char *doing)
{
	struct json_object *vdis;
	int r = rec_find(e, &class_vdi, "SR", sr_ref, &vdis);
	STORAGE_FOR_EACH_REF(vdis, i, vdi) {
		if (r < 0)
			break;
		char *vm = NULL;
		if ((r = storage_vdi_running_vm(e, vdi, &vm)) == 0 && vm)
			r = ERR2(XVM_ERR_VDI_IN_USE, vdi, vm, "cannot %s: a disk of the SR is in use by VM %s", doing,
				 vm);
		free(vm);
	}
	json_object_put(vdis);
	return r;
}

static int read_pbd(struct engine *e, const char *pbd, char **sr_ref, bool *attached)
{
	static const char *const fields[] = { "SR", "currently_attached", NULL };
	struct json_object *rec;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_pbd, pbd, fields, &rec)) == 0) {
		*sr_ref = strdup(rec_str(rec, "SR"));
		*attached = rec_bool(rec, "currently_attached");
		json_object_put(rec);
	}
	store_rollback(e->store);
	return r;
}

static int set_attached(struct engine *e, void *ctx)
{
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "currently_attached", json_object_new_boolean(1));
	int r = rec_update(e, &class_pbd, ctx, ch);
	json_object_put(ch);
	return r;
}

/* Opens the SR of a PBD, under its lock, in a read transaction that is then closed. */
static int open_locked(struct engine *e, const char *sr_ref, unsigned flags, struct sr_handle *h, int *lock)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = sr_handle_open(e, sr_ref, flags, h);
	store_rollback(e->store);
	if (r < 0)
		return r;
	if ((*lock = sr_lock(e, h->uuid)) < 0) {
		sr_handle_close(h);
		return *lock;
	}
	return 0;
}

static void close_locked(struct sr_handle *h, int lock)
{
	sr_handle_close(h);
	sr_unlock(lock);
}

int pbd_plug(struct engine *e, const char *pbd)
{
	char *sr_ref = NULL;
	bool attached;
	int r = read_pbd(e, pbd, &sr_ref, &attached);
	if (r == 0 && attached)
		r = ERR1(XVM_ERR_DEVICE_ALREADY_ATTACHED, pbd, "PBD %s is plugged already", pbd);
	struct sr_handle h;
	int lock;
	if (r == 0 && (r = open_locked(e, sr_ref, 0, &h, &lock)) == 0) {
		if (h.drv->attach)
			r = h.drv->attach(&h);
		if (r == 0 && (r = scan_and_record(e, &h, set_attached, (void *)pbd)) < 0 && h.drv->detach)
			h.drv->detach(&h);
		close_locked(&h, lock);
	}
	free(sr_ref);
	return r;
}

static int pbd_set_detached(struct engine *e, const char *pbd)
{
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	struct json_object *ch = json_object_new_object();
	json_object_object_add(ch, "currently_attached", json_object_new_boolean(0));
	r = rec_update(e, &class_pbd, pbd, ch);
	json_object_put(ch);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

/* Unplugs a plugged PBD: nothing of the SR may be in use. */
static int unplug(struct engine *e, const char *pbd, const char *sr_ref, const char *doing)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = refuse_in_use(e, sr_ref, doing);
	store_rollback(e->store);
	struct sr_handle h;
	int lock;
	if (r < 0 || (r = open_locked(e, sr_ref, 0, &h, &lock)) < 0)
		return r;
	if (h.drv->detach)
		r = h.drv->detach(&h);
	close_locked(&h, lock);
	return r < 0 ? r : pbd_set_detached(e, pbd);
}

int pbd_unplug(struct engine *e, const char *pbd)
{
	char *sr_ref = NULL;
	bool attached;
	int r = read_pbd(e, pbd, &sr_ref, &attached);
	if (r == 0 && !attached)
		r = ERR1(XVM_ERR_DEVICE_ALREADY_DETACHED, pbd, "PBD %s is not plugged", pbd);
	if (r == 0)
		r = unplug(e, pbd, sr_ref, "unplug the SR");
	free(sr_ref);
	return r;
}

int pbd_destroy(struct engine *e, const char *pbd)
{
	char *sr_ref = NULL;
	bool attached;
	int r = read_pbd(e, pbd, &sr_ref, &attached);
	free(sr_ref);
	if (r == 0 && attached)
		r = ERR1(XVM_ERR_DEVICE_ALREADY_ATTACHED, pbd, "PBD %s is plugged: unplug it first", pbd);
	if (r < 0 || (r = store_begin_write(e->store)) < 0)
		return r;
	if ((r = rec_delete(e, &class_pbd, pbd)) < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

/* --- SR.forget / destroy / scan / update ---------------------------------- */

/* The pool's fields that name the SR (default_SR, ...) go back to OpaqueRef:NULL. */
static int unset_pool_srs(struct engine *e, const char *sr_ref)
{
	static const char *const fields[] = { "default_SR", "suspend_image_SR", "crash_dump_SR", NULL };
	int r = 0;
	for (const char *const *f = fields; r == 0 && *f; f++) {
		struct json_object *pools;
		if ((r = rec_find(e, &class_pool, *f, sr_ref, &pools)) < 0)
			break;
		struct json_object *ch = json_object_new_object();
		add_str(ch, *f, XVM_NULL_REF);
		STORAGE_FOR_EACH_REF(pools, i, pool)
			if (r == 0)
				r = rec_update(e, &class_pool, pool, ch);
		json_object_put(ch);
		json_object_put(pools);
	}
	return r;
}

/* Deletes the SR's records: VDIs (emptying CD drives that hold them), PBDs, the pool's references, the SR. */
static int forget_records(struct engine *e, const char *sr_ref)
{
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	struct json_object *vdis = NULL, *pbds = NULL;
	if ((r = rec_find(e, &class_vdi, "SR", sr_ref, &vdis)) == 0) {
		STORAGE_FOR_EACH_REF(vdis, i, vdi)
			if (r == 0)
				r = storage_forget_vdi(e, vdi);
	}
	if (r == 0 && (r = rec_find(e, &class_pbd, "SR", sr_ref, &pbds)) == 0) {
		STORAGE_FOR_EACH_REF(pbds, i, pbd)
			if (r == 0)
				r = rec_delete(e, &class_pbd, pbd);
	}
	if (r == 0)
		r = unset_pool_srs(e, sr_ref);
	if (r == 0)
		r = rec_delete(e, &class_sr, sr_ref);
	json_object_put(vdis);
	json_object_put(pbds);
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

static void remove_lock_file(struct engine *e, const char *uuid)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/sr-%s.lock", e->run_dir, uuid);
	unlink(path);
}

/* Unplugs this host's PBD if it is plugged, refusing when a running VM uses the SR. */
static int unplug_if_plugged(struct engine *e, const char *sr_ref, const char *doing)
{
	char *pbd = NULL;
	bool attached = false;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = sr_host_pbd(e, sr_ref, &pbd)) == 0)
		r = refuse_in_use(e, sr_ref, doing);
	store_rollback(e->store);
	char *unused = NULL;
	if (r == 0 && pbd && (r = read_pbd(e, pbd, &unused, &attached)) == 0 && attached)
		r = unplug(e, pbd, sr_ref, doing);
	free(unused);
	free(pbd);
	return r;
}

static int sr_uuid_of(struct engine *e, const char *sr_ref, char uuid[XVM_UUID_BUFLEN])
{
	static const char *const fields[] = { "uuid", NULL };
	struct json_object *rec;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_sr, sr_ref, fields, &rec)) == 0) {
		snprintf(uuid, XVM_UUID_BUFLEN, "%s", rec_str(rec, "uuid"));
		json_object_put(rec);
	}
	store_rollback(e->store);
	return r;
}

int sr_forget(struct engine *e, const char *sr_ref)
{
	char uuid[XVM_UUID_BUFLEN];
	int r = sr_uuid_of(e, sr_ref, uuid);
	if (r < 0 || (r = unplug_if_plugged(e, sr_ref, "forget the SR")) < 0)
		return r;
	if ((r = forget_records(e, sr_ref)) == 0)
		remove_lock_file(e, uuid);
	return r;
}

int sr_destroy(struct engine *e, const char *sr_ref)
{
	struct sr_handle h;
	int lock;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = refuse_in_use(e, sr_ref, "destroy the SR");
	struct json_object *vdis = NULL;
	if (r == 0)
		r = rec_find(e, &class_vdi, "SR", sr_ref, &vdis);
	store_rollback(e->store);
	if (r < 0 || (r = open_locked(e, sr_ref, SR_OPEN_PLUGGED, &h, &lock)) < 0) {
		json_object_put(vdis);
		return r;
	}
	if (!h.drv->destroy)
		r = ERR2(XVM_ERR_SR_OPERATION_NOT_SUPPORTED, sr_ref, "destroy",
			 "a %s SR cannot be destroyed: forget it instead", h.drv->type);
	/* Each disk's volume goes, then what holds them. */
	STORAGE_FOR_EACH_REF(vdis, i, vdi) {
		if (r < 0)
			break;
		char *location = NULL;
		if ((r = storage_vdi_location(e, vdi, &location)) == 0 && *location)
			r = h.drv->vdi_delete(&h, location);
		free(location);
	}
	if (r == 0)
		r = h.drv->destroy(&h);
	if (r == 0 && h.drv->detach)
		h.drv->detach(&h);
	char uuid[XVM_UUID_BUFLEN];
	snprintf(uuid, sizeof(uuid), "%s", h.uuid);
	close_locked(&h, lock);
	json_object_put(vdis);
	if (r == 0 && (r = forget_records(e, sr_ref)) == 0)
		remove_lock_file(e, uuid);
	return r;
}

int sr_scan(struct engine *e, const char *sr_ref)
{
	struct sr_handle h;
	int lock;
	int r = open_locked(e, sr_ref, SR_OPEN_PLUGGED, &h, &lock);
	if (r < 0)
		return r;
	r = scan_and_record(e, &h, NULL, NULL);
	close_locked(&h, lock);
	return r;
}

int sr_update(struct engine *e, const char *sr_ref)
{
	struct sr_handle h;
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	if ((r = sr_handle_open(e, sr_ref, SR_OPEN_PLUGGED, &h)) == 0) {
		r = storage_update_space(e, &h);
		sr_handle_close(&h);
	}
	if (r < 0) {
		store_rollback(e->store);
		return r;
	}
	return store_commit(e->store);
}

/* --- SRs whose content changes by itself ----------------------------------- */

/* Whether the SR has a VDI whose volume went while a guest held it: once the
 * guest lets go, a rescan forgets it. */
static bool has_missing(struct engine *e, const char *sr_ref)
{
	sqlite3_stmt *st = store_stmt(e->store, "SELECT 1 FROM VDI WHERE SR = ? AND missing = 1 LIMIT 1");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, sr_ref, -1, SQLITE_TRANSIENT);
	bool any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return any;
}

int storage_refresh_changed(struct engine *e)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	/* Few SRs change by themselves (ISO libraries, CD drives): look them up by type. */
	sqlite3_stmt *st = store_stmt(e->store, "SELECT ref, type, uuid FROM SR");
	if (!st) {
		store_rollback(e->store);
		return -XVM_ERR_STORE_ERROR;
	}
	struct json_object *todo = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const struct sr_driver *drv = sr_driver_lookup((const char *)sqlite3_column_text(st, 1));
		if (drv && (drv->caps & SR_CAP_CHANGES))
			json_object_array_add(todo, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	}
	sqlite3_reset(st);
	bool *stale = calloc(json_object_array_length(todo) + 1, sizeof(*stale));
	STORAGE_FOR_EACH_REF(todo, i, sr_ref) {
		struct sr_handle h;
		char stamp[128], key[80], *old = NULL;
		/* An SR that is not plugged here, or whose driver fails, is left as it is. */
		if (sr_handle_open(e, sr_ref, SR_OPEN_PLUGGED, &h) < 0) {
			error_clear();
			continue;
		}
		snprintf(key, sizeof(key), "sr_stamp:%s", h.uuid);
		if (h.drv->stamp(&h, stamp, sizeof(stamp)) == 0 && store_meta_get(e->store, key, &old) == 0)
			stale[i] = !old || strcmp(old, stamp) != 0 || has_missing(e, sr_ref);
		error_clear();
		free(old);
		sr_handle_close(&h);
	}
	store_rollback(e->store);
	r = 0;
	STORAGE_FOR_EACH_REF(todo, i, sr_ref)
		if (stale[i] && (r = sr_scan(e, sr_ref)) < 0) {
			log_warning("SR %s changed; rescanning it failed: %s", sr_ref, xvm_last_error()->message);
			r = 0;
			error_clear();
		}
	free(stale);
	json_object_put(todo);
	return r;
}
