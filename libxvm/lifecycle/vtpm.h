/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual TPMs as XenServer 8 has them: at most one per VM, its state (what
 * swtpm keeps: the TPM's seeds, NVRAM, EK and platform certificates) in
 * STATE/vtpm/UUID, made with swtpm_setup at VTPM.create, removed with the
 * record. A copy of a VM (clone, copy, snapshot, install from a template that
 * has one) gets a copy of the state under a new VTPM record. A new state dir
 * is made under a temporary name and renamed, so that a crash leaves none
 * half-made.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "hypercall.h"

struct engine;

/* A template's other_config key: "true" gives each VM installed from it a
 * new vTPM (the template YAML's `vtpm: true`). */
#define VTPM_TEMPLATE_KEY "vtpm"

/* XenAPI VTPM.create: a TPM 2.0 for a Halted VM with none (VTPM_MAX_AMOUNT_REACHED). */
int vtpm_create(struct engine *e, const char *vm, bool is_unique, char **ret_ref);
/* XenAPI VTPM.destroy: its VM must be Halted; the state goes too. */
int vtpm_destroy(struct engine *e, const char *ref);

/* How many vTPMs the VM has (opens its own read transaction). */
int vtpm_count(struct engine *e, const char *vm, size_t *ret);

/* The state dir of the VM's vTPM into cfg->vtpm_dir; empty when it has none. */
int vtpm_domain_config(struct engine *e, const char *vm, struct xvm_hc_domain_config *cfg);

/* Outside a transaction: a copy of the state of each vTPM of vm, as
 * [{ ref, uuid }] (the source's record, the copy's uuid); for another VM
 * (not the VM's own snapshot), a unique vTPM's copy is a new TPM, as its
 * contents are never copied. On failure none is left. */
int vtpm_copy_states(struct engine *e, const char *vm, bool same_vm, struct json_object **ret);
/* In a write transaction: records on VM dst for the copies vtpm_copy_states made. */
int vtpm_record_copies(struct engine *e, struct json_object *copies, const char *dst);
/* In a write transaction: deletes the VM's VTPM records; *gone ([{ uuid }]):
 * their states, for vtpm_remove_states once committed. */
int vtpm_forget_owned(struct engine *e, const char *vm, struct json_object **gone);
/* Removes the state dirs of [{ uuid }] (borrowed; NULL: none). */
void vtpm_remove_states(struct engine *e, struct json_object *list);

/* The class's allowed_operations: destroy while the VM is Halted. */
struct json_object *vtpm_context(struct engine *e);
void vtpm_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec);
