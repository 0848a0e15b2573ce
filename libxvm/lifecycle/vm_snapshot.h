/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM snapshots as XenAPI has them: a snapshot is a template record
 * (is_a_snapshot, snapshot_of, snapshot_time) whose disks are VDI snapshots;
 * a checkpoint also holds the guest's memory and is Suspended.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

struct engine;
struct vm_op;

int vm_snapshot(struct engine *e, const char *vm, const char *new_name, char **ret_ref);
/* A running VM's disks and memory; the VM runs on. */
int vm_checkpoint(struct engine *e, const char *vm, const char *new_name, char **ret_ref);
/* The VM the snapshot was taken of goes back to it: config, disks, memory. */
int vm_revert(struct engine *e, const char *snapshot);
/* A template made from the snapshot: a copy-on-write copy that is no snapshot. */
int vm_snapshot_export_to_template(struct engine *e, const char *snapshot, const char *new_name, char **ret_ref);
/* 1 if the VM is a snapshot, 0 if not; opens its own read transaction. */
int vm_is_snapshot(struct engine *e, const char *ref);
/* vm_op_begin on a snapshot, in any power state; OPERATION_NOT_ALLOWED for another VM. */
int vm_snapshot_op_begin(struct engine *e, const char *snapshot, const char *name, struct vm_op *op);

/* The drives and NICs of a VM, with new disks for a copy of it. */
struct vm_devices {
	struct json_object *vbds; /* [{ ref, VDI, attached }]: VDI is the copy's (a new disk, or the same CD) */
	struct json_object *vifs; /* [{ ref, attached }] */
	struct json_object *made; /* the new VDIs, for undo */
	struct json_object *vtpms; /* [{ ref, uuid }]: the copies of the vTPMs' states (vtpm.h) */
};

/* Reads the VM's devices and makes new disks for its read-write ones: VDI
 * snapshots or clones (copy-on-write, also of a running VM's disks), and
 * copies of its vTPMs' states (same_vm: for the VM's own snapshot or revert,
 * where a unique vTPM keeps its contents). Outside a transaction; on failure
 * nothing is left. */
int vm_devices_clone(struct engine *e, const char *vm, bool snapshot, bool same_vm, struct vm_devices *d);
/* In a write transaction: the devices' records for VM dst; keep_attached:
 * as they were attached (a suspended copy resumes with them). */
int vm_devices_record(struct engine *e, const struct vm_devices *d, const char *dst, bool keep_attached);
/* Destroys the new disks (after a failure) and frees d. */
void vm_devices_undo(struct engine *e, struct vm_devices *d);
void vm_devices_free(struct vm_devices *d);
