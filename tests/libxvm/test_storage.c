/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disks in the file SR on sim:///DIR, checked against the image files
 * themselves: VDI create and destroy, the records' figures, copy-on-write
 * clones and snapshots, resize and copy. Image files, SR_FULL and sr-scan:
 * test_storage_images.c; drives and SR operations: test_storage_vbd.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "core/util.h"
#include "storage_common.h"

TestSuite(storage, .init = st_setup, .fini = st_teardown, .timeout = 120);

/* The location is "<uuid>.<format>", the file is there and the figures are its own. */
static void check_vdi_file(const char *vdi, const char *format, int64_t size)
{
	char want[128];
	snprintf(want, sizeof(want), "%s.%s", t_gets(conn, "VDI", vdi, "uuid"), format);
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "location"), want);
	const char *file = st_vdi_file(conn, vdi);
	cr_assert(st_exists(file), "%s is not there", file);
	cr_assert_eq(t_geti(conn, "VDI", vdi, "virtual_size"), size);
	cr_assert_eq(t_geti(conn, "VDI", vdi, "physical_utilisation"), st_allocated(file));
	struct json_object *sm = t_get(conn, "VDI", vdi, "sm_config");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(sm, "type")), format);
	json_object_put(sm);
	struct json_object *info = st_info(file, format);
	cr_assert_eq(json_object_get_int64(json_object_object_get(info, "virtual-size")), size);
	json_object_put(info);
	cr_assert_not(t_getb(conn, "VDI", vdi, "missing"));
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "SR"), local_sr);
}

Test(storage, create_qcow2)
{
	char *vdi = st_vdi(conn, local_sr, "disk", 64 * MiB, NULL);
	check_vdi_file(vdi, "qcow2", 64 * MiB);
	cr_assert_str_eq(t_gets(conn, "VDI", vdi, "name_label"), "disk");
	/* thin: a new qcow2 image holds metadata only */
	cr_assert_lt(t_geti(conn, "VDI", vdi, "physical_utilisation"), 1 * MiB);
	struct json_object *vdis = t_get(conn, "SR", local_sr, "VDIs");
	cr_assert(t_has(vdis, vdi));
	json_object_put(vdis);
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 64 * MiB);
	free(vdi);
}

Test(storage, create_raw_is_preallocated)
{
	char *vdi = st_vdi(conn, local_sr, "raw disk", 16 * MiB, "raw");
	check_vdi_file(vdi, "raw", 16 * MiB);
	cr_assert_geq(t_geti(conn, "VDI", vdi, "physical_utilisation"), 16 * MiB, "a raw disk is reserved whole");
	free(vdi);
}

Test(storage, create_refusals_leave_nothing)
{
	struct json_object *res = NULL;
	char args[512];
	snprintf(args, sizeof(args), "[{\"SR\": \"%s\", \"name_label\": \"x\", \"virtual_size\": 0}]", local_sr);
	T_ERR(t_call(conn, "VDI.create", args, &res), XVM_ERR_INVALID_VALUE, 2, "virtual_size", NULL);
	snprintf(args, sizeof(args), "[{\"SR\": \"%s\", \"name_label\": \"x\", \"virtual_size\": -5}]", local_sr);
	T_ERR(t_call(conn, "VDI.create", args, &res), XVM_ERR_INVALID_VALUE, 2, "virtual_size", NULL);
	snprintf(args, sizeof(args),
		 "[{\"SR\": \"%s\", \"name_label\": \"x\", \"virtual_size\": 1048576, \"sm_config\": {\"type\": \"vhd\"}}]",
		 local_sr);
	T_ERR(t_call(conn, "VDI.create", args, &res), XVM_ERR_INVALID_VALUE, 2, "sm_config:type", "vhd");
	T_ERR(t_call(conn, "VDI.create", "[{\"SR\": \"OpaqueRef:nope\", \"name_label\": \"x\", \"virtual_size\": 1048576}]",
		     &res),
	      XVM_ERR_HANDLE_INVALID, -1);
	cr_assert_eq(st_count(local_dir, "", ""), 0, "a refused VDI.create left files");
	struct json_object *vdis = t_all_refs(conn, "VDI");
	cr_assert_eq(t_len(vdis), 0);
	json_object_put(vdis);
}

