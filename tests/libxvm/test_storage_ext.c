/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ext SR on a loop device, through the public API on sim:///DIR: the
 * device is formatted and mounted under the state dir, VDIs are image files
 * in the mount, and unplug/plug, forget/introduce and destroy do to the
 * device what XenServer's ext SR does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "loopdev.h"

static char *dir, *dev;
static xvm_conn *conn;

static void setup(void)
{
	dir = t_tmpdir();
	conn = t_connect(dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	dev = t_loop_attach(path, 64);
}

static void teardown(void)
{
	conn = xvm_disconnect(conn);
	t_umount_under(dir);
	t_loop_detach(dev);
	dev = NULL;
	t_rmdir(dir);
	dir = NULL;
}

TestSuite(storage_ext, .init = setup, .fini = teardown);

/* A new ext SR on dev: its reference (free()). */
static char *new_sr(void)
{
	char *ref = NULL;
	T_OK(t_sr_create_on(conn, "ext", dev, &ref));
	return ref;
}

/* The SR's mount point (static buffer). */
static const char *mnt_of(const char *sr)
{
	static char buf[4200];
	snprintf(buf, sizeof(buf), "%s/sr/mnt/%s", dir, t_gets(conn, "SR", sr, "uuid"));
	return buf;
}

/* The path of a VDI's image in the mount (static buffer). */
static const char *image_of(const char *sr, const char *vdi)
{
	static char buf[4400];
	snprintf(buf, sizeof(buf), "%s/%s", mnt_of(sr), t_gets(conn, "VDI", vdi, "location"));
	return buf;
}

static char *pbd_of(const char *sr)
{
	struct json_object *pbds = t_get(conn, "SR", sr, "PBDs");
	cr_assert_eq(t_len(pbds), 1);
	char *pbd = strdup(t_first(pbds));
	json_object_put(pbds);
	return pbd;
}

static char *new_vdi(const char *sr, const char *name, int64_t size)
{
	char *vdi = NULL;
	T_OK(xvm_vdi_create(conn, sr, name, size, &vdi));
	return vdi;
}

/* blkid's value of a tag on dev (free()); "" for none. */
static char *blkid_tag(const char *tag)
{
	return t_sh_out("blkid -p -s %s -o value '%s' || true", tag, dev);
}

Test(storage_ext, create_formats_the_device_and_mounts_it)
{
	char *sr = new_sr();
	const char *uuid = t_gets(conn, "SR", sr, "uuid");
	cr_assert(t_mounted(mnt_of(sr)), "%s is not mounted", mnt_of(sr));
	char *type = blkid_tag("TYPE"), *fs_uuid = blkid_tag("UUID"), *label = blkid_tag("LABEL");
	char want_label[32];
	snprintf(want_label, sizeof(want_label), "xvm-%.8s", uuid);
	cr_assert_str_eq(type, "ext4");
	cr_assert_str_eq(fs_uuid, uuid);
	cr_assert_str_eq(label, want_label);
	char *source = t_sh_out("findmnt -n -o SOURCE '%s'", mnt_of(sr));
	cr_assert_str_eq(source, dev);
	cr_assert_str_eq(t_gets(conn, "SR", sr, "type"), "ext");
	cr_assert_str_eq(t_gets(conn, "SR", sr, "content_type"), "user");
	char *pbd = pbd_of(sr);
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));
	int64_t size = t_geti(conn, "SR", sr, "physical_size");
	cr_assert(size > 40 << 20 && size <= 64 << 20, "physical_size %lld", (long long)size);
	cr_assert_gt(t_geti(conn, "SR", sr, "physical_utilisation"), 0);
	struct json_object *vdis = t_get(conn, "SR", sr, "VDIs");
	cr_assert_eq(t_len(vdis), 0, "lost+found is no VDI");
	json_object_put(vdis);
	free(type);
	free(fs_uuid);
	free(label);
	free(source);
	free(pbd);
	free(sr);
}

