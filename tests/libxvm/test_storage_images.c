/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image files and what the file system holds: VDI import and export round
 * trips in each format, their refusals, SR_FULL on a small file system, and
 * sr-scan bringing the records in line with the directory after a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "storage_common.h"

TestSuite(images, .init = st_setup, .fini = st_teardown, .timeout = 120);

/* --- import and export ----------------------------------------------------------- */

/* A 4 MiB raw image with known bytes: 0x5a in the first MiB, 0xc3 at 2 MiB. */
static void make_source(const char *path)
{
	ST_SH("qemu-img create -q -f raw '%s' 4M", path);
	st_write(path, "raw", 0x5a, "0", "1M");
	st_write(path, "raw", 0xc3, "2M", "512k");
}

/* qemu-img's name for a format. */
static const char *qformat(const char *format)
{
	return strcmp(format, "vhd") == 0 ? "vpc" : format;
}

/* raw -> `format` file -> VDI (of vdi_format) -> `format` file -> the same bytes. */
static void round_trip(const char *format, const char *vdi_format)
{
	char src[4200], img[4200], out[4200], partial[4300];
	snprintf(src, sizeof(src), "%s/src.raw", dir);
	snprintf(img, sizeof(img), "%s/in.%s", dir, format);
	snprintf(out, sizeof(out), "%s/out.%s", dir, format);
	snprintf(partial, sizeof(partial), "%s.xvm-partial", out);
	make_source(src);
	ST_SH("qemu-img convert -q -f raw -O %s '%s' '%s'", qformat(format), src, img);

	char *vdi = st_vdi(conn, local_sr, "imported", 8 * MiB, vdi_format);
	T_OK(xvm_vdi_import(conn, vdi, img, format));
	const char *file = st_vdi_file(conn, vdi);
	ST_SH("qemu-img compare -q -f raw -F %s '%s' '%s'", vdi_format, src, file);
	cr_assert_eq(t_geti(conn, "VDI", vdi, "virtual_size"), 8 * MiB, "an import changed the disk's size");
	cr_assert_eq(t_geti(conn, "VDI", vdi, "physical_utilisation"), st_allocated(file));
	if (strcmp(vdi_format, "qcow2") == 0)
		cr_assert_geq(st_allocated(file), 1 * MiB + 512 * 1024, "the data is not in the image");
	else
		cr_assert_geq(st_allocated(file), 8 * MiB, "the import undid the raw disk's reservation");

	T_OK(xvm_vdi_export(conn, vdi, out, format));
	struct json_object *info = st_info(out, NULL);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(info, "format")), qformat(format));
	json_object_put(info);
	ST_SH("qemu-img compare -q -f raw -F %s '%s' '%s'", qformat(format), src, out);
	/* the bytes differ from other bytes: compare can fail */
	st_write(src, "raw", 0x01, "3M", "4k");
	cr_assert_neq(st_sh(NULL, "qemu-img compare -q -f raw -F %s '%s' '%s'", qformat(format), src, out), 0);
	cr_assert_not(st_exists(partial));
	free(vdi);
}

Test(images, round_trip_raw) { round_trip("raw", "qcow2"); }
Test(images, round_trip_qcow2) { round_trip("qcow2", "qcow2"); }
Test(images, round_trip_vhd) { round_trip("vhd", "qcow2"); }
Test(images, round_trip_vmdk) { round_trip("vmdk", "qcow2"); }
Test(images, round_trip_into_a_raw_disk) { round_trip("qcow2", "raw"); }

/* An import into a clone replaces what the clone shares with its source, for it
 * alone: the image's zeros too are written over the base's data. */
Test(images, import_into_a_clone)
{
	char src[4200];
	snprintf(src, sizeof(src), "%s/src.raw", dir);
	make_source(src);
	char *a = st_vdi(conn, local_sr, "a", 4 * MiB, NULL), *b = NULL;
	st_write(st_vdi_file(conn, a), "qcow2", 0xee, "0", "4M");
	T_OK(xvm_vdi_clone(conn, a, &b));
	T_OK(xvm_vdi_import(conn, b, src, "raw"));
	ST_SH("qemu-img compare -q -f raw -F qcow2 '%s' '%s'", src, st_vdi_file(conn, b));
	cr_assert(st_reads(st_vdi_file(conn, a), "qcow2", 0xee, "0", "4M"));
	free(a);
	free(b);
}

