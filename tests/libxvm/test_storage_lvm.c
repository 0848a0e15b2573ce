/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lvm SR on a loop device. These hosts have no device-mapper, so no
 * logical volume can be activated: the tests check that what needs it
 * (SR.create, PBD.plug, new volumes) is refused before anything on the
 * device changes, that devices and configurations are checked first, and
 * that a scan rebuilds the VDIs from the tags of a volume group the test
 * prepares itself (LVM writes metadata without device-mapper when told
 * not to activate: global{activation=0}, lvcreate -an -Zn).
 * On a host with device-mapper the refusals cannot happen: they are skipped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "core/engine.h"
#include "core/util.h"
#include "loopdev.h"
#include "storage/sr_driver.h"
#include "storage/sr_handle.h"

/* LVM commands of the test: metadata only, no activation, no warnings about it. */
#define LVM "LVM_SUPPRESS_FD_WARNINGS=1 "
#define NO_DM "--config 'global{activation=0}'"

/* Each test's own: LVM refuses two volume groups of one name, and the tests run in parallel. */
static char sr_uuid[XVM_UUID_BUFLEN];
static const char vdi1[] = "a1b2c3d4-1111-4a4a-8b8b-0123456789ab";
static const char vdi2[] = "a1b2c3d4-2222-4a4a-8b8b-0123456789ab";

static char *dir, *dev;
static xvm_conn *conn;

static bool dm_present(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void attach_device(void)
{
	uuid_generate_str(sr_uuid);
	dir = t_tmpdir();
	char path[4200];
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	dev = t_loop_attach(path, 64);
}

static void setup(void)
{
	attach_device();
	conn = t_connect(dir);
}

static void detach_device(void)
{
	/* What the test wrote goes with the file; wiping first keeps LVM from seeing a VG vanish. */
	if (dev)
		t_sh("wipefs -a -q '%s'", dev);
	t_loop_detach(dev);
	dev = NULL;
	t_rmdir(dir);
	dir = NULL;
}

static void teardown(void)
{
	conn = xvm_disconnect(conn);
	detach_device();
}

TestSuite(storage_lvm, .init = setup, .fini = teardown);

static const char *vg_name(const char *uuid)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "VG_XenStorage-%s", uuid);
	return buf;
}

/* The volume group of SR `uuid` on dev, with LV-<vdi1> (8 MiB) and
 * LV-<vdi2> (10 MiB, 12 MiB in 4 MiB extents) tagged as the driver
 * tags them, and "scratch" (4 MiB), which someone else made, untagged. */
static void prepare_vg(const char *uuid)
{
	const char *vg = vg_name(uuid);
	cr_assert_eq(t_sh(LVM "pvcreate -q %s '%s'", NO_DM, dev), 0);
	cr_assert_eq(t_sh(LVM "vgcreate -q %s --addtag xvm_sr=%s %s '%s'", NO_DM, uuid, vg, dev), 0);
	cr_assert_eq(t_sh(LVM "lvcreate -q %s -an -Zn -L 8m -n LV-%s --addtag xvm_vdi=%s %s", NO_DM, vdi1, vdi1, vg), 0);
	cr_assert_eq(t_sh(LVM "lvcreate -q %s -an -Zn -L 10m -n LV-%s --addtag xvm_vdi=%s %s", NO_DM, vdi2, vdi2, vg), 0);
	cr_assert_eq(t_sh(LVM "lvcreate -q %s -an -Zn -L 4m -n scratch %s", NO_DM, vg), 0);
}

/* The names of the logical volumes on dev's VG, sorted, one line each (free()). */
static char *lv_names(const char *uuid)
{
	return t_sh_out(LVM "lvs %s --noheadings -o lv_name %s 2>/dev/null | tr -d ' ' | sort", NO_DM, vg_name(uuid));
}

static size_t sr_count(void)
{
	struct json_object *srs = t_all_refs(conn, "SR");
	size_t n = t_len(srs);
	json_object_put(srs);
	return n;
}

