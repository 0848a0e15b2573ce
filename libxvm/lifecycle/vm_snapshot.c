/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taking snapshots and checkpoints of a VM, and templates made from them. */
#include "lifecycle/vm_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "core/util.h"
#include "lifecycle/domain.h"
#include "lifecycle/vm_op.h"
#include "lifecycle/vm_power.h"
#include "lifecycle/vtpm.h"
#include "objects/class.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"

void vm_devices_free(struct vm_devices *d)
{
	json_object_put(d->vbds);
	json_object_put(d->vifs);
	json_object_put(d->made);
	json_object_put(d->vtpms);
	*d = (struct vm_devices){ 0 };
}

void vm_devices_undo(struct engine *e, struct vm_devices *d)
{
	void *first = error_stash();
	for (size_t i = 0; d->made && i < json_object_array_length(d->made); i++)
		vdi_destroy(e, json_object_get_string(json_object_array_get_idx(d->made, i)));
	vtpm_remove_states(e, d->vtpms);
	error_unstash(first);
	vm_devices_free(d);
}

static void add_device(struct json_object *list, const char *ref, const char *vdi, bool attached)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "ref", json_object_new_string(ref));
	if (vdi)
		json_object_object_add(o, "VDI", json_object_new_string(vdi));
	json_object_object_add(o, "attached", json_object_new_boolean(attached));
	json_object_array_add(list, o);
}

/* The VM's VBDs and VIFs into d, with each VBD's own VDI. In a transaction. */
static int read_devices(struct engine *e, const char *vm, struct vm_devices *d)
{
	static const char *const vbd_fields[] = { "VDI", "currently_attached", NULL };
	static const char *const vif_fields[] = { "currently_attached", NULL };
	struct json_object *refs;
	int r = rec_find(e, &class_vbd, "VM", vm, &refs);
	for (size_t i = 0; r == 0 && i < json_object_array_length(refs); i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vbd, ref, vbd_fields, &rec)) == 0) {
			add_device(d->vbds, ref, rec_str(rec, "VDI"), rec_bool(rec, "currently_attached"));
			json_object_put(rec);
		}
	}
	json_object_put(refs);
	if (r == 0)
		r = rec_find(e, &class_vif, "VM", vm, &refs);
	else
		refs = NULL;
	for (size_t i = 0; r == 0 && i < json_object_array_length(refs); i++) {
		const char *ref = json_object_get_string(json_object_array_get_idx(refs, i));
		struct json_object *rec;
		if ((r = rec_read_fields(e, &class_vif, ref, vif_fields, &rec)) == 0) {
			add_device(d->vifs, ref, NULL, rec_bool(rec, "currently_attached"));
			json_object_put(rec);
		}
	}
	json_object_put(refs);
	return r;
}

/* Which VBDs get a disk of their own: the read-write disks; CD drives and
 * read-only disks share the medium. In a transaction. */
static int wants_copy(struct engine *e, const char *vbd, bool *copy)
{
	static const char *const fields[] = { "VDI", "type", "mode", NULL };
	struct json_object *rec;
	int r = rec_read_fields(e, &class_vbd, vbd, fields, &rec);
	if (r == 0) {
		*copy = strcmp(rec_str(rec, "type"), "Disk") == 0 && strcmp(rec_str(rec, "mode"), "RW") == 0 &&
			!ref_is_null(rec_str(rec, "VDI"));
		json_object_put(rec);
	}
	return r;
}

int vm_devices_clone(struct engine *e, const char *vm, bool snapshot, bool same_vm, struct vm_devices *d)
{
	*d = (struct vm_devices){ json_object_new_array(), json_object_new_array(), json_object_new_array(), NULL };
	struct json_object *copy = json_object_new_array();
	int r = store_begin_read(e->store);
	if (r == 0) {
		r = read_devices(e, vm, d);
		for (size_t i = 0; r == 0 && i < json_object_array_length(d->vbds); i++) {
			bool c = false;
			r = wants_copy(e, rec_str(json_object_array_get_idx(d->vbds, i), "ref"), &c);
			json_object_array_add(copy, json_object_new_boolean(c));
		}
		store_rollback(e->store);
	}
	/* Each disk in its own VDI operation, outside any transaction (qemu-img runs). */
	for (size_t i = 0; r == 0 && i < json_object_array_length(d->vbds); i++) {
		struct json_object *vbd = json_object_array_get_idx(d->vbds, i);
		char *new_vdi;
		if (!json_object_get_boolean(json_object_array_get_idx(copy, i)))
			continue;
		if ((r = vdi_clone(e, rec_str(vbd, "VDI"), snapshot, &new_vdi)) < 0)
			break;
		json_object_array_add(d->made, json_object_new_string(new_vdi));
		json_object_object_add(vbd, "VDI", json_object_new_string(new_vdi));
		free(new_vdi);
	}
	json_object_put(copy);
	if (r == 0)
		r = vtpm_copy_states(e, vm, same_vm, &d->vtpms);
	if (r < 0)
		vm_devices_undo(e, d);
	return r;
}

