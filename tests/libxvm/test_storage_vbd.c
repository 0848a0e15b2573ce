/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drives (VBDs) on sim:///DIR: creating them at positions, attaching with
 * the VM's run, the disk operations a running VM refuses, hot-plug, CD
 * discs, and VM.uninstall deleting the disks a VM owns. Resizing or
 * snapshotting a disk a running VM writes to takes hypervisor operations
 * (DISK_RESIZE, DISK_SNAPSHOT) that are tested with them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage_common.h"

TestSuite(vbd, .init = st_setup, .fini = st_teardown, .timeout = 120);

static char *vbd_of(const char *vdi, const char *userdevice, const char *type, const char *mode)
{
	char *ref = NULL;
	T_OK(xvm_vbd_create(conn, vm, vdi, userdevice, type, mode, false, &ref));
	return ref;
}

/* A VBD.create that must fail: checks nothing was made. */
static void refused_create(const char *vdi, const char *userdevice, const char *type, const char *mode, int code,
			   int nparams, const char *p0, const char *p1)
{
	struct json_object *before = t_get(conn, "VM", vm, "VBDs");
	char *ref = NULL;
	T_ERR(xvm_vbd_create(conn, vm, vdi, userdevice, type, mode, false, &ref), code, nparams, p0, p1);
	cr_assert_null(ref);
	struct json_object *after = t_get(conn, "VM", vm, "VBDs");
	cr_assert_eq(t_len(after), t_len(before), "a refused VBD.create made a VBD");
	json_object_put(before);
	json_object_put(after);
}

static void check_attached(const char *vbd, bool attached)
{
	cr_assert_eq(t_getb(conn, "VBD", vbd, "currently_attached"), attached, "VBD %s attached: %d, not %d", vbd,
		     !attached, attached);
}

Test(vbd, create_positions_and_refusals)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = st_vdi(conn, local_sr, "b", 8 * MiB, NULL);
	char *d0 = vbd_of(a, "0", "Disk", "RW");
	cr_assert_str_eq(t_gets(conn, "VBD", d0, "userdevice"), "0");
	cr_assert_str_eq(t_gets(conn, "VBD", d0, "device"), "xvda");
	cr_assert_str_eq(t_gets(conn, "VBD", d0, "mode"), "RW");
	cr_assert_str_eq(t_gets(conn, "VBD", d0, "VDI"), a);
	cr_assert_not(t_getb(conn, "VBD", d0, "empty"));
	check_attached(d0, false);
	struct json_object *vbds = t_get(conn, "VDI", a, "VBDs");
	cr_assert(t_has(vbds, d0));
	json_object_put(vbds);

	char *d1 = vbd_of(b, "autodetect", "Disk", "RW");
	cr_assert_str_eq(t_gets(conn, "VBD", d1, "userdevice"), "1");
	cr_assert_str_eq(t_gets(conn, "VBD", d1, "device"), "xvdb");
	refused_create(b, "0", "Disk", "RO", XVM_ERR_DEVICE_ALREADY_EXISTS, 2, vm, "0");
	/* a CD drive is read-only, empty or not, and takes the first free position */
	char *cd = vbd_of(NULL, "autodetect", "CD", "RW");
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "mode"), "RO");
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "userdevice"), "2");
	cr_assert(t_getb(conn, "VBD", cd, "empty"));
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "VDI"), "OpaqueRef:NULL");
	char *disc = st_iso(conn, "disc.iso");
	refused_create(a, "autodetect", "CD", "RO", XVM_ERR_VDI_IS_NOT_ISO, 1, a, NULL);
	refused_create(disc, "autodetect", "Disk", "RO", XVM_ERR_VDI_IS_NOT_ISO, 1, disc, NULL);
	char *cd2 = vbd_of(disc, "autodetect", "CD", "RW");
	cr_assert_str_eq(t_gets(conn, "VBD", cd2, "mode"), "RO");
	cr_assert_str_eq(t_gets(conn, "VBD", cd2, "userdevice"), "3");
	/* disks skip position 3, kept for a CD */
	T_OK(xvm_vbd_destroy(conn, cd2));
	char *d4 = vbd_of(b, "autodetect", "Disk", "RO");
	cr_assert_str_eq(t_gets(conn, "VBD", d4, "userdevice"), "4");

	refused_create(NULL, "5", "Disk", "RW", XVM_ERR_INVALID_VALUE, -1, NULL, NULL);
	refused_create(b, "16", "Disk", "RW", XVM_ERR_INVALID_VALUE, 2, "userdevice", "16");
	refused_create(b, "-1", "Disk", "RW", XVM_ERR_INVALID_VALUE, 2, "userdevice", "-1");
	refused_create(b, "xvdc", "Disk", "RW", XVM_ERR_INVALID_VALUE, 2, "userdevice", "xvdc");
	refused_create(b, "5", "Floppy", "RW", XVM_ERR_INVALID_VALUE, 2, "type", "Floppy");
	refused_create(b, "5", "Disk", "WO", XVM_ERR_INVALID_VALUE, 2, "mode", "WO");
	refused_create("OpaqueRef:nope", "5", "Disk", "RW", XVM_ERR_HANDLE_INVALID, -1, NULL, NULL);
	char *ref = NULL;
	T_ERR(xvm_vbd_create(conn, "OpaqueRef:nope", b, "5", "Disk", "RW", false, &ref), XVM_ERR_HANDLE_INVALID, -1);

	/* the last free positions fill up; then there is none */
	for (int p = 5; p < 16; p++) {
		char pos[8];
		snprintf(pos, sizeof(pos), "%d", p);
		free(vbd_of(b, pos, "Disk", "RO"));
	}
	free(vbd_of(NULL, "autodetect", "CD", "RO"));
	refused_create(NULL, "autodetect", "CD", "RO", XVM_ERR_DEVICE_ALREADY_EXISTS, 1, vm, NULL);
	free(a);
	free(b);
	free(d0);
	free(d1);
	free(cd);
	free(cd2);
	free(disc);
	free(d4);
}

