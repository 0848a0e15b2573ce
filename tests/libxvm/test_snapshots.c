/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM snapshots on sim:///DIR with the real file SR: snapshot, write, revert
 * and read the old content back (qemu-io); snapshots and checkpoints of a
 * running VM; reverting to a checkpoint resumes the saved run; destroying
 * a snapshot frees what it alone used; a template from a snapshot; refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_common.h"

TestSuite(snapshot, .init = st_setup, .fini = st_teardown, .timeout = 120);

#define MEM_SAVED (100 * MiB)

/* vm1 with one 8 MiB disk holding 0x11 at 0..64k; its VDI. */
static char *vm_with_disk(void)
{
	char *vdi = st_vdi(conn, local_sr, "disk", 8 * MiB, NULL), *vbd = NULL;
	T_OK(xvm_vbd_create(conn, vm, vdi, "0", "Disk", "RW", true, &vbd));
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x11, "0", "64k");
	free(vbd);
	return vdi;
}

/* The VDI of the VM's disk at position 0 (free()). */
static char *disk_of(const char *ref)
{
	struct json_object *vbds = t_get(conn, "VM", ref, "VBDs");
	char *vdi = NULL;
	for (size_t i = 0; i < t_len(vbds); i++) {
		const char *vbd = json_object_get_string(json_object_array_get_idx(vbds, i));
		if (strcmp(t_gets(conn, "VBD", vbd, "userdevice"), "0") == 0)
			vdi = strdup(t_gets(conn, "VBD", vbd, "VDI"));
	}
	json_object_put(vbds);
	cr_assert_not_null(vdi, "no disk at position 0");
	return vdi;
}

/* vm1 running with its balloon at MEM_SAVED: the memory state a save keeps. */
static void start_with_memory(void)
{
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_set_memory_target_live(conn, vm, MEM_SAVED));
}

static void check_is_snapshot_of(const char *snap, const char *of, const char *power)
{
	struct json_object *ops = t_get(conn, "VM", snap, "allowed_operations");
	cr_assert(t_has(ops, "revert") && t_has(ops, "destroy"), "%s", json_object_to_json_string(ops));
	cr_assert_not(t_has(ops, "start") || t_has(ops, "resume"), "a snapshot runs");
	json_object_put(ops);
	cr_assert(t_getb(conn, "VM", snap, "is_a_snapshot"));
	cr_assert(t_getb(conn, "VM", snap, "is_a_template"), "xapi's snapshots are templates");
	cr_assert_str_eq(t_gets(conn, "VM", snap, "snapshot_of"), of);
	cr_assert_str_neq(t_gets(conn, "VM", snap, "snapshot_time"), "");
	cr_assert_str_eq(t_power(conn, snap), power);
	struct json_object *snaps = t_get(conn, "VM", of, "snapshots");
	cr_assert(t_has(snaps, snap), "the VM's snapshots field lacks its snapshot");
	json_object_put(snaps);
	char *sd = disk_of(snap);
	cr_assert(t_getb(conn, "VDI", sd, "is_a_snapshot"));
	free(sd);
}

Test(snapshot, write_then_revert_brings_the_old_content_back)
{
	char *vdi = vm_with_disk(), *snap = NULL;
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_max", 2));
	T_OK(xvm_vm_snapshot(conn, vm, "before", &snap));
	check_is_snapshot_of(snap, vm, "Halted");
	cr_assert_str_eq(t_gets(conn, "VM", snap, "name_label"), "before");
	cr_assert_eq(t_geti(conn, "VM", snap, "VCPUs_max"), 2);

	/* The VM writes on; the snapshot keeps the instant. */
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x22, "0", "64k");
	T_OK(t_set_int(conn, "VM", vm, "VCPUs_max", 4));
	T_OK(t_set_str(conn, "VM", vm, "name_label", "renamed"));
	char *sd = disk_of(snap);
	cr_assert(st_reads(st_vdi_file(conn, sd), "qcow2", 0x11, "0", "64k"));
	char old_file[4500];
	snprintf(old_file, sizeof(old_file), "%s", st_vdi_file(conn, vdi));

	T_OK(xvm_vm_revert(conn, snap));
	char *now = disk_of(vm);
	cr_assert_str_neq(now, vdi, "the VM got a new disk, a clone of the snapshot's");
	cr_assert(st_reads(st_vdi_file(conn, now), "qcow2", 0x11, "0", "64k"), "the old content is back");
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VDI", vdi, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", vdi);
	cr_assert_not(st_exists(old_file), "the old disk is left");
	cr_assert_eq(t_geti(conn, "VM", vm, "VCPUs_max"), 2, "the configuration is the snapshot's");
	cr_assert_str_eq(t_gets(conn, "VM", vm, "name_label"), "renamed", "the VM keeps its name");
	cr_assert_not(t_getb(conn, "VM", vm, "is_a_template"));
	cr_assert_not(t_getb(conn, "VM", vm, "is_a_snapshot"));
	cr_assert_str_eq(t_power(conn, vm), "Halted");

	/* Writes after the revert leave the snapshot as it was: revert again. */
	st_write(st_vdi_file(conn, now), "qcow2", 0x33, "0", "64k");
	T_OK(xvm_vm_revert(conn, snap));
	char *again = disk_of(vm);
	cr_assert(st_reads(st_vdi_file(conn, again), "qcow2", 0x11, "0", "64k"));
	T_OK(xvm_vm_start(conn, vm, 0));
	cr_assert_str_eq(t_power(conn, vm), "Running");
	free(vdi);
	free(snap);
	free(sd);
	free(now);
	free(again);
}

