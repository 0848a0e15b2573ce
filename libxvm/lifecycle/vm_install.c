/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_install.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/domain.h"
#include "lifecycle/vm_op.h"
#include "lifecycle/vm_snapshot.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "storage/storage.h"
#include "store/store.h"

/* A template by reference, UUID or (unique) name. Inside a transaction. */
static int find_template(struct engine *e, const char *name, char **ret)
{
	char *ref = NULL;
	int r = 0;
	if (ref_valid(name)) {
		r = rec_exists(e, &class_vm, name);
		ref = r == 1 ? strdup(name) : NULL;
	} else if (uuid_valid(name)) {
		r = rec_find_one(e, &class_vm, "uuid", name, &ref);
	}
	if (r < 0)
		return r;
	if (!ref) {
		struct json_object *refs;
		if ((r = rec_find(e, &class_vm, "name_label", name, &refs)) < 0)
			return r;
		/* Among same-named VMs only templates count. */
		size_t n = json_object_array_length(refs), found = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			const char *cand = json_object_get_string(json_object_array_get_idx(refs, i));
			struct json_object *rec;
			static const char *const fields[] = { "is_a_template", NULL };
			if ((r = rec_read_fields(e, &class_vm, cand, fields, &rec)) < 0)
				break;
			if (rec_bool(rec, "is_a_template") && found++ == 0)
				ref = strdup(cand);
			json_object_put(rec);
		}
		json_object_put(refs);
		if (r < 0) {
			free(ref);
			return r;
		}
		if (found > 1) {
			free(ref);
			return ERR1(XVM_ERR_UNKNOWN_TEMPLATE, name,
				    "%zu templates are named '%s': name one by its UUID", found, name);
		}
	}
	if (!ref)
		return ERR1(XVM_ERR_UNKNOWN_TEMPLATE, name, "there is no template '%s'", name);
	*ret = ref;
	return 0;
}

int vm_install(struct engine *e, const char *template_name, const char *new_name, char **ret_ref)
{
	if (!new_name || !*new_name)
		return ERR2(XVM_ERR_INVALID_VALUE, "new_name_label", "", "a new VM needs a name");
	int r = store_begin_write(e->store);
	if (r < 0)
		return r;
	char *tref = NULL;
	struct json_object *t = NULL, *vm = NULL, *metrics = NULL;
	static const char *const template_fields[] = { "is_a_template", NULL };
	if ((r = find_template(e, template_name, &tref)) < 0 ||
	    (r = rec_read_fields(e, &class_vm, tref, template_fields, &t)) < 0)
		goto fail;
	if (!rec_bool(t, "is_a_template")) {
		r = ERR1(XVM_ERR_UNKNOWN_TEMPLATE, template_name, "'%s' is a VM, not a template", template_name);
		goto fail;
	}
	char ref[XVM_REF_BUFLEN], mref[XVM_REF_BUFLEN], now[XVM_DATETIME_BUFLEN];
	ref_generate(ref);
	ref_generate(mref);
	datetime_format(time(NULL), now);
	metrics = json_object_new_object();
	json_object_object_add(metrics, "install_time", json_object_new_string(now));
	vm = json_object_new_object();
	json_object_object_add(vm, "name_label", json_object_new_string(new_name));
	json_object_object_add(vm, "is_a_template", json_object_new_boolean(0));
	json_object_object_add(vm, "metrics", json_object_new_string(mref));
	if ((r = rec_insert(e, &class_vm_metrics, mref, metrics)) < 0 || (r = rec_copy(e, &class_vm, tref, ref, vm)) < 0)
		goto fail;
	if ((r = store_commit(e->store)) < 0)
		goto out;
	*ret_ref = strdup(ref);
	r = *ret_ref ? 0 : error_oom();
	goto out;
fail:
	store_rollback(e->store);
out:
	free(tref);
	json_object_put(t);
	json_object_put(vm);
	json_object_put(metrics);
	return r;
}

/* Deletes the VM's record and what hangs off it (not its disks' VDIs). */
static int delete_vm_records(struct engine *e, const char *ref, struct json_object *rec)
{
	const struct class_def *const owned[] = { &class_vbd, &class_vif, &class_console };
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(owned) / sizeof(owned[0]); i++) {
		struct json_object *refs;
		if ((r = rec_find(e, owned[i], "VM", ref, &refs)) < 0)
			break;
		for (size_t k = 0; r == 0 && k < json_object_array_length(refs); k++)
			r = rec_delete(e, owned[i], json_object_get_string(json_object_array_get_idx(refs, k)));
		json_object_put(refs);
	}
	struct json_object *m;
	if (r == 0 && json_object_object_get_ex(rec, "metrics", &m) && !ref_is_null(json_object_get_string(m)))
		r = rec_delete(e, &class_vm_metrics, json_object_get_string(m));
	if (r == 0)
		r = rec_delete(e, &class_vm, ref);
	return r;
}

/* Deletes the VM's records; with_disks, also the disks it owns, whose
 * volumes go once the records are committed. */
static int finish_deleting(struct vm_op *op, bool with_disks)
{
	struct json_object *volumes = NULL;
	int r = store_begin_write(op->e->store);
	if (r == 0) {
		if (with_disks)
			r = vm_disks_forget_owned(op->e, op->ref, &volumes);
		if (r == 0)
			r = delete_vm_records(op->e, op->ref, op->rec);
		if (r == 0)
			r = store_commit(op->e->store);
		else
			store_rollback(op->e->store);
	}
	if (r == 0 && volumes)
		vm_disks_delete_volumes(op->e, volumes);
	json_object_put(volumes);
	vm_op_finish(op);
	return r;
}

static int refuse_builtin(struct vm_op *op)
{
	if (!rec_bool(op->rec, "is_default_template"))
		return 0;
	return vm_op_abort(op, ERR1(XVM_ERR_VM_IS_TEMPLATE, op->ref, "%s is a built-in template: it cannot be deleted",
				    json_object_get_string(json_object_object_get(op->rec, "name_label"))));
}

int vm_destroy(struct engine *e, const char *ref)
{
	/* A snapshot goes with its memory and the disks it alone uses. */
	int r = vm_is_snapshot(e, ref);
	if (r != 0)
		return r < 0 ? r : vm_uninstall(e, ref);
	struct vm_op op;
	r = vm_op_begin(e, ref, "destroy", VM_OP_ALLOW_TEMPLATE, &op);
	if (r < 0)
		return r;
	if ((r = refuse_builtin(&op)) < 0)
		return r;
	return finish_deleting(&op, false);
}

int vm_uninstall(struct engine *e, const char *ref)
{
	struct vm_op op;
	int r = vm_op_begin(e, ref, "destroy", VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, &op);
	if (r < 0)
		return r;
	if ((r = refuse_builtin(&op)) < 0)
		return r;
	if (op.power == VM_RUNNING || op.power == VM_PAUSED) {
		if ((r = domain_destroy(e, ref, (uint32_t)op.domid)) < 0)
			return vm_op_abort(&op, r);
	} else if (op.power == VM_SUSPENDED) {
		char *path = domain_suspend_image_path(e, op.rec);
		if (path)
			unlink(path);
		free(path);
	}
	return finish_deleting(&op, true);
}