/* A 1 MiB VDI of the local SR made with the boolean `field` true. */
static char *vdi_with(const char *field)
{
	char args[512];
	struct json_object *res = NULL;
	snprintf(args, sizeof(args), "[{\"SR\": \"%s\", \"name_label\": \"%s\", \"virtual_size\": 1048576, \"%s\": true}]",
		 local_sr, field, field);
	T_OK(t_call(conn, "VDI.create", args, &res));
	char *ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return ref;
}

Test(vbd, read_only_vdi_only_read_only)
{
	char *ro = vdi_with("read_only");
	cr_assert(t_getb(conn, "VDI", ro, "read_only"));
	refused_create(ro, "0", "Disk", "RW", XVM_ERR_VDI_READ_ONLY, 1, ro, NULL);
	char *vbd = vbd_of(ro, "0", "Disk", "RO");
	cr_assert_str_eq(t_gets(conn, "VBD", vbd, "mode"), "RO");
	free(vbd);
	free(ro);
}

/* A running VM's disks are attached: the disk operations refuse them, the VM's
 * own halt releases them. */
Test(vbd, running_vm_holds_its_disks)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL);
	char *d0 = vbd_of(a, "0", "Disk", "RW"), *cd = vbd_of(NULL, "3", "CD", "RO");
	T_OK(xvm_vm_start(conn, vm, 0));
	check_attached(d0, true);
	check_attached(cd, true);

	char out[4200], *ref = NULL;
	snprintf(out, sizeof(out), "%s/out.raw", dir);
	T_ERR(xvm_vdi_destroy(conn, a), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_vdi_copy(conn, a, local_sr, &ref), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_vdi_export(conn, a, out, "raw"), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_vdi_import(conn, a, st_vdi_file(conn, a), "qcow2"), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_vbd_destroy(conn, d0), XVM_ERR_DEVICE_ALREADY_ATTACHED, 1, d0);
	cr_assert(st_exists(st_vdi_file(conn, a)));
	cr_assert_not(st_exists(out));

	T_OK(xvm_vm_hard_shutdown(conn, vm));
	check_attached(d0, false);
	check_attached(cd, false);
	T_OK(xvm_vdi_export(conn, a, out, "raw"));
	T_OK(xvm_vdi_destroy(conn, a));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VBD", d0, &rec), XVM_ERR_HANDLE_INVALID, 2, "VBD", d0);
	free(a);
	free(d0);
	free(cd);
}