Test(storage_ext, vdis_are_images_in_the_mount)
{
	char *sr = new_sr();
	char *a = new_vdi(sr, "a", 8 << 20);
	char image_a[4400];
	snprintf(image_a, sizeof(image_a), "%s", image_of(sr, a));
	char *want = NULL;
	cr_assert(asprintf(&want, "%s/%s.qcow2", mnt_of(sr), t_gets(conn, "VDI", a, "uuid")) > 0);
	cr_assert_str_eq(image_a, want);
	cr_assert(t_exists(image_a));
	cr_assert_eq(t_geti(conn, "SR", sr, "virtual_allocation"), 8 << 20);

	char *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	cr_assert(t_exists(image_of(sr, b)));
	cr_assert_eq(t_sh("ls '%s'/base-*.qcow2", mnt_of(sr)), 0, "the clone has no shared base");
	cr_assert_eq(t_geti(conn, "VDI", b, "virtual_size"), 8 << 20);

	T_OK(xvm_vdi_resize(conn, a, 16 << 20));
	char *info = t_sh_out("qemu-img info -f qcow2 --output=json '%s' | grep '\"virtual-size\"'", image_a);
	cr_assert(strstr(info, "16777216"), "qemu-img info: %s", info);

	char image_b[4400];
	snprintf(image_b, sizeof(image_b), "%s", image_of(sr, b));
	T_OK(xvm_vdi_destroy(conn, b));
	cr_assert(!t_exists(image_b));
	T_OK(xvm_vdi_destroy(conn, a));
	cr_assert(!t_exists(image_a));
	cr_assert_neq(t_sh("ls '%s'/base-*.qcow2", mnt_of(sr)), 0, "an unused base is left");
	free(info);
	free(want);
	free(a);
	free(b);
	free(sr);
}

Test(storage_ext, unplug_unmounts_and_plug_remounts_with_the_vdis)
{
	char *sr = new_sr(), *pbd = pbd_of(sr);
	char *a = new_vdi(sr, "a", 4 << 20), *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s", mnt_of(sr));

	T_OK(xvm_pbd_unplug(conn, pbd));
	cr_assert(!t_mounted(mnt));
	cr_assert(!t_exists(mnt), "the mount point is left behind");
	cr_assert(!t_getb(conn, "PBD", pbd, "currently_attached"));
	T_ERR(xvm_vdi_create(conn, sr, "c", 1 << 20, &(char *){ NULL }), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);

	T_OK(xvm_pbd_plug(conn, pbd));
	cr_assert(t_mounted(mnt));
	cr_assert(t_getb(conn, "PBD", pbd, "currently_attached"));
	cr_assert(t_exists(image_of(sr, a)));
	cr_assert(t_exists(image_of(sr, b)));
	T_OK(xvm_sr_scan(conn, sr));
	struct json_object *vdis = t_get(conn, "SR", sr, "VDIs");
	cr_assert_eq(t_len(vdis), 2);
	json_object_put(vdis);
	cr_assert(!t_getb(conn, "VDI", a, "missing"));
	cr_assert(!t_getb(conn, "VDI", b, "missing"));
	/* Plugged twice is refused by the engine; the mount stays one. */
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_DEVICE_ALREADY_ATTACHED, 1, pbd);
	char *count = t_sh_out("findmnt -n -o TARGET '%s' | wc -l", mnt);
	cr_assert_str_eq(count, "1");
	free(count);
	free(a);
	free(b);
	free(pbd);
	free(sr);
}

