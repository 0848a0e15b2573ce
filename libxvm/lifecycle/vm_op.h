/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame of every VM operation:
 *   begin: take the VM's operation lock; read the VM; bring it in line with
 *          the hypervisor; check the power state; mark the operation in
 *          flight (run/ops, see inflight.h);
 *   the hypercalls, with no database lock held (a real guest takes seconds);
 *   end:   write the outcome in one transaction, clear the mark, unlock.
 * A crash in between leaves the lock free (the kernel drops it) and a mark
 * that readers know to be stale; the next operation reconciles the VM with
 * its domain before doing anything.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lifecycle/allowed_ops.h"
#include "lifecycle/inflight.h"
#include "lifecycle/oplock.h"

struct engine;

/* The VM fields a lifecycle operation reads: its checks, reconciling, and
 * the domain configuration (lifecycle/domain_config.c). Reading these and
 * not the whole record halves an operation's cost. */
extern const char *const vm_lifecycle_fields[];

struct vm_op {
	struct engine *e;
	const char *ref;
	const char *name;           /* "start", "clean_shutdown", ... */
	struct oplock lock;
	struct inflight mark;
	struct json_object *rec;    /* vm_lifecycle_fields of the VM at begin, after reconciling */
	enum vm_power power;
	int64_t domid;
};

enum vm_op_flags {
	VM_OP_ALLOW_TEMPLATE = 1u << 0,   /* the operation also applies to templates */
	VM_OP_ANY_STATE = 1u << 1,        /* no power-state rule (uninstall, simulate) */
};

int vm_op_begin(struct engine *e, const char *ref, const char *name, unsigned flags, struct vm_op *op);
/* vm_op_begin on a VM that must be running or paused (a device's hot-plug). */
int vm_op_begin_live(struct engine *e, const char *ref, const char *name, struct vm_op *op);
/* Writes `vm_changes` (stored VM fields, borrowed; may be NULL) and
 * `metrics_changes` (VM_metrics fields; may be NULL) in one transaction,
 * then ends the operation. */
int vm_op_end(struct vm_op *op, struct json_object *vm_changes, struct json_object *metrics_changes);
/* Ends the operation without writing anything; returns r (the error set). */
int vm_op_abort(struct vm_op *op, int r);
/* Ends the operation without writing: for an operation that wrote (or
 * deleted) the VM itself. */
void vm_op_finish(struct vm_op *op);
/* Deletes a VM's device record (a VBD, a VIF) that is not attached:
 * DEVICE_ALREADY_ATTACHED while it is; under the VM's operation lock. */
struct class_def;
int vm_device_destroy(struct engine *e, const struct class_def *cls, const char *ref);