Test(images, import_refusals_change_nothing)
{
	char big[4200], missing[4200], notqcow[4200];
	snprintf(big, sizeof(big), "%s/big.qcow2", dir);
	snprintf(missing, sizeof(missing), "%s/nothing-here.raw", dir);
	snprintf(notqcow, sizeof(notqcow), "%s/plain.raw", dir);
	ST_SH("qemu-img create -q -f qcow2 '%s' 16M", big);
	make_source(notqcow);
	char *vdi = st_vdi(conn, local_sr, "small", 8 * MiB, NULL);
	const char *file = st_vdi_file(conn, vdi);
	st_write(file, "qcow2", 0x99, "0", "64k");

	char want[24];
	snprintf(want, sizeof(want), "%lld", 16 * MiB);
	T_ERR(xvm_vdi_import(conn, vdi, big, "qcow2"), XVM_ERR_VDI_TOO_SMALL, 2, vdi, want);
	T_ERR(xvm_vdi_import(conn, vdi, big, "iso9"), XVM_ERR_INVALID_VALUE, 2, "format", "iso9");
	T_ERR(xvm_vdi_export(conn, vdi, big, "iso9"), XVM_ERR_INVALID_VALUE, 2, "format", "iso9");
	T_ERR(xvm_vdi_import(conn, vdi, missing, "raw"), XVM_ERR_IMPORT_ERROR, 2, missing, NULL);
	/* the format is named, never probed: a raw file is no qcow2 image */
	T_ERR(xvm_vdi_import(conn, vdi, notqcow, "qcow2"), XVM_ERR_IMPORT_ERROR, 2, notqcow, NULL);
	cr_assert(strstr(xvm_last_error()->params[1], "qcow2"), "the reason is not qemu-img's: %s",
		  xvm_last_error()->params[1]);
	cr_assert(st_reads(file, "qcow2", 0x99, "0", "64k"), "a refused import changed the disk");
	cr_assert_eq(t_geti(conn, "VDI", vdi, "virtual_size"), 8 * MiB);

	/* an export that cannot write leaves nothing */
	char nodir[4200];
	snprintf(nodir, sizeof(nodir), "%s/no/such/dir/out.raw", dir);
	T_ERR(xvm_vdi_export(conn, vdi, nodir, "raw"), XVM_ERR_SR_BACKEND_FAILURE, -1);
	free(vdi);
}

/* --- a full SR ---------------------------------------------------------------------- */

Test(images, sr_full_leaves_nothing_behind)
{
	const char *loc;
	char *sr = st_tmpfs_sr("32m", &loc);
	char want[24];
	snprintf(want, sizeof(want), "%lld", 64 * MiB);
	char *ref = NULL;
	T_ERR(xvm_vdi_create(conn, sr, "too big", 64 * MiB, &ref), XVM_ERR_SR_FULL, 3, want, NULL, sr);
	cr_assert_leq(atoll(xvm_last_error()->params[1]), 32 * MiB, "free bytes: %s", xvm_last_error()->params[1]);
	cr_assert_null(ref);
	cr_assert_eq(st_count(loc, "", ""), 0, "a refused VDI.create left files");
	struct json_object *vdis = t_get(conn, "SR", sr, "VDIs");
	cr_assert_eq(t_len(vdis), 0);
	json_object_put(vdis);
	cr_assert_eq(t_geti(conn, "SR", sr, "virtual_allocation"), 0);

	/* what fits is made; a raw disk takes its room, so the next does not fit */
	char *r = st_vdi(conn, sr, "r", 20 * MiB, "raw");
	snprintf(want, sizeof(want), "%lld", 16 * MiB);
	T_ERR(xvm_vdi_create(conn, sr, "no room", 16 * MiB, &ref), XVM_ERR_SR_FULL, 3, want, NULL, sr);
	cr_assert_eq(st_count(loc, "", ""), 1);
	snprintf(want, sizeof(want), "%lld", 20 * MiB);
	T_ERR(xvm_vdi_resize(conn, r, 40 * MiB), XVM_ERR_SR_FULL, 3, want, NULL, sr);
	cr_assert_eq(t_geti(conn, "VDI", r, "virtual_size"), 20 * MiB);
	T_OK(xvm_vdi_destroy(conn, r));
	st_tmpfs_sr_end(sr);
	free(r);
}

/* --- sr-scan -------------------------------------------------------------------------- */