static int record_copies(struct engine *e, const struct class_def *c, struct json_object *list, const char *dst,
			 bool keep_attached)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < json_object_array_length(list); i++) {
		struct json_object *dev = json_object_array_get_idx(list, i), *over = json_object_new_object(), *vdi;
		char ref[XVM_REF_BUFLEN];
		ref_generate(ref);
		json_object_object_add(over, "VM", json_object_new_string(dst));
		if (json_object_object_get_ex(dev, "VDI", &vdi)) {
			json_object_object_add(over, "VDI", json_object_get(vdi));
			json_object_object_add(over, "empty", json_object_new_boolean(ref_is_null(json_object_get_string(vdi))));
		}
		if (keep_attached)
			json_object_object_add(over, "currently_attached", json_object_new_boolean(rec_bool(dev, "attached")));
		r = rec_copy(e, c, rec_str(dev, "ref"), ref, over);
		json_object_put(over);
	}
	return r;
}

int vm_devices_record(struct engine *e, const struct vm_devices *d, const char *dst, bool keep_attached)
{
	int r = record_copies(e, &class_vbd, d->vbds, dst, keep_attached);
	if (r == 0)
		r = record_copies(e, &class_vif, d->vifs, dst, keep_attached);
	return r < 0 ? r : vtpm_record_copies(e, d->vtpms, dst);
}

/* Whether the VM is a snapshot (1) or not (0), and its name (free()). */
static int snapshot_and_name(struct engine *e, const char *ref, char **name)
{
	static const char *const fields[] = { "is_a_snapshot", "name_label", NULL };
	struct json_object *rec;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_vm, ref, fields, &rec)) == 0) {
		r = rec_bool(rec, "is_a_snapshot");
		if (name && !(*name = strdup(rec_str(rec, "name_label"))))
			r = error_oom();
		json_object_put(rec);
	}
	store_rollback(e->store);
	return r;
}

int vm_is_snapshot(struct engine *e, const char *ref)
{
	return snapshot_and_name(e, ref, NULL);
}

static int check_name(const char *new_name)
{
	return new_name && *new_name ? 0 : ERR2(XVM_ERR_INVALID_VALUE, "new_name", "", "the new VM needs a name");
}

/* A path in the suspend directory for an image whose owner has no record yet. */
static char *pending_image_path(struct engine *e)
{
	char uuid[XVM_UUID_BUFLEN], *path;
	uuid_generate_str(uuid);
	return asprintf(&path, "%s/suspend/pending-%s.xvmsave", e->state_dir, uuid) < 0 ? NULL : path;
}

/* In a write transaction: the copy `dst` of `src` as its record and devices;
 * with a memory image, Suspended, and *image_path where its image goes. */
static int record_copy(struct engine *e, const char *src, const char *dst, struct json_object *overrides,
		       const struct vm_devices *d, bool with_image, char **image_path)
{
	if (with_image)
		json_object_object_add(overrides, "power_state", json_object_new_string("Suspended"));
	int r = rec_copy(e, &class_vm, src, dst, overrides);
	if (r == 0)
		r = vm_devices_record(e, d, dst, with_image);
	if (r < 0 || !with_image)
		return r;
	static const char *const fields[] = { "uuid", NULL };
	struct json_object *rec;
	if ((r = rec_read_fields(e, &class_vm, dst, fields, &rec)) < 0)
		return r;
	*image_path = domain_suspend_image_path(e, rec);
	json_object_put(rec);
	return *image_path ? 0 : error_oom();
}

/* Writes the copy's records, its memory image (if any, at `image` until
 * then) under its own name; on failure its image and disks go. */
