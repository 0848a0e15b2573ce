/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR and PBD operations on file SRs: SR.create and its refusals, forget and
 * introduce (an existing directory adopted with its disks), destroy, and
 * PBD plug and unplug, with what a running VM's disks forbid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "storage_common.h"

TestSuite(sr, .init = st_setup, .fini = st_teardown, .timeout = 120);

static size_t count_of(const char *cls)
{
	struct json_object *refs = t_all_refs(conn, cls);
	size_t n = t_len(refs);
	json_object_put(refs);
	return n;
}

/* SR.create with this device_config (JSON text) and type must fail with `code`
 * [p0, p1] and make no record. */
static void refused_sr(const char *dc_json, const char *type, bool shared, const char *content_type, int code,
		       int nparams, const char *p0, const char *p1)
{
	size_t srs = count_of("SR"), pbds = count_of("PBD");
	struct json_object *dc = dc_json ? json_tokener_parse(dc_json) : NULL;
	cr_assert(!dc_json || dc, "bad JSON in test: %s", dc_json);
	char *ref = NULL;
	T_ERR(xvm_sr_create(conn, dc, "bad", type, content_type, shared, NULL, &ref), code, nparams, p0, p1);
	json_object_put(dc);
	cr_assert_null(ref);
	cr_assert_eq(count_of("SR"), srs, "a refused SR.create made an SR");
	cr_assert_eq(count_of("PBD"), pbds, "a refused SR.create made a PBD");
}

static void dc_of(char *buf, size_t size, const char *location)
{
	snprintf(buf, size, "{\"location\": \"%s\"}", location);
}