static size_t vdi_count(const char *sr)
{
	struct json_object *vdis = t_get(conn, "SR", sr, "VDIs");
	size_t n = t_len(vdis);
	json_object_put(vdis);
	return n;
}

/* A crash between an image and its record leaves an image the next scan introduces. */
Test(images, scan_introduces_images_without_records)
{
	char uuid[XVM_UUID_BUFLEN], name[64];
	uuid_generate_str(uuid);
	snprintf(name, sizeof(name), "%s.qcow2", uuid);
	ST_SH("cd '%s' && qemu-img create -q -f qcow2 %s 16M && qemu-img create -q -f qcow2 foo.qcow2 8M && "
	      "qemu-img create -q -f raw bar.raw 4M && echo hello > notes.txt && echo junk > bad.qcow2",
	      local_dir, name);
	T_OK(xvm_sr_scan(conn, local_sr));
	cr_assert_eq(vdi_count(local_sr), 3);

	char *a = st_vdi_where(conn, local_sr, "location", name);
	char *foo = st_vdi_where(conn, local_sr, "location", "foo.qcow2");
	char *bar = st_vdi_where(conn, local_sr, "location", "bar.raw");
	cr_assert(a && foo && bar, "not introduced: %s %s %s", a, foo, bar);
	cr_assert_str_eq(t_gets(conn, "VDI", a, "uuid"), uuid, "the file name is the VDI's UUID");
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), 16 * MiB);
	cr_assert(uuid_valid(t_gets(conn, "VDI", foo, "uuid")));
	cr_assert_str_eq(t_gets(conn, "VDI", foo, "name_label"), "foo.qcow2");
	cr_assert_eq(t_geti(conn, "VDI", foo, "virtual_size"), 8 * MiB);
	struct json_object *sm = t_get(conn, "VDI", bar, "sm_config");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(sm, "type")), "raw");
	json_object_put(sm);
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 28 * MiB);
	/* what is no image of ours stays, unrecorded */
	cr_assert_eq(st_count(local_dir, "notes.txt", ""), 1);
	cr_assert_eq(st_count(local_dir, "bad.qcow2", ""), 1);

	/* a second scan finds nothing new */
	T_OK(xvm_sr_scan(conn, local_sr));
	cr_assert_eq(vdi_count(local_sr), 3);
	cr_assert_str_eq(t_gets(conn, "VDI", a, "uuid"), uuid);
	/* introduced disks are disks like the others */
	char *c = NULL;
	T_OK(xvm_vdi_clone(conn, foo, &c));
	T_OK(xvm_vdi_destroy(conn, foo));
	T_OK(xvm_vdi_destroy(conn, c));
	cr_assert_eq(st_count(local_dir, "foo", ""), 0);
	cr_assert_eq(st_count(local_dir, "base-", ""), 0);
	free(a);
	free(foo);
	free(bar);
	free(c);
}

Test(images, scan_marks_vanished_disks_missing)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = st_vdi(conn, local_sr, "b", 4 * MiB, NULL);
	char fa[4500];
	snprintf(fa, sizeof(fa), "%s", st_vdi_file(conn, a));
	cr_assert_eq(unlink(fa), 0);
	T_OK(xvm_sr_scan(conn, local_sr));
	cr_assert(t_getb(conn, "VDI", a, "missing"));
	cr_assert_not(t_getb(conn, "VDI", b, "missing"));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 4 * MiB);
	char *c = NULL;
	T_ERR(xvm_vdi_clone(conn, a, &c), XVM_ERR_VDI_MISSING, 1, a);
	T_ERR(xvm_vdi_resize(conn, a, 16 * MiB), XVM_ERR_VDI_MISSING, 1, a);
	/* a VM cannot start on a missing disk */
	char *vbd = NULL;
	T_OK(xvm_vbd_create(conn, vm, a, "0", "Disk", "RW", true, &vbd));
	T_ERR(xvm_vm_start(conn, vm, 0), XVM_ERR_VDI_MISSING, 1, a);
	cr_assert_str_eq(t_power(conn, vm), "Halted");

	/* the file back: the next scan finds it */
	ST_SH("qemu-img create -q -f qcow2 '%s' 8M", fa);
	T_OK(xvm_sr_scan(conn, local_sr));
	cr_assert_not(t_getb(conn, "VDI", a, "missing"));
	cr_assert_eq(t_geti(conn, "SR", local_sr, "virtual_allocation"), 12 * MiB);

	/* a missing disk can be destroyed: its record (and drives) go */
	cr_assert_eq(unlink(fa), 0);
	T_OK(xvm_sr_scan(conn, local_sr));
	T_OK(xvm_vdi_destroy(conn, a));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VDI", a, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", a);
	T_ERR(xvm_object_get_record(conn, "VBD", vbd, &rec), XVM_ERR_HANDLE_INVALID, 2, "VBD", vbd);
	cr_assert_eq(vdi_count(local_sr), 1);
	free(a);
	free(b);
	free(vbd);
}