static int commit_copy(struct engine *e, const char *src, const char *dst, struct json_object *overrides,
		       struct vm_devices *d, const char *image)
{
	char *path = NULL;
	int r = store_begin_write(e->store);
	if (r == 0) {
		if ((r = record_copy(e, src, dst, overrides, d, image != NULL, &path)) == 0 && image &&
		    rename(image, path) < 0)
			r = ERR1(XVM_ERR_INTERNAL_ERROR, path, "cannot rename %s to %s: %s", image, path,
				 strerror(errno));
		if (r < 0)
			store_rollback(e->store);
		else if ((r = store_commit(e->store)) < 0 && path)
			unlink(path);
	}
	if (r < 0 && image)
		unlink(image);
	free(path);
	if (r < 0)
		vm_devices_undo(e, d);
	else
		vm_devices_free(d);
	return r;
}

static int pause_or_unpause(struct vm_op *op, enum xvm_hc hc, const char *what)
{
	struct xvm_hc_domain a = { .head = XVM_HC_HEAD(0), .domid = (uint32_t)op->domid };
	int r = xvm_hypercall(op->e->hv, hc, &a);
	return r < 0 ? engine_hv_error(op->e, r, what, op->ref) : 0;
}

/* The memory image of the snapshot being taken, at `image`: a running VM is
 * saved and runs on (it is paused meanwhile by the caller); a suspended one's
 * image is shared (a hard link: the images are never written again). */
static int take_memory(struct vm_op *op, const char *image)
{
	if (op->power == VM_SUSPENDED) {
		char *own = domain_suspend_image_path(op->e, op->rec);
		int r = own ? 0 : error_oom();
		if (r == 0 && link(own, image) < 0)
			r = ERR1(XVM_ERR_INTERNAL_ERROR, own, "cannot link the suspend image %s: %s", own, strerror(errno));
		free(own);
		return r;
	}
	return domain_save(op->e, op->ref, (uint32_t)op->domid, image, XVM_HC_F_SAVE_KEEP);
}

static int take(struct engine *e, const char *vm, const char *new_name, bool checkpoint, char **ret_ref)
{
	int r = check_name(new_name);
	struct vm_op op;
	if (r < 0 || (r = vm_op_begin(e, vm, checkpoint ? "checkpoint" : "snapshot", 0, &op)) < 0)
		return r;
	bool with_memory = checkpoint || op.power == VM_SUSPENDED;
	char *image = with_memory ? pending_image_path(e) : NULL;
	if (with_memory && !image)
		return vm_op_abort(&op, error_oom());
	/* The guest stands still while its disks and memory are taken: one instant of it. */
	if (checkpoint && (r = pause_or_unpause(&op, XVM_HC_DOMAIN_PAUSE, "domain pause")) < 0) {
		free(image);
		return vm_op_abort(&op, r);
	}
	struct vm_devices d;
	r = vm_devices_clone(e, vm, true, true, &d);
	if (r == 0 && with_memory && (r = take_memory(&op, image)) < 0)
		vm_devices_undo(e, &d);
	if (checkpoint) {
		int u = pause_or_unpause(&op, XVM_HC_DOMAIN_UNPAUSE, "domain unpause");
		if (r == 0 && u < 0) {
			r = u;
			unlink(image);
			vm_devices_undo(e, &d);
		}
	}
	char ref[XVM_REF_BUFLEN], now[XVM_DATETIME_BUFLEN];
	if (r == 0) {
		ref_generate(ref);
		datetime_format(time(NULL), now);
		struct json_object *over = json_object_new_object();
		json_object_object_add(over, "name_label", json_object_new_string(new_name));
		json_object_object_add(over, "is_a_template", json_object_new_boolean(1));
		json_object_object_add(over, "is_a_snapshot", json_object_new_boolean(1));
		json_object_object_add(over, "snapshot_of", json_object_new_string(vm));
		json_object_object_add(over, "snapshot_time", json_object_new_string(now));
		r = commit_copy(e, vm, ref, over, &d, image);
		json_object_put(over);
	}
	free(image);
	vm_op_abort(&op, r);
	if (r < 0)
		return r;
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

int vm_snapshot(struct engine *e, const char *vm, const char *new_name, char **ret_ref)
{
	return take(e, vm, new_name, false, ret_ref);
}

int vm_checkpoint(struct engine *e, const char *vm, const char *new_name, char **ret_ref)
{
	return take(e, vm, new_name, true, ret_ref);
}

int vm_snapshot_op_begin(struct engine *e, const char *snapshot, const char *name, struct vm_op *op)
{
	char *label = NULL;
	int r = snapshot_and_name(e, snapshot, &label);
	if (r == 0)
		r = ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, snapshot, name, "VM %s is not a snapshot: it cannot %s", label,
			 name);
	free(label);
	return r < 0 ? r : vm_op_begin(e, snapshot, name, VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, op);
}

