/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame of every VM operation:
 *   begin: take the VM's operation lock; in one transaction read the VM,
 *          drop stale in-flight markers, reconcile with the hypervisor,
 *          check the power state, record a task in current_operations;
 *   the hypercalls, with no database lock held (a real guest takes seconds);
 *   end:   in one transaction write the outcome and clear the task.
 * A crash between begin and end leaves a marker that the next operation on
 * the VM finds stale (its lock is free) and clears after reconciling.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "core/util.h"
#include "lifecycle/allowed_ops.h"
#include "lifecycle/oplock.h"

struct engine;

struct vm_op {
	struct engine *e;
	const char *ref;
	const char *name;           /* "start", "clean_shutdown", ... */
	struct oplock lock;
	char task_ref[XVM_REF_BUFLEN];
	struct json_object *rec;    /* the VM as it was at begin, after reconciling */
	enum vm_power power;
	int64_t domid;
};

enum vm_op_flags {
	VM_OP_ALLOW_TEMPLATE = 1u << 0,   /* the operation also applies to templates */
	VM_OP_ANY_STATE = 1u << 1,        /* no power-state rule (uninstall, simulate) */
};

int vm_op_begin(struct engine *e, const char *ref, const char *name, unsigned flags, struct vm_op *op);
/* Writes `vm_changes` (stored VM fields, borrowed; may be NULL) and
 * `metrics_changes` (VM_metrics fields; may be NULL), clears the task, unlocks. */
int vm_op_end(struct vm_op *op, struct json_object *vm_changes, struct json_object *metrics_changes);
/* Gives up: clears the task and unlocks, keeping the error already set. */
void vm_op_abort(struct vm_op *op);
/* Ends an op that deleted the VM itself: drops the task and the lock. */
int vm_op_end_deleted(struct vm_op *op);