Test(sr, create_refusals)
{
	char dc[4400], path[4200];
	snprintf(path, sizeof(path), "%s/new", dir);
	dc_of(dc, sizeof(dc), path);
	refused_sr(dc, "bogus", false, "", XVM_ERR_SR_UNKNOWN_DRIVER, 1, "bogus", NULL);
	refused_sr(NULL, "file", false, "", XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config", "location");
	refused_sr("{\"location\": \"\"}", "file", false, "", XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config", "location");
	snprintf(dc, sizeof(dc), "{\"location\": \"%s\", \"server\": \"x\"}", path);
	refused_sr(dc, "file", false, "", XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config", "server");
	refused_sr("{\"location\": 5}", "file", false, "", XVM_ERR_FIELD_TYPE_ERROR, 1, "device_config", NULL);
	refused_sr("{\"location\": \"relative/dir\"}", "file", false, "", XVM_ERR_SR_BACKEND_FAILURE, 2, "location",
		   "relative/dir");
	dc_of(dc, sizeof(dc), path);
	refused_sr(dc, "file", true, "", XVM_ERR_INVALID_VALUE, 2, "shared", "true");
	refused_sr(dc, "file", false, "iso", XVM_ERR_INVALID_VALUE, 2, "content_type", "iso");
	cr_assert_not(st_exists(path), "a refused SR.create made its directory");

	/* a location that is a file */
	char file[4200];
	snprintf(file, sizeof(file), "%s/afile", dir);
	t_write_file(file, "data\n");
	dc_of(dc, sizeof(dc), file);
	refused_sr(dc, "file", false, "", XVM_ERR_SR_BACKEND_FAILURE, 2, "location", file);
	char *text = t_read_file(file, NULL);
	cr_assert_str_eq(text, "data\n");
	free(text);

	/* a directory with images in it: another SR's, to be introduced instead */
	char *vdi = st_vdi(conn, local_sr, "a", 1 * MiB, NULL);
	dc_of(dc, sizeof(dc), local_dir);
	refused_sr(dc, "file", false, "", XVM_ERR_SR_DEVICE_IN_USE, 1, local_dir, NULL);
	cr_assert(st_exists(st_vdi_file(conn, vdi)));
	free(vdi);
}

Test(sr, create_makes_a_plugged_sr)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	char *sr = st_file_sr(conn, path);
	struct stat st;
	cr_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "no directory %s", path);
	cr_assert_str_eq(t_gets(conn, "SR", sr, "type"), "file");
	cr_assert_str_eq(t_gets(conn, "SR", sr, "content_type"), "user");
	cr_assert_str_eq(t_gets(conn, "SR", sr, "name_label"), "other");
	cr_assert_not(t_getb(conn, "SR", sr, "shared"));
	cr_assert_str_eq(st_sr_dir(conn, sr), path);
	struct json_object *pbds = t_get(conn, "SR", sr, "PBDs");
	cr_assert(t_getb(conn, "PBD", t_first(pbds), "currently_attached"));
	cr_assert_gt(t_geti(conn, "SR", sr, "physical_size"), 0);
	json_object_put(pbds);
	/* an existing directory of other files is taken as it is */
	char other[4200], notes[4300];
	snprintf(other, sizeof(other), "%s/docs", dir);
	snprintf(notes, sizeof(notes), "%s/notes.txt", other);
	cr_assert_eq(mkdir(other, 0755), 0);
	t_write_file(notes, "keep\n");
	char *sr2 = st_file_sr(conn, other);
	struct json_object *vdis = t_get(conn, "SR", sr2, "VDIs");
	cr_assert_eq(t_len(vdis), 0);
	json_object_put(vdis);
	/* an SR's directory, empty as it is, is not another's */
	char dc[4400];
	dc_of(dc, sizeof(dc), path);
	refused_sr(dc, "file", false, "", XVM_ERR_SR_DEVICE_IN_USE, 1, path, NULL);
	T_OK(xvm_sr_destroy(conn, sr2));
	cr_assert(st_exists(notes), "SR.destroy removed a file that was no image");
	free(sr);
	free(sr2);
}

static char *introduce(const char *uuid)
{
	char args[512];
	struct json_object *res = NULL;
	snprintf(args, sizeof(args), "[\"%s\", \"adopted\", \"\", \"file\", \"\", false, {}]", uuid);
	T_OK(t_call(conn, "SR.introduce", args, &res));
	char *ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return ref;
}

static char *pbd_create(const char *sr, const char *location)
{
	char args[4600];
	struct json_object *res = NULL;
	snprintf(args, sizeof(args),
		 "[{\"host\": \"OpaqueRef:NULL\", \"SR\": \"%s\", \"device_config\": {\"location\": \"%s\"}}]", sr,
		 location);
	T_OK(t_call(conn, "PBD.create", args, &res));
	char *ref = strdup(json_object_get_string(res));
	json_object_put(res);
	return ref;
}

Test(sr, forget_then_introduce_adopts_the_disks)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/kept", dir);
	char *sr = st_file_sr(conn, path);
	char *a = st_vdi(conn, sr, "a", 4 * MiB, NULL), *r = st_vdi(conn, sr, "r", 2 * MiB, "raw"), *c = NULL;
	st_write(st_vdi_file(conn, a), "qcow2", 0x3e, "0", "64k");
	T_OK(xvm_vdi_clone(conn, a, &c));
	char sr_uuid[64], ua[64], ur[64], uc[64];
	snprintf(sr_uuid, sizeof(sr_uuid), "%s", t_gets(conn, "SR", sr, "uuid"));
	snprintf(ua, sizeof(ua), "%s", t_gets(conn, "VDI", a, "uuid"));
	snprintf(ur, sizeof(ur), "%s", t_gets(conn, "VDI", r, "uuid"));
	snprintf(uc, sizeof(uc), "%s", t_gets(conn, "VDI", c, "uuid"));
	size_t pbds = count_of("PBD");

	T_OK(xvm_sr_forget(conn, sr));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "SR", sr, &rec), XVM_ERR_HANDLE_INVALID, 2, "SR", sr);
	T_ERR(xvm_object_get_record(conn, "VDI", a, &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", a);
	cr_assert_eq(count_of("PBD"), pbds - 1);
	cr_assert_eq(st_count(path, "", ""), 4, "SR.forget touched the files");

	/* the SR comes back under its UUID; unplugged, it shows no disks yet */
	char *back = introduce(sr_uuid);
	cr_assert_str_eq(t_gets(conn, "SR", back, "uuid"), sr_uuid);
	struct json_object *none = t_get(conn, "SR", back, "PBDs");
	cr_assert_eq(t_len(none), 0);
	json_object_put(none);
	char *ref = NULL;
	T_ERR(xvm_vdi_create(conn, back, "x", 1 * MiB, &ref), XVM_ERR_SR_HAS_NO_PBDS, 1, back);
	T_ERR(xvm_sr_scan(conn, back), XVM_ERR_SR_HAS_NO_PBDS, 1, back);
	struct json_object *res = NULL;
	char args[4600];
	snprintf(args, sizeof(args), "[\"%s\", \"again\", \"\", \"file\", \"\", false, {}]", sr_uuid);
	T_ERR(t_call(conn, "SR.introduce", args, &res), XVM_ERR_INVALID_VALUE, 2, "uuid", sr_uuid);

	/* a PBD must reach storage that is no other SR's, by a path the driver takes */
	snprintf(args, sizeof(args),
		 "[{\"host\": \"OpaqueRef:NULL\", \"SR\": \"%s\", \"device_config\": {\"location\": \"%s\"}}]", back,
		 local_dir);
	T_ERR(t_call(conn, "PBD.create", args, &res), XVM_ERR_SR_DEVICE_IN_USE, 1, local_dir);
	snprintf(args, sizeof(args),
		 "[{\"host\": \"OpaqueRef:NULL\", \"SR\": \"%s\", \"device_config\": {\"location\": \"kept\"}}]", back);
	T_ERR(t_call(conn, "PBD.create", args, &res), XVM_ERR_SR_BACKEND_FAILURE, 2, "location", "kept");
	cr_assert_eq(count_of("PBD"), pbds - 1);
	char *pbd = pbd_create(back, path);
	cr_assert_not(t_getb(conn, "PBD", pbd, "currently_attached"));
	snprintf(args, sizeof(args), "[{\"host\": \"OpaqueRef:NULL\", \"SR\": \"%s\", \"device_config\": {}}]", back);
	T_ERR(t_call(conn, "PBD.create", args, &res), XVM_ERR_PBD_EXISTS, 2, back, pbd);
	T_OK(xvm_pbd_plug(conn, pbd));
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));

	/* the disks are back, under their UUIDs (their file names); the base is none */
	struct json_object *vdis = t_get(conn, "SR", back, "VDIs");
	cr_assert_eq(t_len(vdis), 3);
	json_object_put(vdis);
	char *a2 = st_vdi_where(conn, back, "uuid", ua), *r2 = st_vdi_where(conn, back, "uuid", ur);
	char *c2 = st_vdi_where(conn, back, "uuid", uc);
	cr_assert(a2 && r2 && c2, "disks not adopted: %s %s %s", a2, r2, c2);
	cr_assert_eq(t_geti(conn, "VDI", a2, "virtual_size"), 4 * MiB);
	cr_assert_eq(t_geti(conn, "VDI", r2, "virtual_size"), 2 * MiB);
	cr_assert_eq(t_geti(conn, "SR", back, "virtual_allocation"), 10 * MiB);
	cr_assert(st_reads(st_vdi_file(conn, c2), "qcow2", 0x3e, "0", "64k"));
	/* and work as before: the clone's base goes with its last leaf */
	T_OK(xvm_vdi_destroy(conn, a2));
	T_OK(xvm_vdi_destroy(conn, c2));
	cr_assert_eq(st_count(path, "base-", ""), 0);
	free(sr);
	free(a);
	free(r);
	free(c);
	free(back);
	free(pbd);
	free(a2);
	free(r2);
	free(c2);
}