int vm_snapshot_export_to_template(struct engine *e, const char *snapshot, const char *new_name, char **ret_ref)
{
	int r = check_name(new_name);
	struct vm_op op;
	if (r < 0 || (r = vm_snapshot_op_begin(e, snapshot, "export", &op)) < 0)
		return r;
	struct vm_devices d;
	char ref[XVM_REF_BUFLEN];
	if ((r = vm_devices_clone(e, snapshot, false, false, &d)) == 0) {
		ref_generate(ref);
		struct json_object *over = json_object_new_object();
		json_object_object_add(over, "name_label", json_object_new_string(new_name));
		json_object_object_add(over, "is_a_template", json_object_new_boolean(1));
		/* The memory of a checkpoint stays with it: the template starts its guests afresh. */
		r = commit_copy(e, snapshot, ref, over, &d, NULL);
		json_object_put(over);
	}
	vm_op_abort(&op, r);
	if (r < 0)
		return r;
	*ret_ref = strdup(ref);
	return *ret_ref ? 0 : error_oom();
}

/* The VM fields a revert takes from the snapshot: its configuration, not
 * its identity (uuid, name) nor what makes it a template or a snapshot.
 * A NULL-terminated array (free()), NULL when out of memory. */
static const char **revert_fields(void)
{
	size_t n = 0;
	for (const struct field_def *f = class_vm.fields; f->info.name; f++)
		n++;
	const char **names = calloc(n + 1, sizeof(*names));
	n = 0;
	for (const struct field_def *f = class_vm.fields; names && f->info.name; f++)
		if (field_is_stored(f) && f->info.qualifier != XVM_QUAL_RO_RUNTIME && strcmp(f->info.name, "uuid") != 0 &&
		    strcmp(f->info.name, "name_label") != 0 && strcmp(f->info.name, "is_a_template") != 0)
			names[n++] = f->info.name;
	return names;
}

/* In a write transaction: the VM's configuration and devices become the
 * snapshot's; its old disks are forgotten (*volumes: to delete after commit). */
static int revert_records(struct engine *e, const char *vm, const char *snapshot, const struct vm_devices *d,
			  bool with_memory, struct json_object **volumes, struct json_object **vtpms)
{
	struct vm_devices old = { json_object_new_array(), json_object_new_array(), NULL, NULL };
	struct json_object *config = NULL;
	int r = vm_disks_forget_owned(e, vm, volumes);
	if (r == 0)
		r = vtpm_forget_owned(e, vm, vtpms);
	if (r == 0)
		r = read_devices(e, vm, &old);
	for (size_t i = 0; r == 0 && i < json_object_array_length(old.vbds); i++)
		r = rec_delete(e, &class_vbd, rec_str(json_object_array_get_idx(old.vbds, i), "ref"));
	for (size_t i = 0; r == 0 && i < json_object_array_length(old.vifs); i++)
		r = rec_delete(e, &class_vif, rec_str(json_object_array_get_idx(old.vifs, i), "ref"));
	const char **fields = r == 0 ? revert_fields() : NULL;
	if (r == 0 && !fields)
		r = error_oom();
	if (r == 0 && (r = rec_read_fields(e, &class_vm, snapshot, fields, &config)) == 0)
		r = rec_update(e, &class_vm, vm, config);
	free(fields);
	if (r == 0)
		r = vm_devices_record(e, d, vm, with_memory);
	json_object_put(config);
	vm_devices_free(&old);
	return r;
}

/* The snapshot's memory image as the VM's own (a hard link). */
static int link_image(struct engine *e, struct json_object *from, struct json_object *to)
{
	char *src = domain_suspend_image_path(e, from), *dst = domain_suspend_image_path(e, to);
	int r = src && dst ? 0 : error_oom();
	if (r == 0 && link(src, dst) < 0)
		r = ERR1(XVM_ERR_INTERNAL_ERROR, src, "cannot link the memory image %s: %s", src, strerror(errno));
	free(src);
	free(dst);
	return r;
}

