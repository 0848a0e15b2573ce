/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage operations whose tools fail midway. qemu-img is replaced
 * ($XVM_QEMU_IMG) by a script that fails its Nth run. Whatever step fails,
 * the disks keep their content, the records match the files and no file
 * is left over. The hypervisor fails through XVM_HC_FAULT: the drives'
 * records stay as they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_common.h"

TestSuite(faults, .init = st_setup, .fini = st_teardown, .timeout = 120);

/* From now on the nth run of qemu-img fails (counting from 1); 0: none does. */
static void fail_run(int nth)
{
	char script[4200], counter[4200], text[18000];
	snprintf(script, sizeof(script), "%s/qemu-img-faulty", dir);
	snprintf(counter, sizeof(counter), "%s/qemu-img-runs", dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 /* A clone runs two at once: count under a lock. */
		 "exec 9>>'%s.lock'; flock 9\n"
		 "n=$(( $(cat '%s' 2>/dev/null || echo 0) + 1 ))\n"
		 "echo $n > '%s'\n"
		 "flock -u 9\n"
		 "[ $n = %d ] && { echo 'qemu-img: injected failure' >&2; exit 1; }\n"
		 "exec qemu-img \"$@\"\n",
		 counter, counter, counter, nth);
	t_write_file(script, text);
	cr_assert_eq(chmod(script, 0755), 0);
	remove(counter);
	setenv("XVM_QEMU_IMG", script, 1);
}

/* The failure came from the script, as SR_BACKEND_FAILURE [what, its message]. */
static void check_injected(int r)
{
	T_ERR(r, XVM_ERR_SR_BACKEND_FAILURE, 2, NULL, "injected failure");
}

static size_t vdi_count(void)
{
	struct json_object *vdis = t_all_refs(conn, "VDI");
	size_t n = t_len(vdis);
	json_object_put(vdis);
	return n;
}

/* A clone whose first or second image creation fails leaves the source as it was. */
static void failed_clone(const char *format, int nth)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, format), *b = NULL;
	char file[4500];
	snprintf(file, sizeof(file), "%s", st_vdi_file(conn, a));
	st_write(file, format, 0x77, "0", "64k");
	fail_run(nth);
	check_injected(xvm_vdi_clone(conn, a, &b));
	cr_assert_null(b);
	cr_assert_str_eq(st_vdi_file(conn, a), file, "the source moved");
	cr_assert(st_reads(file, format, 0x77, "0", "64k"), "the source lost its content");
	cr_assert_eq(st_count(local_dir, "", ""), 1, "a failed clone left files");
	cr_assert_eq(vdi_count(), 1);
	/* and the clone works once qemu-img does */
	fail_run(0);
	T_OK(xvm_vdi_clone(conn, a, &b));
	cr_assert(st_reads(st_vdi_file(conn, b), "qcow2", 0x77, "0", "64k"));
	free(a);
	free(b);
}

Test(faults, clone_qcow2_first_image) { failed_clone("qcow2", 1); }
Test(faults, clone_qcow2_second_image) { failed_clone("qcow2", 2); }
Test(faults, clone_raw_first_image) { failed_clone("raw", 1); }
Test(faults, clone_raw_second_image) { failed_clone("raw", 2); }

Test(faults, create_resize_import_export)
{
	char *ref = NULL;
	fail_run(1);
	check_injected(xvm_vdi_create(conn, local_sr, "x", 4 * MiB, &ref));
	cr_assert_null(ref);
	cr_assert_eq(st_count(local_dir, "", ""), 0);
	cr_assert_eq(vdi_count(), 0);

	fail_run(0);
	char *a = st_vdi(conn, local_sr, "a", 4 * MiB, "raw");
	st_write(st_vdi_file(conn, a), "raw", 0x31, "0", "64k");
	fail_run(1);
	check_injected(xvm_vdi_resize(conn, a, 8 * MiB));
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), 4 * MiB);
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 4 * MiB);

	char out[4200], partial[4300];
	snprintf(out, sizeof(out), "%s/out.qcow2", dir);
	snprintf(partial, sizeof(partial), "%s.xvm-partial", out);
	fail_run(1);
	check_injected(xvm_vdi_export(conn, a, out, "qcow2"));
	cr_assert_not(st_exists(out));
	cr_assert_not(st_exists(partial));
	/* import: the first run reads the image, the second writes it */
	fail_run(0);
	T_OK(xvm_vdi_export(conn, a, out, "qcow2"));
	fail_run(2);
	check_injected(xvm_vdi_import(conn, a, out, "qcow2"));
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), 4 * MiB);
	cr_assert(st_reads(st_vdi_file(conn, a), "raw", 0x31, "0", "64k"));
	free(a);
}

/* When the hypervisor refuses, the drives' records stay as they were. */
Test(faults, hypervisor_failures_leave_the_drives)
{
	char *a = st_vdi(conn, local_sr, "a", 4 * MiB, NULL), *b = st_vdi(conn, local_sr, "b", 4 * MiB, NULL);
	char *disc = st_iso(conn, "disc.iso"), *d0 = NULL, *d1 = NULL, *cd = NULL;
	T_OK(xvm_vbd_create(conn, vm, a, "0", "Disk", "RW", true, &d0));
	T_OK(xvm_vbd_create(conn, vm, NULL, "3", "CD", "RO", false, &cd));

	xvm_conn *c = st_faulty("domain_create");
	T_ERR(xvm_vm_start(c, vm, 0), XVM_ERR_HYPERVISOR_ERROR, -1);
	xvm_disconnect(c);
	cr_assert_str_eq(t_power(conn, vm), "Halted");
	cr_assert_not(t_getb(conn, "VBD", d0, "currently_attached"), "a failed start left the disk attached");

	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vbd_create(conn, vm, b, "1", "Disk", "RW", false, &d1));
	c = st_faulty("device_attach");
	T_ERR(xvm_vbd_plug(c, d1), XVM_ERR_HYPERVISOR_ERROR, 2, "disk hot-plug", NULL);
	xvm_disconnect(c);
	cr_assert_not(t_getb(conn, "VBD", d1, "currently_attached"));
	T_OK(xvm_vdi_destroy(conn, b));

	c = st_faulty("media_change");
	T_ERR(xvm_vbd_insert(c, cd, disc), XVM_ERR_HYPERVISOR_ERROR, 2, "CD insert", NULL);
	xvm_disconnect(c);
	cr_assert(t_getb(conn, "VBD", cd, "empty"), "a failed insert changed the drive");
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "VDI"), "OpaqueRef:NULL");
	T_OK(xvm_vbd_insert(conn, cd, disc));
	cr_assert_str_eq(t_gets(conn, "VBD", cd, "VDI"), disc);
	free(a);
	free(b);
	free(disc);
	free(d0);
	free(d1);
	free(cd);
}