/* One VM at a time writes to a disk that is not sharable. */
Test(vbd, a_disk_runs_in_one_vm_at_a_time)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *vm2 = t_install(conn, "vm2");
	char *d = vbd_of(a, "0", "Disk", "RW"), *d2 = NULL, *d3 = NULL;
	T_OK(xvm_vbd_create(conn, vm2, a, "0", "Disk", "RW", false, &d2));
	T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(xvm_vm_start(conn, vm2, 0), XVM_ERR_VDI_IN_USE, 2, a, vm);
	cr_assert_str_eq(t_power(conn, vm2), "Halted");
	/* nor through a hot-plug */
	T_OK(xvm_vbd_destroy(conn, d2));
	T_OK(xvm_vm_start(conn, vm2, 0));
	T_OK(xvm_vbd_create(conn, vm2, a, "1", "Disk", "RW", false, &d3));
	T_ERR(xvm_vbd_plug(conn, d3), XVM_ERR_VDI_IN_USE, 2, a, vm);
	check_attached(d3, false);
	/* nor read by one while the other writes */
	T_OK(xvm_vbd_destroy(conn, d3));
	free(d3);
	T_OK(xvm_vbd_create(conn, vm2, a, "1", "Disk", "RO", false, &d3));
	T_ERR(xvm_vbd_plug(conn, d3), XVM_ERR_VDI_IN_USE, 2, a, vm);
	/* free again once the first VM is done with it */
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	T_OK(xvm_vbd_plug(conn, d3));
	check_attached(d3, true);
	/* read by two at once */
	T_OK(xvm_vbd_destroy(conn, d));
	free(d);
	d = vbd_of(a, "0", "Disk", "RO");
	T_OK(xvm_vm_start(conn, vm, 0));
	check_attached(d, true);
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	T_OK(xvm_vm_hard_shutdown(conn, vm2));

	/* a sharable disk is written by both */
	char *sh = vdi_with("sharable");
	cr_assert(t_getb(conn, "VDI", sh, "sharable"));
	free(vbd_of(sh, "5", "Disk", "RW"));
	char *s2 = NULL;
	T_OK(xvm_vbd_create(conn, vm2, sh, "5", "Disk", "RW", false, &s2));
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_start(conn, vm2, 0));
	check_attached(s2, true);
	free(sh);
	free(s2);
	free(a);
	free(vm2);
	free(d);
	free(d2);
	free(d3);
}

