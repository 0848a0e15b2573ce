/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which VM operations each power state allows: the one table that both
 * fills allowed_operations and refuses forbidden transitions.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

enum vm_power { VM_HALTED = 0, VM_PAUSED, VM_RUNNING, VM_SUSPENDED, VM_POWER_COUNT };

enum vm_power vm_power_parse(const char *s);
const char *vm_power_name(enum vm_power p);

/* Whether op may run on a VM in state p (templates and snapshots aside). */
bool vm_op_allowed_in(const char *op, enum vm_power p);
/* The state op needs, for VM_BAD_POWER_STATE's `expected` ("Halted", ...). */
const char *vm_op_expected_state(const char *op);

/* Sets VM_BAD_POWER_STATE [vm, expected, actual], the states lower-case as
 * xapi sends them; `doing` completes "VM NAME must be EXPECTED to ...". */
int vm_bad_power_state(const char *ref, const char *label, const char *expected, const char *actual,
		       const char *doing);

/* Sets the record's allowed_operations from its power_state, template flags,
 * operations in flight and blocked_operations. */
void allowed_ops_fill_vm(struct json_object *rec);