/* An SR at <dir>/name with one disk "a" of 4 MiB, the VM's drive 0; its PBD. */
struct disk_sr {
	char path[4200];
	char *sr, *a, *vbd, *pbd;
};

static void disk_sr(const char *name, struct disk_sr *d)
{
	snprintf(d->path, sizeof(d->path), "%s/%s", dir, name);
	d->sr = st_file_sr(conn, d->path);
	d->a = st_vdi(conn, d->sr, "a", 4 * MiB, NULL);
	T_OK(xvm_vbd_create(conn, vm, d->a, "0", "Disk", "RW", true, &d->vbd));
	struct json_object *pbds = t_get(conn, "SR", d->sr, "PBDs");
	d->pbd = strdup(t_first(pbds));
	json_object_put(pbds);
}

static void disk_sr_free(struct disk_sr *d)
{
	free(d->sr);
	free(d->a);
	free(d->vbd);
	free(d->pbd);
}

/* A running VM's disk keeps its SR: forget, destroy and unplug are refused. */
Test(sr, running_vm_keeps_its_sr)
{
	struct disk_sr d;
	disk_sr("busy", &d);
	const char *sr = d.sr, *a = d.a, *vbd = d.vbd, *pbd = d.pbd;
	T_OK(xvm_vm_start(conn, vm, 0));
	T_ERR(xvm_sr_forget(conn, sr), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_sr_destroy(conn, sr), XVM_ERR_VDI_IN_USE, 2, a, vm);
	T_ERR(xvm_pbd_unplug(conn, pbd), XVM_ERR_VDI_IN_USE, 2, a, vm);
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));
	cr_assert_str_eq(t_gets(conn, "VDI", a, "SR"), sr);
	cr_assert(st_exists(st_vdi_file(conn, a)));

	/* halted, the VM lets it go: forgetting the SR drops the VM's drive of it */
	T_OK(xvm_vm_hard_shutdown(conn, vm));
	char file[4500];
	snprintf(file, sizeof(file), "%s", st_vdi_file(conn, a));
	T_OK(xvm_sr_forget(conn, sr));
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "VBD", vbd, &rec), XVM_ERR_HANDLE_INVALID, 2, "VBD", vbd);
	T_ERR(xvm_object_get_record(conn, "PBD", pbd, &rec), XVM_ERR_HANDLE_INVALID, 2, "PBD", pbd);
	cr_assert(st_exists(file), "SR.forget deleted a disk");
	T_OK(xvm_vm_start(conn, vm, 0));
	disk_sr_free(&d);
}