/* The VM's domain or suspended run goes: the snapshot's takes its place. */
static int stop_vm(struct vm_op *op)
{
	if (op->power == VM_RUNNING || op->power == VM_PAUSED)
		return domain_destroy(op->e, op->ref, (uint32_t)op->domid);
	if (op->power == VM_SUSPENDED) {
		char *path = domain_suspend_image_path(op->e, op->rec);
		if (!path)
			return error_oom();
		if (unlink(path) < 0 && errno != ENOENT) {
			int r = ERR1(XVM_ERR_INTERNAL_ERROR, op->ref, "cannot remove the suspend image %s: %s", path,
				     strerror(errno));
			free(path);
			return r;
		}
		free(path);
	}
	return 0;
}

static int snapshot_of(struct engine *e, struct vm_op *sop, char **vm)
{
	static const char *const fields[] = { "snapshot_of", NULL };
	struct json_object *rec;
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	if ((r = rec_read_fields(e, &class_vm, sop->ref, fields, &rec)) == 0) {
		const char *of = rec_str(rec, "snapshot_of");
		if (ref_is_null(of) || rec_exists(e, &class_vm, of) != 1)
			r = ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, sop->ref, "revert",
				 "the VM snapshot %s was taken of no longer exists", rec_str(sop->rec, "name_label"));
		else if (!(*vm = strdup(of)))
			r = error_oom();
		json_object_put(rec);
	}
	store_rollback(e->store);
	return r;
}

/* With the VM's operation begun: its disks and configuration become the
 * snapshot's, and it ends Halted, or Suspended with the snapshot's memory. */
static int revert_vm(struct engine *e, struct vm_op *sop, struct vm_op *op)
{
	bool with_memory = sop->power == VM_SUSPENDED;
	struct vm_devices d;
	int r = vm_devices_clone(e, sop->ref, false, true, &d);
	if (r < 0)
		return vm_op_abort(op, r);
	if ((r = stop_vm(op)) < 0) {
		vm_devices_undo(e, &d);
		return vm_op_abort(op, r);
	}
	struct json_object *volumes = NULL, *old_vtpms = NULL;
	if ((r = store_begin_write(e->store)) == 0) {
		if ((r = revert_records(e, op->ref, sop->ref, &d, with_memory, &volumes, &old_vtpms)) == 0 && with_memory)
			r = link_image(e, sop->rec, op->rec);
		if (r < 0)
			store_rollback(e->store);
		else
			r = store_commit(e->store);
	}
	if (r < 0) {
		vm_devices_undo(e, &d);
		json_object_put(volumes);
		json_object_put(old_vtpms);
		/* The VM lost its run but kept its disks: it is Halted. */
		struct json_object *vm = json_object_new_object();
		domain_halted_changes(vm);
		vm_op_end(op, vm, NULL);
		json_object_put(vm);
		return r;
	}
	vm_devices_free(&d);
	vm_disks_delete_volumes(e, volumes);
	json_object_put(volumes);
	/* The VM's vTPM now has the snapshot's state, in a dir of its own. */
	vtpm_remove_states(e, old_vtpms);
	json_object_put(old_vtpms);
	struct json_object *vm = json_object_new_object();
	domain_halted_changes(vm);
	if (with_memory)
		json_object_object_add(vm, "power_state", json_object_new_string("Suspended"));
	r = vm_op_end(op, vm, NULL);
	json_object_put(vm);
	return r;
}

int vm_revert(struct engine *e, const char *snapshot)
{
	struct vm_op sop, op;
	char *vm = NULL;
	int r = vm_snapshot_op_begin(e, snapshot, "revert", &sop);
	if (r < 0)
		return r;
	if ((r = snapshot_of(e, &sop, &vm)) == 0 &&
	    (r = vm_op_begin(e, vm, "revert", VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, &op)) == 0)
		r = revert_vm(e, &sop, &op);
	bool resume = r == 0 && sop.power == VM_SUSPENDED;
	vm_op_abort(&sop, r);
	/* A checkpoint's guest goes on from the instant it was taken. */
	if (resume)
		r = vm_resume(e, vm, false, false);
	free(vm);
	return r;
}