Test(storage, destroy_removes_file_and_record)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = st_vdi(conn, local_sr, "b", 4 * MiB, "raw");
	char fa[4500], fb[4500];
	snprintf(fa, sizeof(fa), "%s", st_vdi_file(conn, a));
	snprintf(fb, sizeof(fb), "%s", st_vdi_file(conn, b));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 12 * MiB);
	T_OK(xvm_vdi_destroy(conn, a));
	cr_assert_not(st_exists(fa));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VDI", a, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", a);
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 4 * MiB);
	T_OK(xvm_vdi_destroy(conn, b));
	cr_assert_not(st_exists(fb));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 0);
	cr_assert_eq(st_count(local_dir, "", ""), 0);
	T_ERR(xvm_vdi_destroy(conn, b), XVM_ERR_HANDLE_INVALID, 2, "VDI", b);
	free(a);
	free(b);
}

static void check_figures(const char *sr, const char *loc, int64_t allocation)
{
	struct statvfs v;
	cr_assert_eq(statvfs(loc, &v), 0);
	cr_assert_eq(t_geti(conn, "SR", sr, "physical_size"), (int64_t)(v.f_blocks * v.f_frsize));
	cr_assert_eq(t_geti(conn, "SR", sr, "physical_utilisation"), (int64_t)((v.f_blocks - v.f_bavail) * v.f_frsize));
	cr_assert_eq(t_geti(conn, "SR", sr, "virtual_allocation"), allocation);
}

/* The SR's figures are the file system's, as statvfs gives them: on a tmpfs
 * of the test's own, nothing else changes them meanwhile. */
Test(storage, sr_figures_are_the_file_systems)
{
	const char *loc;
	char *sr = st_tmpfs_sr("64m", &loc);
	char *q = st_vdi(conn, sr, "q", 24 * MiB, NULL), *r = st_vdi(conn, sr, "r", 8 * MiB, "raw");
	check_figures(sr, loc, 32 * MiB);
	/* the raw disk's reservation shows in the SR's use */
	cr_assert_geq(t_geti(conn, "SR", sr, "physical_utilisation"), 8 * MiB);
	cr_assert_eq(t_geti(conn, "VDI", r, "physical_utilisation"), st_allocated(st_vdi_file(conn, r)));
	T_OK(xvm_vdi_destroy(conn, r));
	check_figures(sr, loc, 24 * MiB);
	T_OK(xvm_vdi_destroy(conn, q));
	st_tmpfs_sr_end(sr);
	free(q);
	free(r);
}

/* The local SR measures the state dir's file system, from the start. */
static void check_local_figures(void)
{
	struct statvfs v;
	cr_assert_eq(statvfs(local_dir, &v), 0);
	int64_t size = t_geti(conn, "SR", local_sr, "physical_size"), used = t_geti(conn, "SR", local_sr,
										   "physical_utilisation");
	cr_assert_eq(size, (int64_t)(v.f_blocks * v.f_frsize));
	cr_assert(used > 0 && used <= size, "physical_utilisation %lld of %lld", (long long)used, (long long)size);
}

Test(storage, local_sr_figures)
{
	check_local_figures();
	char *vdi = st_vdi(conn, local_sr, "d", 8 * MiB, NULL);
	check_local_figures();
	free(vdi);
}

/* --- clones and snapshots ------------------------------------------------------ */

/* Checks that leaf's image is a qcow2 over base (a name in the same directory). */
static void check_over(const char *leaf, const char *base)
{
	cr_assert_str_eq(st_backing(leaf), base, "%s is not over %s", leaf, base);
}

Test(storage, clone_is_o1_over_a_shared_base)
{
	char *a = st_vdi(conn, local_sr, "a", 256 * MiB, NULL);
	char fa[4500];
	snprintf(fa, sizeof(fa), "%s", st_vdi_file(conn, a));
	st_write(fa, "qcow2", 0xaa, "0", "8M");
	struct stat before;
	cr_assert_eq(stat(fa, &before), 0);

	char *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	const char *fb = st_vdi_file(conn, b);
	/* the source keeps its identity and location; the clone is named after its own */
	check_vdi_file(a, "qcow2", 256 * MiB);
	check_vdi_file(b, "qcow2", 256 * MiB);
	cr_assert_str_eq(t_gets(conn, "VDI", b, "name_label"), "a");
	cr_assert_eq(st_count(local_dir, "base-", ".qcow2"), 1);
	cr_assert_eq(st_count(local_dir, "", ""), 3);

	const char *base = st_backing(fa);
	cr_assert(strncmp(base, "base-", 5) == 0, "backing file %s", base);
	check_over(fb, base);
	/* O(1): the base is the source's old file itself, the leaves are empty */
	char fbase[4500];
	snprintf(fbase, sizeof(fbase), "%s/%s", local_dir, base);
	struct stat st;
	cr_assert_eq(stat(fbase, &st), 0);
	cr_assert_eq(st.st_ino, before.st_ino, "the base is a copy, not the source's file");
	cr_assert_lt(st_allocated(fa), 1 * MiB);
	cr_assert_lt(st_allocated(fb), 1 * MiB);
	cr_assert_str_eq(st_backing(fbase), "");
	/* both see the data */
	cr_assert(st_reads(fa, "qcow2", 0xaa, "0", "8M"));
	cr_assert(st_reads(fb, "qcow2", 0xaa, "0", "8M"));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 512 * MiB);
	free(a);
	free(b);
}