Test(sr, destroy_deletes_the_disks)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/doomed", dir);
	char *sr = st_file_sr(conn, path), *a = st_vdi(conn, sr, "a", 4 * MiB, NULL);
	char *r = st_vdi(conn, sr, "r", 2 * MiB, "raw"), *c = NULL, *vbd = NULL;
	T_OK(xvm_vdi_snapshot(conn, a, &c));
	T_OK(xvm_vbd_create(conn, vm, r, "1", "Disk", "RW", false, &vbd));
	cr_assert_eq(st_count(path, "", ""), 4);
	T_OK(xvm_sr_destroy(conn, sr));
	cr_assert_not(st_exists(path), "the SR's directory is left");
	struct json_object *rec = NULL;
	T_ERR(xvm_object_get_record(conn, "SR", sr, &rec), XVM_ERR_HANDLE_INVALID, 2, "SR", sr);
	const char *gone[] = { a, r, c };
	for (size_t i = 0; i < 3; i++)
		T_ERR(xvm_object_get_record(conn, "VDI", gone[i], &rec), XVM_ERR_HANDLE_INVALID, 2, "VDI", gone[i]);
	T_ERR(xvm_object_get_record(conn, "VBD", vbd, &rec), XVM_ERR_HANDLE_INVALID, 2, "VBD", vbd);
	T_ERR(xvm_sr_destroy(conn, sr), XVM_ERR_HANDLE_INVALID, 2, "SR", sr);
	free(sr);
	free(a);
	free(r);
	free(c);
	free(vbd);
}