Test(storage_lvm, create_without_device_mapper_changes_nothing)
{
	if (dm_present())
		cr_skip_test("device-mapper is available: SR.create is not refused here");
	T_ERR(t_sr_create_on(conn, "lvm", dev, NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", "/dev/mapper/control");
	cr_assert(strstr(t_errmsg(), "device-mapper is not available"), "%s", t_errmsg());
	cr_assert_eq(t_sh("blkid -p '%s'", dev), 2, "the refused SR.create wrote to the device");
	cr_assert_neq(t_sh(LVM "pvs %s '%s'", NO_DM, dev), 0, "the device became a PV");
	cr_assert_eq(sr_count(), 1, "only Local storage");
}

Test(storage_lvm, devices_and_configurations_are_checked_first)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	t_check_bad_device(conn, "lvm", "/dev/xvm-no-such-device", "No such file");
	t_check_bad_device(conn, "lvm", path, "not a block device");
	t_check_bad_device(conn, "lvm", "loop0", "absolute");
	T_ERR(t_sr_create(conn, "lvm", "{}", NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config", "device");
	char dc[512];
	snprintf(dc, sizeof(dc), "{\"device\": \"%s\", \"vg\": \"x\"}", dev);
	T_ERR(t_sr_create(conn, "lvm", dc, NULL), XVM_ERR_SR_BACKEND_FAILURE, 2, "device_config", "vg");

	/* A filesystem, or another volume group, is data SR.create would destroy. */
	cr_assert_eq(t_sh("mkfs.ext4 -q -F '%s'", dev), 0);
	T_ERR(t_sr_create_on(conn, "lvm", dev, NULL), XVM_ERR_SR_DEVICE_IN_USE, 1, dev);
	cr_assert(strstr(t_errmsg(), "ext4"), "%s", t_errmsg());
	cr_assert_eq(t_sh("wipefs -a -q '%s'", dev), 0);
	prepare_vg(sr_uuid);
	T_ERR(t_sr_create_on(conn, "lvm", dev, NULL), XVM_ERR_SR_DEVICE_IN_USE, 1, dev);
	cr_assert(strstr(t_errmsg(), "LVM2_member"), "%s", t_errmsg());
	char *lvs = lv_names(sr_uuid);
	cr_assert(strstr(lvs, vdi1) && strstr(lvs, vdi2) && strstr(lvs, "scratch"), "the VG changed: %s", lvs);
	free(lvs);
	cr_assert_eq(sr_count(), 1);
}

Test(storage_lvm, plug_checks_the_vg_then_needs_device_mapper)
{
	if (dm_present())
		cr_skip_test("device-mapper is available: PBD.plug is not refused here");
	char *sr = NULL, *pbd = t_sr_introduce(conn, "lvm", sr_uuid, dev, &sr);
	/* No PV yet. */
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", dev);
	cr_assert(strstr(t_errmsg(), "no LVM physical volume"), "%s", t_errmsg());

	prepare_vg(sr_uuid);
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", "/dev/mapper/control");
	cr_assert(strstr(t_errmsg(), "activate the volume group"), "%s", t_errmsg());
	cr_assert(!t_getb(conn, "PBD", pbd, "currently_attached"));
	T_ERR(xvm_sr_scan(conn, sr), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	T_ERR(xvm_sr_destroy(conn, sr), XVM_ERR_SR_HAS_NO_PBDS, 1, sr);
	T_OK(xvm_sr_forget(conn, sr));
	char *lvs = lv_names(sr_uuid), *want = NULL;
	cr_assert(asprintf(&want, "LV-%s\nLV-%s\nscratch", vdi1, vdi2) > 0);
	cr_assert_str_eq(lvs, want, "the refused plug or the forget changed the VG");

	/* Another SR's identity does not fit the volume group. */
	char *other = NULL, *other_pbd = t_sr_introduce(conn, "lvm", "0e7c4cbb-6a77-4d7c-9b3c-2a5e0e0a1b2c", dev, &other);
	T_ERR(xvm_pbd_plug(conn, other_pbd), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", dev);
	cr_assert(strstr(t_errmsg(), vg_name(sr_uuid)), "the message names the VG the device is in: %s", t_errmsg());
	free(lvs);
	free(want);
	free(other);
	free(other_pbd);
	free(pbd);
	free(sr);
}

Test(storage_lvm, a_vg_without_the_sr_tag_is_not_adopted)
{
	if (dm_present())
		cr_skip_test("device-mapper is available");
	prepare_vg(sr_uuid);
	cr_assert_eq(t_sh(LVM "vgchange -q %s --deltag xvm_sr=%s %s", NO_DM, sr_uuid, vg_name(sr_uuid)), 0);
	char *sr = NULL, *pbd = t_sr_introduce(conn, "lvm", sr_uuid, dev, &sr);
	T_ERR(xvm_pbd_plug(conn, pbd), XVM_ERR_SR_BACKEND_FAILURE, 2, "device", dev);
	cr_assert(strstr(t_errmsg(), "lacks the tag xvm_sr="), "%s", t_errmsg());
	free(pbd);
	free(sr);
}

/* --- the driver itself, on a handle: what needs no activation ---------------- */

static struct engine *engine;
static struct sr_handle sr;

static void driver_setup(void)
{
	attach_device();
	T_OK(engine_open("sim", dir, &engine));
	struct json_object *dc = json_object_new_object();
	json_object_object_add(dc, "device", json_object_new_string(dev));
	T_OK(sr_handle_open_config(engine, "OpaqueRef:test", sr_uuid, sr_driver_lookup("lvm"), dc, NULL, &sr));
	json_object_put(dc);
}

static void driver_teardown(void)
{
	sr_handle_close(&sr);
	if (engine)
		engine_close(engine);
	engine = NULL;
	detach_device();
}

TestSuite(lvm_driver, .init = driver_setup, .fini = driver_teardown);

static const struct sr_volume *volume(const struct sr_volume *v, size_t n, const char *location)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].location, location) == 0)
			return &v[i];
	cr_assert_fail("no volume %s", location);
	return NULL;
}

Test(lvm_driver, scan_rebuilds_the_volumes_from_the_tags)
{
	prepare_vg(sr_uuid);
	struct sr_volume *vols = NULL;
	size_t n = 0;
	T_OK(sr.drv->scan(&sr, &vols, &n));
	cr_assert_eq(n, 3);
	char name1[64], name2[64];
	snprintf(name1, sizeof(name1), "LV-%s", vdi1);
	snprintf(name2, sizeof(name2), "LV-%s", vdi2);
	const struct sr_volume *a = volume(vols, n, name1), *b = volume(vols, n, name2), *c = volume(vols, n, "scratch");
	cr_assert_str_eq(a->vdi_uuid, vdi1);
	cr_assert_str_eq(b->vdi_uuid, vdi2);
	cr_assert_str_eq(c->vdi_uuid, "", "an untagged volume has no identity yet");
	cr_assert_eq(a->virtual_size, 8u << 20);
	cr_assert_eq(b->virtual_size, 12u << 20, "10 MiB in 4 MiB extents");
	cr_assert_eq(c->virtual_size, 4u << 20);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(vols[i].format, "raw");
		cr_assert_eq(vols[i].physical_utilisation, vols[i].virtual_size);
		cr_assert(!vols[i].read_only);
	}

	struct sr_space space;
	T_OK(sr.drv->space(&sr, &space));
	char *vg_size = t_sh_out(LVM "vgs %s --noheadings --units b --nosuffix -o vg_size %s 2>/dev/null | tr -d ' '", NO_DM,
				 vg_name(sr_uuid));
	cr_assert_eq(space.physical_size, strtoull(vg_size, NULL, 10));
	cr_assert_eq(space.physical_utilisation, 24u << 20);

	char path[XVM_HC_PATH_MAX], format[SR_FORMAT_MAX];
	T_OK(sr.drv->vdi_path(&sr, name1, path, format));
	char want[256];
	snprintf(want, sizeof(want), "/dev/%s/%s", vg_name(sr_uuid), name1);
	cr_assert_str_eq(path, want);
	cr_assert_str_eq(format, "raw");
	cr_assert(!(sr.drv->caps & SR_CAP_VDI_CLONE), "no O(1) clones without thin pools");
	free(vg_size);
	free(vols);
}