Test(snapshot, of_a_running_vm)
{
	char *vdi = vm_with_disk(), *snap = NULL;
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_snapshot(conn, vm, "live", &snap));
	check_is_snapshot_of(snap, vm, "Halted");
	cr_assert_str_eq(t_power(conn, vm), "Running", "the VM runs on");
	cr_assert_eq(t_hv_domains(dir, vm_uuid), 1);
	/* The guest moved onto a new top image: the snapshot's stays as it was. */
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x22, "0", "64k");
	char *sd = disk_of(snap);
	cr_assert(st_reads(st_vdi_file(conn, sd), "qcow2", 0x11, "0", "64k"));

	/* Revert of a running VM: it stops, and is Halted as the snapshot is. */
	T_OK(xvm_vm_revert(conn, snap));
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	cr_assert_eq(t_hv_domains(dir, vm_uuid), 0);
	char *now = disk_of(vm);
	cr_assert(st_reads(st_vdi_file(conn, now), "qcow2", 0x11, "0", "64k"));
	free(vdi);
	free(snap);
	free(sd);
	free(now);
}

Test(snapshot, checkpoint_then_revert_resumes_the_saved_run)
{
	char *vdi = vm_with_disk(), *cp = NULL;
	start_with_memory();
	int64_t domid = t_domid(conn, vm);
	T_OK(xvm_vm_checkpoint(conn, vm, "cp", &cp));
	check_is_snapshot_of(cp, vm, "Suspended");
	cr_assert_str_eq(t_power(conn, vm), "Running", "the VM runs on");
	cr_assert_eq(t_domid(conn, vm), domid, "in the same domain");
	char image[4500];
	snprintf(image, sizeof(image), "%s/suspend/%s.xvmsave", dir, t_gets(conn, "VM", cp, "uuid"));
	cr_assert(st_exists(image), "the checkpoint owns its memory image");

	/* The guest goes on: its memory and disk change. */
	T_OK(xvm_vm_set_memory_target_live(conn, vm, 80 * MiB));
	st_write(st_vdi_file(conn, vdi), "qcow2", 0x22, "0", "64k");

	T_OK(xvm_vm_revert(conn, cp));
	cr_assert_str_eq(t_power(conn, vm), "Running", "reverting to a checkpoint resumes it");
	cr_assert_neq(t_domid(conn, vm), domid, "in a new domain restored from the image");
	cr_assert_eq(t_hv_domains(dir, vm_uuid), 1);
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_target"), MEM_SAVED, "the saved memory state is back");
	char *now = disk_of(vm);
	cr_assert(st_reads(st_vdi_file(conn, now), "qcow2", 0x11, "0", "64k"));
	cr_assert(st_exists(image), "the checkpoint keeps its image for another revert");
	char own[4500];
	snprintf(own, sizeof(own), "%s/suspend/%s.xvmsave", dir, vm_uuid);
	cr_assert_not(st_exists(own), "the resumed VM's image is consumed");

	/* Reverting again, to the same instant. */
	T_OK(xvm_vm_set_memory_target_live(conn, vm, 80 * MiB));
	T_OK(xvm_vm_revert(conn, cp));
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_target"), MEM_SAVED);

	/* A checkpoint's destroy takes its image. */
	T_OK(xvm_vm_destroy(conn, cp));
	cr_assert_not(st_exists(image));
	free(vdi);
	free(cp);
	free(now);
}