Test(sr, pbd_unplug_and_plug)
{
	struct disk_sr d;
	disk_sr("plug", &d);
	const char *sr = d.sr, *a = d.a, *pbd = d.pbd, *path = d.path;
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_DEVICE_ALREADY_ATTACHED, 1, pbd);
	struct json_object *res = NULL;
	char args[512];
	snprintf(args, sizeof(args), "[\"%s\"]", pbd);
	T_ERR(t_call(conn, "PBD.destroy", args, &res), XVM_ERR_DEVICE_ALREADY_ATTACHED, 1, pbd);

	T_OK(xvm_pbd_unplug(conn, pbd));
	cr_assert_not(t_getb(conn, "PBD", pbd, "currently_attached"));
	T_ERR(xvm_pbd_unplug(conn, pbd), XVM_ERR_DEVICE_ALREADY_DETACHED, 1, pbd);
	char *ref = NULL;
	T_ERR(xvm_vdi_create(conn, sr, "x", 1 * MiB, &ref), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	T_ERR(xvm_vdi_clone(conn, a, &ref), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	T_ERR(xvm_sr_scan(conn, sr), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	T_ERR(xvm_vm_start(conn, vm, 0), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	cr_assert_str_eq(t_power(conn, vm), "Halted");

	/* what was added meanwhile shows at the plug, which scans */
	ST_SH("qemu-img create -q -f qcow2 '%s/new.qcow2' 1M", path);
	T_OK(xvm_pbd_plug(conn, pbd));
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));
	struct json_object *vdis = t_get(conn, "SR", sr, "VDIs");
	cr_assert_eq(t_len(vdis), 2);
	json_object_put(vdis);
	T_OK(xvm_vm_start(conn, vm, 0));
	T_OK(xvm_vm_hard_shutdown(conn, vm));

	/* a plug that cannot reach the storage leaves the PBD unplugged */
	T_OK(xvm_pbd_unplug(conn, pbd));
	ST_SH("mv '%s' '%s.moved'", path, path);
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_SR_BACKEND_FAILURE, 2, "location", path);
	cr_assert_not(t_getb(conn, "PBD", pbd, "currently_attached"));
	ST_SH("mv '%s.moved' '%s'", path, path);

	/* an unplugged PBD can go; the SR then waits for a new one */
	T_OK(t_call(conn, "PBD.destroy", args, &res));
	char *again = pbd_create(sr, path);
	T_OK(xvm_pbd_plug(conn, again));
	cr_assert_eq(t_geti(conn, "VDI", a, "virtual_size"), 4 * MiB);
	free(again);
	disk_sr_free(&d);
}

/* The pool's SRs (default_SR, ...) do not outlive the SR. */
static void check_pool_srs(const char *want)
{
	struct json_object *pools = t_all_refs(conn, "pool");
	const char *fields[] = { "default_SR", "suspend_image_SR", "crash_dump_SR" };
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(t_gets(conn, "pool", t_first(pools), fields[i]), want, "pool.%s", fields[i]);
	json_object_put(pools);
}

Test(sr, forgetting_the_default_sr_unsets_it)
{
	check_pool_srs(local_sr);
	T_OK(xvm_sr_forget(conn, local_sr));
	check_pool_srs("OpaqueRef:NULL");
}

Test(sr, destroying_the_default_sr_unsets_it)
{
	T_OK(xvm_sr_destroy(conn, local_sr));
	check_pool_srs("OpaqueRef:NULL");
	cr_assert_not(st_exists(local_dir));
}