Test(lvm_driver, scan_of_a_missing_vg_fails)
{
	struct sr_volume *vols = NULL;
	size_t n = 0;
	T_ERR(sr.drv->scan(&sr, &vols, &n), XVM_ERR_SR_BACKEND_FAILURE, 2, "list the logical volumes", NULL);
	/* LVM's own words, without its warnings. */
	cr_assert(strstr(t_errmsg(), vg_name(sr_uuid)) && strstr(t_errmsg(), "not found"), "%s", t_errmsg());
	cr_assert(!strstr(t_errmsg(), "WARNING") && !strstr(t_errmsg(), "leaked"), "%s", t_errmsg());
	struct sr_space space;
	T_ERR(sr.drv->space(&sr, &space), XVM_ERR_SR_BACKEND_FAILURE, 2, "measure the volume group", NULL);
}

Test(lvm_driver, volume_changes_need_device_mapper)
{
	if (dm_present())
		cr_skip_test("device-mapper is available");
	prepare_vg(sr_uuid);
	char *before = lv_names(sr_uuid), name1[64];
	snprintf(name1, sizeof(name1), "LV-%s", vdi1);
	struct sr_volume v;
	T_ERR(sr.drv->vdi_create(&sr, "b0b0b0b0-3333-4a4a-8b8b-0123456789ab", 4 << 20, "raw", &v),
	      XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", "/dev/mapper/control");
	T_ERR(sr.drv->vdi_delete(&sr, name1), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", NULL);
	T_ERR(sr.drv->vdi_resize(&sr, name1, 64 << 20), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", NULL);
	T_ERR(sr.drv->attach(&sr), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", NULL);
	T_ERR(sr.drv->destroy(&sr), XVM_ERR_SR_BACKEND_FAILURE, 2, "device-mapper", NULL);
	/* Nothing can be active without device-mapper: there is nothing to deactivate. */
	T_OK(sr.drv->detach(&sr));
	char *after = lv_names(sr_uuid);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
}
