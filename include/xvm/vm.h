/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM lifecycle, following XenAPI's state machine:
 *
 *   Halted --start--> Running <--pause/unpause--> Paused
 *   Running --suspend--> Suspended --resume--> Running
 *   Running/Paused --clean_shutdown/hard_shutdown--> Halted
 *
 * A forbidden transition fails with VM_BAD_POWER_STATE [vm, expected,
 * actual]; a conflicting operation in flight with OTHER_OPERATION_IN_PROGRESS.
 * `vm` is a VM reference ("OpaqueRef:...").
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xvm_conn;

#define XVM_VM_START_PAUSED (1u << 0) /* start or resume, but leave it Paused */
#define XVM_VM_START_FORCE  (1u << 1) /* ignore soft checks (XenAPI's `force`) */

int xvm_vm_start(struct xvm_conn *conn, const char *vm, unsigned flags);
int xvm_vm_clean_shutdown(struct xvm_conn *conn, const char *vm);
int xvm_vm_hard_shutdown(struct xvm_conn *conn, const char *vm);
int xvm_vm_clean_reboot(struct xvm_conn *conn, const char *vm);
int xvm_vm_hard_reboot(struct xvm_conn *conn, const char *vm);
int xvm_vm_pause(struct xvm_conn *conn, const char *vm);
int xvm_vm_unpause(struct xvm_conn *conn, const char *vm);
int xvm_vm_suspend(struct xvm_conn *conn, const char *vm);
int xvm_vm_resume(struct xvm_conn *conn, const char *vm, unsigned flags);

/* vCPU hot-plug on a Running VM: 1 <= n <= VCPUs_max (XenAPI set_VCPUs_number_live). */
int xvm_vm_set_vcpus_live(struct xvm_conn *conn, const char *vm, int64_t n);
/* The balloon target of a Running VM in bytes, static_min <= bytes <= static_max. */
int xvm_vm_set_memory_target_live(struct xvm_conn *conn, const char *vm, int64_t bytes);

/* Deletes a Halted VM's record (XenAPI VM.destroy); its disks stay. */
int xvm_vm_destroy(struct xvm_conn *conn, const char *vm);

/*
 * Creates a VM from a template (name_label or UUID or reference), as xe's
 * vm-install: a copy of the template, no longer a template, with the disks
 * the template asks for provisioned. *ret: the new VM's reference (free()).
 */
int xvm_vm_install(struct xvm_conn *conn, const char *template_name, const char *new_name_label,
		   unsigned flags, char **ret);

/* xvm_vm_install_with: full copies of the template's disks, not copy-on-write clones. */
#define XVM_VM_INSTALL_COPY (1u << 0)

/*
 * xvm_vm_install with options: sr (reference or UUID; NULL for none) takes
 * the disks the template asks for (else the pool's default SR) and, with
 * XVM_VM_INSTALL_COPY, the full copies of its disks (else each one's own SR).
 * All or nothing: a failure leaves no VM, disk or drive behind.
 */
int xvm_vm_install_with(struct xvm_conn *conn, const char *template_name, const char *new_name_label,
			const char *sr, unsigned flags, char **ret);

/* XenAPI VM.clone: a copy of a Halted VM or template, its disks copy-on-write. *ret: the new VM. */
int xvm_vm_clone(struct xvm_conn *conn, const char *vm, const char *new_name_label, char **ret);
/* XenAPI VM.copy: the same with full copies of the disks, into sr (NULL: each disk's own SR). */
int xvm_vm_copy(struct xvm_conn *conn, const char *vm, const char *new_name_label, const char *sr, char **ret);

/* Hard-shuts down if needed and deletes the VM and the disks it owns (xe vm-uninstall). */
int xvm_vm_uninstall(struct xvm_conn *conn, const char *vm);

/*
 * Snapshots (XenAPI VM.snapshot, VM.checkpoint): a new template record,
 * is_a_snapshot, snapshot_of the VM, whose disks are copy-on-write snapshots
 * of the VM's; a checkpoint also saves a Running VM's memory (the snapshot is
 * Suspended) and the VM runs on. *ret: the snapshot's reference (free()).
 */
int xvm_vm_snapshot(struct xvm_conn *conn, const char *vm, const char *new_name_label, char **ret);
int xvm_vm_checkpoint(struct xvm_conn *conn, const char *vm, const char *new_name_label, char **ret);
/* The VM the snapshot was taken of gets back its configuration, disks (new
 * copy-on-write clones; the old ones are deleted) and, from a checkpoint, its
 * running guest; otherwise it is Halted (XenAPI VM.revert). */
int xvm_vm_revert(struct xvm_conn *conn, const char *snapshot);
/* A template copied from the snapshot, copy-on-write (xe snapshot-export-to-template). */
int xvm_vm_snapshot_export_to_template(struct xvm_conn *conn, const char *snapshot, const char *new_name_label,
				       char **ret);

/*
 * XenAPI VTPM.create: a TPM 2.0 for the Halted VM, which may have one
 * (VTPM_MAX_AMOUNT_REACHED). Its state (made by swtpm_setup, with EK and
 * platform certificates) stays with the VM across restarts, suspend and
 * resume; clones, copies and snapshots get a copy (a unique vTPM's clone a
 * new TPM). *ret: the VTPM.
 */
int xvm_vtpm_create(struct xvm_conn *conn, const char *vm, bool is_unique, char **ret);
/* XenAPI VTPM.destroy: the VM must be Halted; the TPM's state is deleted. */
int xvm_vtpm_destroy(struct xvm_conn *conn, const char *vtpm);

/*
 * Test hook: makes the running guest power off ("poweroff"), reboot
 * ("reboot") or crash ("crash") on its own, as a real guest might; the
 * engine then applies actions_after_shutdown/reboot/crash.
 */
int xvm_vm_simulate_guest_action(struct xvm_conn *conn, const char *vm, const char *action);

#ifdef __cplusplus
}
#endif
