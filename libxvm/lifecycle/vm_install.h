/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating VMs from templates and deleting them. */
#pragma once

#include <stdbool.h>

struct engine;

/*
 * A new VM from a template (a reference, UUID or name_label): its record,
 * its drives (disks cloned copy-on-write, or copied in full with copy or
 * when they are not in sr, into sr if given), then the disks and CD drive the template's
 * other_config:disks asks for (in sr, else the pool's default SR). All or
 * nothing: a failure leaves no VM, VDI or VBD. sr: reference, UUID or NULL.
 */
int vm_install(struct engine *e, const char *template_name, const char *new_name, const char *sr, bool copy,
	       char **ret_ref);
/* XenAPI VM.provision: the disks and CD drive the Halted VM's other_config:disks asks
 * for, in the pool's default SR (or each disk's sr), the VIFs of other_config:nics and
 * the vTPM of other_config:vtpm; the keys then go. All or nothing. */
int vm_provision(struct engine *e, const char *vm);
/* XenAPI VM.clone: a Halted VM or template with copy-on-write disks (a template stays one). */
int vm_clone(struct engine *e, const char *vm, const char *new_name, char **ret_ref);
/* XenAPI VM.copy: the same with full copies, into sr (NULL: each disk's own SR). */
int vm_copy(struct engine *e, const char *vm, const char *new_name, const char *sr, char **ret_ref);
int vm_destroy(struct engine *e, const char *ref);
int vm_uninstall(struct engine *e, const char *ref);