Test(vbd, hotplug_on_a_running_vm)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = st_vdi(conn, local_sr, "b", 8 * MiB, NULL);
	char *d0 = vbd_of(a, "0", "Disk", "RW");
	T_OK(xvm_vm_start(conn, vm, 0));
	char *d1 = vbd_of(b, "autodetect", "Disk", "RW");
	check_attached(d1, false);
	/* not attached yet: the disk is free */
	char out[4200];
	snprintf(out, sizeof(out), "%s/b.qcow2", dir);
	T_OK(xvm_vdi_export(conn, b, out, "qcow2"));

	T_OK(xvm_vbd_plug(conn, d1));
	check_attached(d1, true);
	T_ERR(xvm_vbd_plug(conn, d1), XVM_ERR_DEVICE_ALREADY_ATTACHED, 1, d1);
	T_ERR(xvm_vdi_destroy(conn, b), XVM_ERR_VDI_IN_USE, 2, b, vm);
	T_OK(xvm_vbd_unplug(conn, d1));
	check_attached(d1, false);
	T_ERR(xvm_vbd_unplug(conn, d1), XVM_ERR_DEVICE_ALREADY_DETACHED, 1, d1);
	/* plugged again: the hypervisor had let it go */
	T_OK(xvm_vbd_plug(conn, d1));
	T_OK(xvm_vbd_unplug(conn, d1));
	T_OK(xvm_vbd_destroy(conn, d1));

	/* a drive that is not unpluggable stays */
	struct json_object *res = NULL;
	char args[512];
	snprintf(args, sizeof(args),
		 "[{\"VM\": \"%s\", \"VDI\": \"%s\", \"userdevice\": \"2\", \"type\": \"Disk\", \"mode\": \"RW\", "
		 "\"unpluggable\": false}]",
		 vm, b);
	T_OK(t_call(conn, "VBD.create", args, &res));
	const char *fixed = json_object_get_string(res);
	T_OK(xvm_vbd_plug(conn, fixed));
	T_ERR(xvm_vbd_unplug(conn, fixed), XVM_ERR_VBD_NOT_UNPLUGGABLE, 1, fixed);
	check_attached(fixed, true);

	/* a suspended VM comes back with the drives it had */
	T_OK(xvm_vbd_unplug(conn, d0));
	T_OK(xvm_vm_suspend(conn, vm));
	T_OK(xvm_vm_resume(conn, vm, 0));
	check_attached(d0, false);
	check_attached(fixed, true);
	T_OK(xvm_vbd_plug(conn, d0));

	/* plug and unplug want a running VM */
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	T_BAD_POWER(xvm_vbd_plug(conn, d0), vm, "Running", "Halted");
	T_BAD_POWER(xvm_vbd_unplug(conn, d0), vm, "Running", "Halted");
	json_object_put(res);
	free(a);
	free(b);
	free(d0);
}

static void check_disc(const char *vbd, const char *vdi)
{
	cr_assert_str_eq(t_gets(conn, "VBD", vbd, "VDI"), vdi ? vdi : "OpaqueRef:NULL");
	cr_assert_eq(t_getb(conn, "VBD", vbd, "empty"), vdi == NULL);
}

static void cd_insert_eject(bool running)
{
	char *x = st_iso(conn, "disc.iso"), *a = st_vdi(conn, local_sr, "a", 4 * MiB, NULL);
	char *cd = vbd_of(NULL, "3", "CD", "RO"), *d0 = vbd_of(a, "0", "Disk", "RW");
	if (running)
		T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(xvm_vbd_eject(conn, cd), XVM_ERR_VBD_IS_EMPTY, 1, cd);
	T_ERR(xvm_vbd_insert(conn, cd, "OpaqueRef:NULL"), XVM_ERR_INVALID_VALUE, -1);
	T_OK(xvm_vbd_insert(conn, cd, x));
	check_disc(cd, x);
	T_ERR(xvm_vbd_insert(conn, cd, a), XVM_ERR_VBD_NOT_EMPTY, 1, cd);
	check_disc(cd, x);
	T_OK(xvm_vbd_eject(conn, cd));
	check_disc(cd, NULL);
	T_ERR(xvm_vbd_insert(conn, cd, a), XVM_ERR_VDI_IS_NOT_ISO, 1, a);
	check_disc(cd, NULL);
	T_ERR(xvm_vbd_insert(conn, d0, x), XVM_ERR_VBD_NOT_REMOVABLE_MEDIA, 1, d0);
	T_ERR(xvm_vbd_eject(conn, d0), XVM_ERR_VBD_NOT_REMOVABLE_MEDIA, 1, d0);
	check_disc(d0, a);
	/* a disc taken out of the library leaves the drive, empty, once no guest reads it */
	T_OK(xvm_vbd_insert(conn, cd, x));
	char iso[4300];
	snprintf(iso, sizeof(iso), "%s/isos/disc.iso", dir);
	cr_assert_eq(unlink(iso), 0);
	if (running) {
		check_disc(cd, x);
		cr_assert(t_getb(conn, "VDI", x, "missing"), "a disc a running guest holds shows as missing");
		T_OK(xvm_vm_hard_shutdown(conn, vm));
	}
	check_disc(cd, NULL);
	free(x);
	free(a);
	free(cd);
	free(d0);
}