Test(snapshot, of_a_suspended_vm_keeps_its_memory)
{
	char *vdi = vm_with_disk(), *snap = NULL;
	start_with_memory();
	T_OK(xvm_vm_suspend(conn, vm));
	T_OK(xvm_vm_snapshot(conn, vm, "asleep", &snap));
	check_is_snapshot_of(snap, vm, "Suspended");
	T_OK(xvm_vm_resume(conn, vm, 0));
	T_OK(xvm_vm_set_memory_target_live(conn, vm, 80 * MiB));
	T_OK(xvm_vm_revert(conn, snap));
	cr_assert_str_eq(t_power(conn, vm), "Running");
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_target"), MEM_SAVED);
	free(vdi);
	free(snap);
}

Test(snapshot, destroy_frees_what_it_alone_used)
{
	char *vdi = vm_with_disk(), *disc = st_iso(conn, "disc.iso"), *cd = NULL, *snap = NULL;
	T_OK(xvm_vbd_create(conn, vm, disc, "3", "CD", "RO", false, &cd));
	T_OK(xvm_vm_snapshot(conn, vm, "s", &snap));
	char *sd = disk_of(snap);
	char sfile[4500];
	snprintf(sfile, sizeof(sfile), "%s", st_vdi_file(conn, sd));
	cr_assert(st_exists(sfile));
	int64_t alloc = t_geti(conn, "SR", local_sr, "virtual_allocation");

	T_OK(xvm_vm_destroy(conn, snap));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VM", snap, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", snap);
	T_ERR(xvm_object_get_record(conn, "VDI", sd, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", sd);
	cr_assert_not(st_exists(sfile), "the snapshot's disk is left");
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), alloc - 8 * MiB);
	/* What the VM uses stays: its disk, with its content, and the disc. */
	cr_assert(st_reads(st_vdi_file(conn, vdi), "qcow2", 0x11, "0", "64k"));
	cr_assert(st_exists(st_vdi_file(conn, disc)));
	struct json_object *snaps = t_get(conn, "VM", vm, "snapshots");
	cr_assert_eq(t_len(snaps), 0u);
	json_object_put(snaps);
	free(vdi);
	free(disc);
	free(cd);
	free(snap);
	free(sd);
}

Test(snapshot, export_to_template_then_install)
{
	char *vdi = vm_with_disk(), *snap = NULL, *tpl = NULL, *vm2 = NULL;
	T_OK(xvm_vm_snapshot(conn, vm, "s", &snap));
	T_OK(xvm_vm_snapshot_export_to_template(conn, snap, "from snapshot", &tpl));
	cr_assert(t_getb(conn, "VM", tpl, "is_a_template"));
	cr_assert_not(t_getb(conn, "VM", tpl, "is_a_snapshot"));
	cr_assert_str_eq(t_gets(conn, "VM", tpl, "name_label"), "from snapshot");
	char *td = disk_of(tpl), *sd = disk_of(snap);
	cr_assert_str_neq(td, sd, "the template has a disk of its own");
	cr_assert_not(t_getb(conn, "VDI", td, "is_a_snapshot"));
	cr_assert(st_reads(st_vdi_file(conn, td), "qcow2", 0x11, "0", "64k"));

	T_OK(xvm_vm_install(conn, "from snapshot", "vm2", 0, &vm2));
	cr_assert_not(t_getb(conn, "VM", vm2, "is_a_template"));
	/* The snapshot can go: the template does not depend on its record. */
	T_OK(xvm_vm_destroy(conn, snap));
	cr_assert(st_reads(st_vdi_file(conn, td), "qcow2", 0x11, "0", "64k"));
	free(vdi);
	free(snap);
	free(tpl);
	free(vm2);
	free(td);
	free(sd);
}