/* As after a reboot: the PBD says plugged, the mount is gone, its directory is left. */
Test(storage_ext, a_plugged_sr_whose_mount_is_gone_is_not_used)
{
	char *sr = new_sr(), *pbd = pbd_of(sr);
	char *a = new_vdi(sr, "a", 4 << 20);
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s", mnt_of(sr));
	cr_assert_eq(t_sh("umount '%s'", mnt), 0);
	cr_assert(t_exists(mnt));
	T_ERR(xvm_sr_scan(conn, sr), XVM_ERR_SR_BACKEND_FAILURE, 2, "mount", mnt);
	cr_assert(!t_getb(conn, "VDI", a, "missing"), "an unmounted SR was scanned as empty");
	T_ERR(xvm_vdi_create(conn, sr, "b", 1 << 20, &(char *){ NULL }), XVM_ERR_SR_BACKEND_FAILURE, 2, "mount", mnt);
	T_ERR(xvm_vdi_clone(conn, a, &(char *){ NULL }), XVM_ERR_SR_BACKEND_FAILURE, 2, "mount", mnt);
	T_ERR(xvm_vdi_destroy(conn, a), XVM_ERR_SR_BACKEND_FAILURE, 2, "mount", mnt);
	cr_assert_eq(t_sh("[ -z \"$(ls -A '%s')\" ]", mnt), 0, "something was written into the unmounted directory");
	T_OK(xvm_pbd_unplug(conn, pbd));
	T_OK(xvm_pbd_plug(conn, pbd));
	cr_assert(t_exists(image_of(sr, a)));
	free(a);
	free(pbd);
	free(sr);
}

/* SR.introduce of uuid, a PBD on device and PBD.plug: the result of the plug; *sr its SR. */
static int introduce_and_plug(const char *uuid, const char *device, char **sr)
{
	char *pbd = t_sr_introduce(conn, "ext", uuid, device, sr);
	int r = xvm_pbd_plug(conn, pbd);
	free(pbd);
	return r;
}