Test(storage, clone_and_source_write_apart)
{
	char *a = st_vdi(conn, local_sr, "a", 16 * MiB, NULL);
	st_write(st_vdi_file(conn, a), "qcow2", 0xaa, "0", "64k");
	char *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	const char *fa = st_vdi_file(conn, a), *fb = st_vdi_file(conn, b);
	st_write(fa, "qcow2", 0xbb, "0", "64k");
	st_write(fb, "qcow2", 0xcc, "1M", "64k");
	cr_assert(st_reads(fa, "qcow2", 0xbb, "0", "64k"));
	cr_assert(st_reads(fb, "qcow2", 0xaa, "0", "64k"), "the clone sees the source's later write");
	cr_assert(st_reads(fb, "qcow2", 0xcc, "1M", "64k"));
	cr_assert(st_reads(fa, "qcow2", 0x00, "1M", "64k"), "the source sees the clone's write");
	/* a check that can fail: the pattern is compared */
	cr_assert_not(st_reads(fa, "qcow2", 0xaa, "0", "64k"));
	free(a);
	free(b);
}

Test(storage, snapshot_fields)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL);
	st_write(st_vdi_file(conn, a), "qcow2", 0x5a, "0", "64k");
	char t0[XVM_DATETIME_BUFLEN], t1[XVM_DATETIME_BUFLEN];
	datetime_format(time(NULL), t0);
	char *s = NULL, *c = NULL;
	T_OK(xvm_vdi_snapshot(conn, a, &s));
	datetime_format(time(NULL), t1);
	cr_assert(t_getb(conn, "VDI", s, "is_a_snapshot"));
	cr_assert_str_eq(t_gets(conn, "VDI", s, "snapshot_of"), a);
	const char *when = t_gets(conn, "VDI", s, "snapshot_time");
	cr_assert(strcmp(when, t0) >= 0 && strcmp(when, t1) <= 0, "snapshot_time %s not in [%s, %s]", when, t0, t1);
	struct json_object *snaps = t_get(conn, "VDI", a, "snapshots");
	cr_assert_eq(t_len(snaps), 1);
	cr_assert(t_has(snaps, s));
	json_object_put(snaps);
	cr_assert_not(t_getb(conn, "VDI", a, "is_a_snapshot"));
	check_vdi_file(s, "qcow2", 8 * MiB);
	/* the snapshot keeps the content of its time */
	st_write(st_vdi_file(conn, a), "qcow2", 0x11, "0", "64k");
	cr_assert(st_reads(st_vdi_file(conn, s), "qcow2", 0x5a, "0", "64k"));
	/* a clone is no snapshot */
	T_OK(xvm_vdi_clone(conn, a, &c));
	cr_assert_not(t_getb(conn, "VDI", c, "is_a_snapshot"));
	cr_assert_str_eq(t_gets(conn, "VDI", c, "snapshot_of"), "OpaqueRef:NULL");
	free(a);
	free(s);
	free(c);
}

Test(storage, clone_of_raw_moves_the_source_onto_qcow2)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, "raw");
	char old[4500];
	snprintf(old, sizeof(old), "%s", st_vdi_file(conn, a));
	st_write(old, "raw", 0x77, "0", "64k");
	char *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	cr_assert_not(st_exists(old));
	check_vdi_file(a, "qcow2", 8 * MiB);
	check_vdi_file(b, "qcow2", 8 * MiB);
	const char *base = st_backing(st_vdi_file(conn, a));
	cr_assert(strncmp(base, "base-", 5) == 0 && strstr(base, ".raw"), "backing %s", base);
	check_over(st_vdi_file(conn, b), base);
	cr_assert(st_reads(st_vdi_file(conn, a), "qcow2", 0x77, "0", "64k"));
	cr_assert(st_reads(st_vdi_file(conn, b), "qcow2", 0x77, "0", "64k"));
	free(a);
	free(b);
}

