/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle/vm_op.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "lifecycle/reconcile.h"
#include "objects/records.h"
#include "objects/registry.h"
#include "store/store.h"

static int64_t rec_int(struct json_object *rec, const char *f)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, f, &v) ? json_object_get_int64(v) : 0;
}

static bool rec_bool(struct json_object *rec, const char *f)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, f, &v) && json_object_get_boolean(v);
}

static const char *rec_str(struct json_object *rec, const char *f)
{
	struct json_object *v;
	return json_object_object_get_ex(rec, f, &v) ? json_object_get_string(v) : "";
}

/* Tasks of markers left by a process that died mid-operation. */
static int clear_stale_tasks(struct engine *e, const char *ref, struct json_object *rec)
{
	struct json_object *ops;
	if (!json_object_object_get_ex(rec, "current_operations", &ops) || json_object_object_length(ops) == 0)
		return 0;
	json_object_object_foreach(ops, task, op) {
		(void)op;
		int r = rec_delete(e, &class_task, task);
		if (r < 0)
			return r;
	}
	struct json_object *cleared = json_object_new_object();
	json_object_object_add(cleared, "current_operations", json_object_new_object());
	int r = rec_update(e, &class_vm, ref, cleared);
	json_object_put(cleared);
	json_object_object_add(rec, "current_operations", json_object_new_object());
	return r;
}

static int create_task(struct vm_op *op)
{
	ref_generate(op->task_ref);
	char now[XVM_DATETIME_BUFLEN], name[64];
	datetime_format(time(NULL), now);
	snprintf(name, sizeof(name), "VM.%s", op->name);
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "name_label", json_object_new_string(name));
	json_object_object_add(t, "created", json_object_new_string(now));
	json_object_object_add(t, "resident_on", json_object_new_string(op->e->host_ref));
	json_object_object_add(t, "owner_pid", json_object_new_int64(getpid()));
	int r = rec_insert(op->e, &class_task, op->task_ref, t);
	json_object_put(t);
	return r;
}

static int check_allowed(struct vm_op *op, unsigned flags)
{
	if (rec_bool(op->rec, "is_a_template") && !(flags & VM_OP_ALLOW_TEMPLATE))
		return ERR1(XVM_ERR_VM_IS_TEMPLATE, op->ref, "%s is a template: it cannot %s",
			    rec_str(op->rec, "name_label"), op->name);
	if (!(flags & VM_OP_ANY_STATE) && !vm_op_allowed_in(op->name, op->power))
		return ERR3(XVM_ERR_VM_BAD_POWER_STATE, op->ref, vm_op_expected_state(op->name),
			    vm_power_name(op->power), "VM %s must be %s to %s; it is %s",
			    rec_str(op->rec, "name_label"), vm_op_expected_state(op->name), op->name,
			    vm_power_name(op->power));
	struct json_object *blocked, *reason;
	if (json_object_object_get_ex(op->rec, "blocked_operations", &blocked) &&
	    json_object_object_get_ex(blocked, op->name, &reason))
		return ERR2(XVM_ERR_OPERATION_NOT_ALLOWED, op->ref, op->name,
			    "%s is blocked on VM %s: %s", op->name, rec_str(op->rec, "name_label"),
			    json_object_get_string(reason));
	return 0;
}