/* What a crashed clone or create leaves (a temporary file, a base nobody
 * uses, a chain of them) goes at the next scan; a base in use stays, and so
 * do the user's files that only look alike. */
Test(images, scan_removes_what_crashes_leave)
{
	char *a = st_vdi(conn, local_sr, "a", 8 * MiB, NULL), *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	char u1[XVM_UUID_BUFLEN], u2[XVM_UUID_BUFLEN], u3[XVM_UUID_BUFLEN];
	uuid_generate_str(u1);
	uuid_generate_str(u2);
	uuid_generate_str(u3);
	ST_SH("cd '%s' && qemu-img create -q -f qcow2 base-%s.qcow2 8M && "
	      "qemu-img create -q -f qcow2 -b base-%s.qcow2 -F qcow2 base-%s.qcow2 && "
	      "qemu-img create -q -f qcow2 %s.qcow2.tmp 8M && qemu-img create -q -f raw base-%s.raw 1M && "
	      "qemu-img create -q -f raw %s.raw.tmp 1M && echo mine > notes.tmp && "
	      "qemu-img create -q -f qcow2 base-ubuntu.qcow2 2M",
	      local_dir, u1, u1, u2, u3, u3, u3);
	cr_assert_eq(st_count(local_dir, "base-", ""), 5);
	T_OK(xvm_sr_scan(conn, local_sr));
	cr_assert_eq(st_count(local_dir, "", ".tmp"), 1, "a temporary file is left, or the user's went");
	cr_assert_eq(st_count(local_dir, "notes.tmp", ""), 1);
	cr_assert_eq(st_count(local_dir, "base-", ""), 2, "unused bases are left, or the user's image went");
	char *user = st_vdi_where(conn, local_sr, "location", "base-ubuntu.qcow2");
	cr_assert_not_null(user, "the user's base-ubuntu.qcow2 is no VDI");
	cr_assert_eq(t_geti(conn, "VDI", user, "virtual_size"), 2 * MiB);
	free(user);
	cr_assert_str_eq(st_backing(st_vdi_file(conn, a)), st_backing(st_vdi_file(conn, b)));
	char used[4500];
	snprintf(used, sizeof(used), "%s/%s", local_dir, st_backing(st_vdi_file(conn, a)));
	cr_assert(st_exists(used), "the base in use went");
	cr_assert_eq(vdi_count(local_sr), 3, "a base or a temporary file became a VDI");
	free(a);
	free(b);
}

/* An import needs room for what the disk does not hold yet: none into a raw
 * disk, which reserved it all; the image's bytes into a thin one. */
Test(images, import_needs_the_room_the_disk_lacks)
{
	const char *loc;
	char *sr = st_tmpfs_sr("32m", &loc);
	char *r = st_vdi(conn, sr, "r", 27 * MiB, "raw"), *q = st_vdi(conn, sr, "q", 5 * MiB, NULL);
	char img[4200];
	snprintf(img, sizeof(img), "%s/full.raw", dir);
	ST_SH("qemu-img create -q -f raw '%s' 5M", img);
	st_write(img, "raw", 0x11, "0", "5M");
	char want[24];
	snprintf(want, sizeof(want), "%lld", 5 * MiB);
	T_ERR(xvm_vdi_import(conn, q, img, "raw"), XVM_ERR_SR_FULL, 3, want, NULL, sr);
	T_OK(xvm_vdi_import(conn, r, img, "raw"));
	cr_assert(st_reads(st_vdi_file(conn, r), "raw", 0x11, "0", "5M"));
	cr_assert_geq(st_allocated(st_vdi_file(conn, r)), 27 * MiB);
	T_OK(xvm_vdi_destroy(conn, r));
	T_OK(xvm_vdi_destroy(conn, q));
	st_tmpfs_sr_end(sr);
	free(r);
	free(q);
}