/* Bases go when the last leaf over them goes, down the chain. */
Test(storage, destroying_the_leaves_removes_the_bases)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = NULL, *c = NULL, *d = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	T_OK(xvm_vdi_snapshot(conn, b, &c));
	T_OK(xvm_vdi_clone(conn, a, &d));
	cr_assert_eq(st_count(local_dir, "base-", ".qcow2"), 3);
	T_OK(xvm_vdi_destroy(conn, d));
	/* a's second base is used by a alone now: it stays under a */
	cr_assert_eq(st_count(local_dir, "base-", ".qcow2"), 3);
	T_OK(xvm_vdi_destroy(conn, c));
	T_OK(xvm_vdi_destroy(conn, b));
	cr_assert_eq(st_count(local_dir, "base-", ".qcow2"), 2, "bases nobody uses are left");
	cr_assert(st_reads(st_vdi_file(conn, a), "qcow2", 0x00, "0", "64k"));
	T_OK(xvm_vdi_destroy(conn, a));
	cr_assert_eq(st_count(local_dir, "", ""), 0, "files are left after every VDI went");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* --- resize and copy ------------------------------------------------------------ */

static void check_resize(const char *format)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, format);
	T_OK(xvm_vdi_resize(conn, a, 24 * MiB));
	check_vdi_file(a, format, 24 * MiB);
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 24 * MiB);
	if (strcmp(format, "raw") == 0)
		cr_assert_geq(st_allocated(st_vdi_file(conn, a)), 24 * MiB, "a grown raw disk is reserved whole");
	char want[24];
	snprintf(want, sizeof(want), "%lld", 16 * MiB);
	T_ERR(xvm_vdi_resize(conn, a, 16 * MiB), XVM_ERR_VDI_TOO_SMALL, 2, a, want);
	check_vdi_file(a, format, 24 * MiB);
	T_OK(xvm_vdi_resize(conn, a, 24 * MiB));
	check_vdi_file(a, format, 24 * MiB);
	free(a);
}

Test(storage, resize_qcow2) { check_resize("qcow2"); }
Test(storage, resize_raw) { check_resize("raw"); }

Test(storage, copy_to_another_sr_is_independent)
{
	char other[4200];
	snprintf(other, sizeof(other), "%s/other-sr", dir);
	char *sr = st_file_sr(conn, other);
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL);
	st_write(st_vdi_file(conn, a), "qcow2", 0x42, "0", "1M");
	/* a copy of a clone holds the whole content, not a link to the base */
	char *b = NULL, *c = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	T_OK(xvm_vdi_copy(conn, b, sr, &c));
	cr_assert_str_eq(t_gets(conn, "VDI", c, "SR"), sr);
	cr_assert_str_eq(t_gets(conn, "VDI", c, "name_label"), "a");
	cr_assert_neq(strcmp(t_gets(conn, "VDI", c, "uuid"), t_gets(conn, "VDI", b, "uuid")), 0);
	const char *fc = st_vdi_file(conn, c);
	cr_assert(strncmp(fc, other, strlen(other)) == 0, "the copy is at %s", fc);
	cr_assert_eq(t_geti(conn, "VDI", c, "virtual_size"), 8 * MiB);
	cr_assert_str_eq(st_backing(fc), "");
	ST_SH("qemu-img compare -q -f qcow2 -F qcow2 '%s' '%s'", st_vdi_file(conn, b), fc);
	cr_assert_eq(t_geti(conn, "VDI", c, "physical_utilisation"), st_allocated(fc));
	cr_assert_eq(t_geti(conn, "SR", sr, "virtual_allocation"), 8 * MiB);
	/* apart from then on */
	st_write(fc, "qcow2", 0x24, "0", "64k");
	cr_assert(st_reads(st_vdi_file(conn, b), "qcow2", 0x42, "0", "64k"));
	/* destroying the sources leaves the copy whole */
	T_OK(xvm_vdi_destroy(conn, b));
	T_OK(xvm_vdi_destroy(conn, a));
	cr_assert(st_reads(fc, "qcow2", 0x42, "64k", "960k"));
	/* a copy into the same SR works too */
	char *d = NULL;
	T_OK(xvm_vdi_copy(conn, c, sr, &d));
	cr_assert_eq(st_count(other, "", ".qcow2"), 2);
	free(a);
	free(b);
	free(c);
	free(d);
	free(sr);
}