Test(vbd, cd_insert_eject_halted) { cd_insert_eject(false); }
Test(vbd, cd_insert_eject_running) { cd_insert_eject(true); }

/* VM.uninstall deletes the disks the VM alone writes to, and no other. */
Test(vbd, uninstall_deletes_owned_disks_only)
{
	char *own = st_vdi(conn, local_sr, "own", 4 * MiB, NULL), *shared = st_vdi(conn, local_sr, "shared", 4 * MiB, NULL);
	char *ro = st_vdi(conn, local_sr, "ro", 4 * MiB, NULL), *disc = st_iso(conn, "disc.iso");
	char *vm2 = t_install(conn, "vm2"), *v2 = NULL;
	char fown[4500];
	snprintf(fown, sizeof(fown), "%s", st_vdi_file(conn, own));
	char *b0 = vbd_of(own, "0", "Disk", "RW"), *b1 = vbd_of(shared, "1", "Disk", "RW");
	char *b2 = vbd_of(ro, "2", "Disk", "RO"), *b3 = vbd_of(disc, "3", "CD", "RO");
	T_OK(xvm_vbd_create(conn, vm2, shared, "0", "Disk", "RW", false, &v2));
	T_OK(xvm_vm_start(conn, vm, 0));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 12 * MiB);
	T_OK(xvm_vm_uninstall(conn, vm));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 8 * MiB, "the SR counts a deleted disk");

	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VM", vm, &rec), XVM_ERR_HANDLE_INVALID, 2, "VM", vm);
	T_ERR(xvm_object_get_record(conn, "VDI", own, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", own);
	cr_assert_not(st_exists(fown), "the VM's own disk is left");
	const char *kept[] = { shared, ro, disc };
	for (size_t i = 0; i < 3; i++) {
		cr_assert(st_exists(st_vdi_file(conn, kept[i])), "%s went", t_gets(conn, "VDI", kept[i], "name_label"));
		struct json_object *vbds = t_get(conn, "VDI", kept[i], "VBDs");
		cr_assert_eq(t_len(vbds), i == 0 ? 1u : 0u, "VBDs of a deleted VM are left");
		json_object_put(vbds);
	}
	const char *gone[] = { b0, b1, b2, b3 };
	for (size_t i = 0; i < 4; i++)
		T_ERR(xvm_object_get_record(conn, "VBD", gone[i], &rec), XVM_ERR_HANDLE_INVALID, 2, "VBD", gone[i]);
	cr_assert_str_eq(t_gets(conn, "VBD", v2, "VDI"), shared);
	cr_assert_eq(t_hv_domains(dir, vm_uuid), 0);
	free(own);
	free(shared);
	free(ro);
	free(disc);
	free(vm2);
	free(v2);
	free(b0);
	free(b1);
	free(b2);
	free(b3);
}

/* A suspended VM holds its disks without a domain: they are snapshot offline;
 * resized, the guest would wake on a disk of another size. */
Test(vbd, suspended_vm_disks)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *s = NULL;
	char *d0 = vbd_of(a, "0", "Disk", "RW");
	st_write(st_vdi_file(conn, a), "qcow2", 0x6b, "0", "64k");
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_suspend(conn, vm));
	check_attached(d0, true);
	T_ERR(xvm_vdi_destroy(conn, a), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_vdi_resize(conn, a, 16 * MiB), XVM_ERR_VDI_IN_USE, 2, a, vm);
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), 8 * MiB);
	T_OK(xvm_vdi_snapshot(conn, a, &s));
	cr_assert(st_reads(st_vdi_file(conn, s), "qcow2", 0x6b, "0", "64k"));
	cr_assert(st_reads(st_vdi_file(conn, a), "qcow2", 0x6b, "0", "64k"));
	T_OK(xvm_vm_resume(conn, vm, 0));
	check_attached(d0, true);
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	free(a);
	free(s);
	free(d0);
}