Test(snapshot, refusals_change_nothing)
{
	char *vdi = vm_with_disk(), *ret = NULL, *snap = NULL;
	struct json_object *before = t_all_refs(conn, "VM"), *vdis_before = t_all_refs(conn, "VDI");

	/* Revert to a VM that is no snapshot. */
	T_ERR(xvm_vm_revert(conn, vm), XVM_ERR_OPERATION_NOT_ALLOWED, 2, vm, "revert");
	/* Snapshot of a template. */
	struct json_object *tpls = NULL;
	T_OK(t_call(conn, "VM.get_by_name_label", "[\"sim test\"]", &tpls));
	const char *tpl = t_first(tpls);
	T_ERR(xvm_vm_snapshot(conn, tpl, "x", &ret), XVM_ERR_VM_IS_TEMPLATE, 1, tpl);
	/* Checkpoint of a halted VM. */
	T_BAD_POWER(xvm_vm_checkpoint(conn, vm, "x", &ret), vm, "running", "halted");
	/* No name; an unknown VM. */
	T_ERR(xvm_vm_snapshot(conn, vm, "", &ret), XVM_ERR_INVALID_VALUE, 2, "new_name", "");
	T_ERR(xvm_vm_snapshot(conn, "OpaqueRef:00000000-0000-0000-0000-000000000000", "x", &ret),
	      XVM_ERR_HANDLE_INVALID, 2, "VM", "OpaqueRef:00000000-0000-0000-0000-000000000000");
	cr_assert_null(ret);
	struct json_object *after = t_all_refs(conn, "VM"), *vdis_after = t_all_refs(conn, "VDI");
	cr_assert_eq(t_len(after), t_len(before), "a refused call made a VM");
	cr_assert_eq(t_len(vdis_after), t_len(vdis_before), "a refused call made a VDI");

	/* A snapshot is a template: it cannot start, nor be snapshot. */
	T_OK(xvm_vm_snapshot(conn, vm, "s", &snap));
	T_ERR(xvm_vm_start(conn, snap, 0), XVM_ERR_VM_IS_TEMPLATE, 1, snap);
	T_ERR(xvm_vm_snapshot_export_to_template(conn, vm, "x", &ret), XVM_ERR_OPERATION_NOT_ALLOWED, 2, vm, "export");
	json_object_put(before);
	json_object_put(after);
	json_object_put(vdis_before);
	json_object_put(vdis_after);
	json_object_put(tpls);
	free(vdi);
	free(snap);
}

/* A checkpoint whose save fails leaves no snapshot, no disk, no image, and the guest running. */
Test(snapshot, failed_checkpoint_leaves_nothing)
{
	char *vdi = vm_with_disk(), *ret = NULL;
	T_OK(xvm_vm_start(conn, vm, 0));
	struct json_object *vms = t_all_refs(conn, "VM"), *vdis = t_all_refs(conn, "VDI");
	xvm_conn *c = st_faulty("domain_save");
	T_ERR(xvm_vm_checkpoint(c, vm, "cp", &ret), XVM_ERR_HYPERVISOR_ERROR, -1);
	xvm_disconnect(c);
	cr_assert_null(ret);
	struct json_object *vms2 = t_all_refs(conn, "VM"), *vdis2 = t_all_refs(conn, "VDI");
	cr_assert_eq(t_len(vms2), t_len(vms), "a snapshot record is left");
	cr_assert_eq(t_len(vdis2), t_len(vdis), "a disk snapshot is left");
	char sdir[4500];
	snprintf(sdir, sizeof(sdir), "%s/suspend", dir);
	cr_assert_eq(st_count(sdir, "", ".xvmsave"), 0u, "a memory image is left");
	cr_assert_str_eq(t_power(conn, vm), "Running");
	enum xvm_hc_domain_state state;
	cr_assert_eq(hv_domains(vm_uuid, &state, NULL), 1u);
	cr_assert_eq(state, XVM_HC_STATE_RUNNING, "the guest was left paused");
	json_object_put(vms);
	json_object_put(vdis);
	json_object_put(vms2);
	json_object_put(vdis2);
	free(vdi);
}

/* A revert to a checkpoint whose resume fails leaves the VM Suspended on the snapshot's state: a resume finishes it. */
Test(snapshot, failed_resume_after_revert_can_be_retried)
{
	char *vdi = vm_with_disk(), *cp = NULL;
	start_with_memory();
	T_OK(xvm_vm_checkpoint(conn, vm, "cp", &cp));
	xvm_conn *c = st_faulty("domain_restore");
	T_ERR(xvm_vm_revert(c, cp), XVM_ERR_HYPERVISOR_ERROR, -1);
	xvm_disconnect(c);
	cr_assert_str_eq(t_power(conn, vm), "Suspended");
	T_OK(xvm_vm_resume(conn, vm, 0));
	cr_assert_eq(t_geti(conn, "VM", vm, "memory_target"), MEM_SAVED);
	free(vdi);
	free(cp);
}

/* A snapshot outlives its VM, with its disk; it cannot be reverted to any more. */
Test(snapshot, of_a_vm_that_is_gone)
{
	char *vdi = vm_with_disk(), *snap = NULL;
	T_OK(xvm_vm_snapshot(conn, vm, "s", &snap));
	T_OK(xvm_vm_uninstall(conn, vm));
	char *sd = disk_of(snap);
	cr_assert(st_reads(st_vdi_file(conn, sd), "qcow2", 0x11, "0", "64k"), "the snapshot lost its disk");
	T_ERR(xvm_vm_revert(conn, snap), XVM_ERR_OPERATION_NOT_ALLOWED, 2, snap, "revert");
	T_OK(xvm_vm_destroy(conn, snap));
	free(vdi);
	free(snap);
	free(sd);
}