Test(storage_ext, forget_then_introduce_adopts_the_device)
{
	char *sr = new_sr();
	char uuid[64];
	snprintf(uuid, sizeof(uuid), "%s", t_gets(conn, "SR", sr, "uuid"));
	char *a = new_vdi(sr, "a", 4 << 20), *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	char a_uuid[64], b_uuid[64], mnt[4200];
	snprintf(a_uuid, sizeof(a_uuid), "%s", t_gets(conn, "VDI", a, "uuid"));
	snprintf(b_uuid, sizeof(b_uuid), "%s", t_gets(conn, "VDI", b, "uuid"));
	snprintf(mnt, sizeof(mnt), "%s", mnt_of(sr));

	T_OK(xvm_sr_forget(conn, sr));
	cr_assert(!t_mounted(mnt), "a forgotten SR stays mounted");
	char *fs_uuid = blkid_tag("UUID");
	cr_assert_str_eq(fs_uuid, uuid, "forget changed the device");

	/* Another SR's identity does not fit the device. */
	char other[64] = "0e7c4cbb-6a77-4d7c-9b3c-2a5e0e0a1b2c", *wrong = NULL;
	T_ERR(introduce_and_plug(other, dev, &wrong), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", dev);
	cr_assert(strstr(t_errmsg(), uuid), "the message names the SR the device holds: %s", t_errmsg());
	T_OK(xvm_sr_forget(conn, wrong));

	char *again = NULL;
	T_OK(introduce_and_plug(uuid, dev, &again));
	cr_assert(t_mounted(mnt));
	struct json_object *vdis = t_get(conn, "SR", again, "VDIs");
	cr_assert_eq(t_len(vdis), 2);
	char *found_a = NULL, *found_b = NULL;
	T_OK(xvm_object_get_by_uuid(conn, "VDI", a_uuid, &found_a));
	T_OK(xvm_object_get_by_uuid(conn, "VDI", b_uuid, &found_b));
	cr_assert_eq(t_geti(conn, "VDI", found_a, "virtual_size"), 4 << 20);
	cr_assert_eq(t_geti(conn, "VDI", found_b, "virtual_size"), 4 << 20);
	cr_assert_str_eq(t_gets(conn, "VDI", found_a, "SR"), again);
	json_object_put(vdis);
	free(fs_uuid);
	free(found_a);
	free(found_b);
	free(again);
	free(wrong);
	free(a);
	free(b);
	free(sr);
}

Test(storage_ext, destroy_unmounts_and_wipes_the_device)
{
	char *sr = new_sr();
	char *a = new_vdi(sr, "a", 4 << 20), *b = NULL;
	T_OK(xvm_vdi_clone(conn, a, &b));
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s", mnt_of(sr));
	T_OK(xvm_sr_destroy(conn, sr));
	cr_assert(!t_mounted(mnt));
	cr_assert(!t_exists(mnt));
	cr_assert_eq(t_sh("blkid -p '%s'", dev), 2, "a signature is left on %s", dev);
	char *ref = NULL;
	T_ERR(xvm_object_get_by_uuid(conn, "VDI", "x", &ref), XVM_ERR_UUID_INVALID, -1);
	struct json_object *srs = t_all_refs(conn, "SR");
	cr_assert(!t_has(srs, sr));
	json_object_put(srs);
	/* The wiped device takes a new SR. */
	free(new_sr());
	free(a);
	free(b);
	free(sr);
}

Test(storage_ext, bad_devices_are_refused)
{
	char path[4200];
	t_check_bad_device(conn, "ext", "/dev/xvm-no-such-device", "No such file");
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	t_check_bad_device(conn, "ext", path, "not a block device");
	t_check_bad_device(conn, "ext", "loop0", "absolute");
	T_ERR(t_sr_create(conn, "ext", "{}", NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config",
	      "device");
	char dc[512];
	snprintf(dc, sizeof(dc), "{\"device\": \"%s\", \"location\": \"/tmp\"}", dev);
	T_ERR(t_sr_create(conn, "ext", dc, NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config",
	      "location");
	cr_assert_eq(t_sh("blkid -p '%s'", dev), 2, "a refused SR.create wrote to the device");
	snprintf(path, sizeof(path), "%s/sr/mnt", dir);
	cr_assert_eq(t_sh("[ -z \"$(ls -A '%s' 2>/dev/null)\" ]", path), 0, "a refused SR.create left a mount point");
	struct json_object *srs = t_all_refs(conn, "SR");
	cr_assert_eq(t_len(srs), 1, "only Local storage");
	json_object_put(srs);
}

Test(storage_ext, a_device_holding_a_filesystem_is_in_use)
{
	cr_assert_eq(t_sh("mkfs.ext4 -q -F '%s'", dev), 0);
	char *before = blkid_tag("UUID");
	T_ERR(t_sr_create_on(conn, "ext", dev, NULL), XVM_ERR_SR_DEVICE_IN_USE, 1, dev);
	cr_assert(strstr(t_errmsg(), "ext4"), "%s", t_errmsg());
	char *after = blkid_tag("UUID");
	cr_assert_str_eq(after, before, "the refused device was formatted");

	/* Mounted, it is busy too. */
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s/elsewhere", dir);
	cr_assert_eq(t_sh("mkdir '%s' && mount -t ext4 '%s' '%s'", mnt, dev, mnt), 0);
	T_ERR(t_sr_create_on(conn, "ext", dev, NULL), XVM_ERR_SR_DEVICE_IN_USE, 1, dev);
	cr_assert(strstr(t_errmsg(), "in use"), "%s", t_errmsg());
	cr_assert(t_mounted(mnt));
	free(before);
	free(after);
}

Test(storage_ext, plug_refuses_a_device_without_the_sr)
{
	char *sr = NULL, uuid[64] = "5b0f3c52-51e4-4f3e-8f49-3f7f2b7a9c11";
	T_ERR(introduce_and_plug(uuid, dev, &sr), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", dev);
	cr_assert(strstr(t_errmsg(), "no ext4 filesystem"), "%s", t_errmsg());
	char mnt[4200];
	snprintf(mnt, sizeof(mnt), "%s/sr/mnt/%s", dir, uuid);
	cr_assert(!t_exists(mnt));
	free(sr);
}
