/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_op.h"

#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/json_fields.h"
#include "lifecycle/reconcile.h"
#include "lifecycle/vm_outcome.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

const char *const vm_lifecycle_fields[] = {
	"uuid", "name_label", "power_state", "domid", "metrics", "is_a_template", "is_default_template",
	"blocked_operations", "actions_after_shutdown", "actions_after_reboot", "actions_after_crash",
	"VCPUs_max", "VCPUs_at_startup", "VCPUs_params", "memory_static_max", "memory_dynamic_max",
	"platform", "PV_bootloader", "PV_kernel", "PV_ramdisk", "PV_args", "HVM_boot_params", "memory_static_min", NULL
};

static int check_allowed(struct vm_op *op, unsigned flags)
{
	struct json_object *v;
	bool template = json_object_object_get_ex(op->rec, "is_a_template", &v) && json_object_get_boolean(v);
	if (template && !(flags & VM_OP_ALLOW_TEMPLATE))
		return ERR1(XVM_ERR_VM_IS_TEMPLATE, op->ref, "%s is a template: it cannot %s",
			    rec_str(op->rec, "name_label"), op->name);
	if (!(flags & VM_OP_ANY_STATE) && !vm_op_allowed_in(op->name, op->power))
		return vm_bad_power_state(op->ref, rec_str(op->rec, "name_label"), vm_op_expected_state(op->name),
					  vm_power_name(op->power), op->name);
	struct json_object *blocked, *reason;
	if (json_object_object_get_ex(op->rec, "blocked_operations", &blocked) &&
	    json_object_object_get_ex(blocked, op->name, &reason))
		return ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, op->ref, op->name, "%s is blocked on VM %s: %s",
			    op->name, rec_str(op->rec, "name_label"), json_object_get_string(reason));
	return 0;
}

static int read_vm(struct engine *e, const char *ref, struct json_object **rec)
{
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = rec_read_fields(e, &class_vm, ref, vm_lifecycle_fields, rec);
	store_rollback(e->store);
	return r;
}

int vm_op_begin(struct engine *e, const char *ref, const char *name, unsigned flags, struct vm_op *op)
{
	*op = (struct vm_op){ .e = e, .ref = ref, .name = name, .lock = { -1 } };
	int r = oplock_try(e, "VM", ref, &op->lock);
	if (r < 0)
		return r;
	if ((r = read_vm(e, ref, &op->rec)) < 0 || (r = reconcile_vm(e, ref, op->rec)) < 0)
		goto fail;
	op->power = vm_power_parse(rec_str(op->rec, "power_state"));
	op->domid = json_object_get_int64(json_object_object_get(op->rec, "domid"));
	if ((r = check_allowed(op, flags)) < 0 || (r = inflight_begin(e, &op->lock, "VM", ref, name, &op->mark)) < 0)
		goto fail;
	return 0;
fail:
	json_object_put(op->rec);
	op->rec = NULL;
	oplock_release(&op->lock);
	return r;
}

void vm_op_finish(struct vm_op *op)
{
	inflight_end(&op->mark);
	json_object_put(op->rec);
	op->rec = NULL;
	oplock_release(&op->lock);
}

int vm_op_end(struct vm_op *op, struct json_object *vm_changes, struct json_object *metrics_changes)
{
	int r = vm_changes || metrics_changes ? vm_record_outcome(op->e, op->ref, op->rec, vm_changes, metrics_changes)
					      : 0;
	vm_op_finish(op);
	return r;
}

int vm_op_abort(struct vm_op *op, int r)
{
	vm_op_finish(op);
	return r;
}

int vm_op_begin_live(struct engine *e, const char *ref, const char *name, struct vm_op *op)
{
	int r = vm_op_begin(e, ref, name, VM_OP_ANY_STATE, op);
	if (r < 0)
		return r;
	if (op->power != VM_RUNNING && op->power != VM_PAUSED)
		return vm_op_abort(op, vm_bad_power_state(op->ref, rec_str(op->rec, "name_label"), "Running",
							  vm_power_name(op->power), name));
	return 0;
}

/* The device's VM and whether it is attached, in a read transaction of its own. */
static int read_device(struct engine *e, const struct class_def *cls, const char *ref, struct json_object **rec)
{
	static const char *const fields[] = { "VM", "currently_attached", NULL };
	int r = store_begin_read(e->store);
	if (r < 0)
		return r;
	r = rec_read_fields(e, cls, ref, fields, rec);
	store_rollback(e->store);
	return r;
}

int vm_device_destroy(struct engine *e, const struct class_def *cls, const char *ref)
{
	struct json_object *rec;
	int r = read_device(e, cls, ref, &rec);
	if (r < 0)
		return r;
	/* Under the VM's operation lock, which a plug or a start holds: read again
	 * there, the device stays attached or not until the delete is done. */
	struct vm_op op;
	r = vm_op_begin(e, rec_str(rec, "VM"), "destroy_device", VM_OP_ALLOW_TEMPLATE | VM_OP_ANY_STATE, &op);
	json_object_put(rec);
	if (r < 0)
		return r;
	if ((r = read_device(e, cls, ref, &rec)) < 0)
		return vm_op_abort(&op, r);
	if (rec_bool(rec, "currently_attached"))
		r = ERR1(XVM_ERR_DEVICE_ALREADY_ATTACHED, ref, "%s %s is attached to the running VM: unplug it first",
			 cls->info.name, ref);
	json_object_put(rec);
	if (r == 0 && (r = store_begin_write(e->store)) == 0) {
		if ((r = rec_delete(e, cls, ref)) == 0)
			r = store_commit(e->store);
		else
			store_rollback(e->store);
	}
	return vm_op_abort(&op, r);
}