int vm_op_begin(struct engine *e, const char *ref, const char *name, unsigned flags, struct vm_op *op)
{
	*op = (struct vm_op){ .e = e, .ref = ref, .name = name, .lock = { -1 } };
	int r = oplock_try(e, "VM", ref, &op->lock);
	if (r < 0)
		return r;
	if ((r = store_begin_write(e->store)) < 0)
		goto unlock;
	if ((r = rec_read(e, &class_vm, ref, &op->rec)) < 0)
		goto rollback;
	if ((r = clear_stale_tasks(e, ref, op->rec)) < 0)
		goto rollback;
	if ((r = reconcile_vm_locked(e, ref, op->rec)) < 0)
		goto rollback;
	json_object *ps;
	json_object_object_get_ex(op->rec, "power_state", &ps);
	op->power = vm_power_parse(json_object_get_string(ps));
	op->domid = rec_int(op->rec, "domid");
	if ((r = check_allowed(op, flags)) < 0) {
		/* Refused, but what reconciling learned is kept. */
		int saved = r;
		if ((r = store_commit(e->store)) == 0)
			r = saved;
		goto unlock;
	}
	if ((r = create_task(op)) < 0)
		goto rollback;
	struct json_object *changes = json_object_new_object(), *ops = json_object_new_object();
	json_object_object_add(ops, op->task_ref, json_object_new_string(name));
	json_object_object_add(changes, "current_operations", ops);
	r = rec_update(e, &class_vm, ref, changes);
	json_object_put(changes);
	if (r < 0)
		goto rollback;
	if ((r = store_commit(e->store)) < 0)
		goto unlock;
	return 0;
rollback:
	store_rollback(e->store);
unlock:
	json_object_put(op->rec);
	op->rec = NULL;
	oplock_release(&op->lock);
	return r;
}

static int write_metrics(struct vm_op *op, struct json_object *metrics_changes)
{
	struct json_object *m;
	const char *mref = json_object_object_get_ex(op->rec, "metrics", &m) ? json_object_get_string(m) : NULL;
	if (!ref_is_null(mref) && rec_exists(op->e, &class_vm_metrics, mref) == 1)
		return rec_update(op->e, &class_vm_metrics, mref, metrics_changes);
	char new_ref[XVM_REF_BUFLEN];
	ref_generate(new_ref);
	int r = rec_insert(op->e, &class_vm_metrics, new_ref, metrics_changes);
	if (r < 0)
		return r;
	struct json_object *link = json_object_new_object();
	json_object_object_add(link, "metrics", json_object_new_string(new_ref));
	r = rec_update(op->e, &class_vm, op->ref, link);
	json_object_put(link);
	return r;
}

static void finish(struct vm_op *op)
{
	json_object_put(op->rec);
	op->rec = NULL;
	oplock_release(&op->lock);
}

int vm_op_end(struct vm_op *op, struct json_object *vm_changes, struct json_object *metrics_changes)
{
	struct engine *e = op->e;
	int r = store_begin_write(e->store);
	if (r < 0)
		goto out;
	struct json_object *changes = json_object_new_object();
	if (vm_changes) {
		json_object_object_foreach(vm_changes, k, v)
			json_object_object_add(changes, k, json_object_get(v));
	}
	json_object_object_add(changes, "current_operations", json_object_new_object());
	r = rec_update(e, &class_vm, op->ref, changes);
	json_object_put(changes);
	if (r == 0)
		r = rec_delete(e, &class_task, op->task_ref);
	if (r == 0 && metrics_changes)
		r = write_metrics(op, metrics_changes);
	if (r < 0)
		store_rollback(e->store);
	else
		r = store_commit(e->store);
out:
	finish(op);
	return r;
}

void vm_op_abort(struct vm_op *op)
{
	/* Keep the caller's error: clearing the marker may fail on its own, and
	 * then the next operation clears it as stale. */
	const struct xvm_error *err = xvm_last_error();
	char *name = err ? strdup(err->name) : NULL, *msg = err ? strdup(err->message) : NULL;
	size_t np = err ? err->nparams : 0;
	char *params[8] = { 0 };
	for (size_t i = 0; i < np && i < 8; i++)
		params[i] = strdup(err->params[i]);
	vm_op_end(op, NULL, NULL);
	if (name)
		error_set_wire(name, np, (const char *const *)params, msg);
	free(name);
	free(msg);
	for (size_t i = 0; i < 8; i++)
		free(params[i]);
}

int vm_op_end_deleted(struct vm_op *op)
{
	finish(op);
	return 0;
}
