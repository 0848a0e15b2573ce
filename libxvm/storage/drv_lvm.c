/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The lvm SR, as XenServer's: a block device (device_config:device) made
 * one LVM volume group, "VG_XenStorage-<sr-uuid>", tagged xvm_sr=<sr-uuid>;
 * each VDI one raw logical volume, "LV-<vdi-uuid>", tagged xvm_vdi=<uuid>.
 * The tags are the records' source: a scan rebuilds them from `lvs` alone,
 * so SR.introduce with the SR's UUID adopts an existing volume group.
 *
 * No clones: O(1) copy-on-write copies of a logical volume need a thin pool
 * (or snapshots, whose copy-on-write space is fixed when they are made),
 * which this SR does not set up; VDI.copy makes full copies.
 *
 * Activating volumes takes device-mapper: where the kernel has none, what
 * needs it (create, plug, new volumes) fails before touching the device.
 * Reports (lvs, vgs, pvs) only read metadata and run without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "core/util.h"
#include "storage/blockdev.h"
#include "storage/sr_tool.h"

#define VG_PREFIX "VG_XenStorage-"
#define LV_PREFIX "LV-"
#define TAG_SR "xvm_sr="
#define TAG_VDI "xvm_vdi="
#define LVM_TIMEOUT 120
#define DM_CONTROL "/dev/mapper/control"

/* Reports read metadata only: they need no device-mapper, and without it
 * LVM would complain of its absence in every message. */
#define REPORT_ARGS "--config", "global{activation=0}", "--reportformat", "json", "--units", "b", "--nosuffix"

static const char *const required[] = { "device", NULL };

static int lvm_open(struct sr_handle *sr)
{
	int r = blockdev_check_config(sr);
	if (r < 0)
		return r;
	if (asprintf(&sr->root, VG_PREFIX "%s", sr->uuid) < 0) {
		sr->root = NULL;
		return error_oom();
	}
	return 0;
}

static void lvm_close(struct sr_handle *sr)
{
	free(sr->root);
	sr->root = NULL;
}

static bool dm_available(int *err)
{
	int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return false;
	}
	close(fd);
	return true;
}

/* Before anything that activates volumes, so that it fails before it changes anything. */
static int need_dm(struct sr_handle *sr, const char *doing)
{
	int err;
	if (dm_available(&err))
		return 0;
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device-mapper", DM_CONTROL,
		    "SR %s: cannot %s: device-mapper is not available on this host (%s: %s), and LVM needs it "
		    "to activate logical volumes",
		    sr->uuid, doing, DM_CONTROL, strerror(err));
}

static int lvm_run(const char *what, char **out, const char *const *argv)
{
	return sr_tool_run(what, LVM_TIMEOUT, out, argv);
}

/* The rows of kind ("lv", "vg", "pv") in an LVM JSON report; *doc owns them. */
static int report_rows(struct sr_handle *sr, const char *what, const char *const *argv, const char *kind,
		       struct json_object **doc, struct json_object **rows)
{
	char *out = NULL;
	int r = lvm_run(what, &out, argv);
	if (r < 0)
		return r;
	struct json_object *d = json_tokener_parse(out), *v;
	free(out);
	if (d && json_object_object_get_ex(d, "report", &v) && json_object_is_type(v, json_type_array) &&
	    (v = json_object_array_get_idx(v, 0)) && json_object_object_get_ex(v, kind, &v) &&
	    json_object_is_type(v, json_type_array)) {
		*doc = d;
		*rows = v;
		return 0;
	}
	json_object_put(d);
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, argv[0], "SR %s: %s: %s gave no %s report", sr->uuid, what,
		    argv[0], kind);
}

static const char *field(struct json_object *row, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(row, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

static uint64_t size_field(struct json_object *row, const char *k)
{
	int64_t n;
	return parse_int64(field(row, k), &n) == 0 && n > 0 ? (uint64_t)n : 0;
}

/* The value of the tag "<prefix><value>" in an LVM tag list ("a=1,b=2"), copied to buf; false if absent. */
static bool tag_value(const char *tags, const char *prefix, char *buf, size_t size)
{
	size_t plen = strlen(prefix);
	for (const char *t = tags; *t; t += strcspn(t, ","), t += *t == ',') {
		size_t len = strcspn(t, ",");
		if (len >= plen && strncmp(t, prefix, plen) == 0) {
			snprintf(buf, size, "%.*s", (int)(len - plen), t + plen);
			return true;
		}
	}
	return false;
}

static int lvm_scan(struct sr_handle *sr, struct sr_volume **ret, size_t *count)
{
	const char *const argv[] = { "lvs", REPORT_ARGS, "-o", "lv_name,lv_size,lv_tags", sr->root, NULL };
	struct json_object *doc, *rows;
	int r = report_rows(sr, "list the logical volumes", argv, "lv", &doc, &rows);
	if (r < 0)
		return r;
	size_t n = json_object_array_length(rows);
	struct sr_volume *vols = calloc(n ? n : 1, sizeof(*vols));
	if (!vols) {
		json_object_put(doc);
		return error_oom();
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		struct sr_volume *v = &vols[i];
		snprintf(v->location, sizeof(v->location), "%s", field(row, "lv_name"));
		/* A volume someone else made, untagged, is introduced with a new identity. */
		if (!tag_value(field(row, "lv_tags"), TAG_VDI, v->vdi_uuid, sizeof(v->vdi_uuid)) ||
		    !uuid_valid(v->vdi_uuid))
			v->vdi_uuid[0] = 0;
		snprintf(v->format, sizeof(v->format), "raw");
		/* A logical volume is allocated whole. */
		v->virtual_size = v->physical_utilisation = size_field(row, "lv_size");
	}
	json_object_put(doc);
	*ret = vols;
	*count = n;
	return 0;
}

/* The volume named `location`, from a scan: 1 found, 0 not, or an error. */
static int find_lv(struct sr_handle *sr, const char *location, struct sr_volume *ret)
{
	struct sr_volume *vols;
	size_t n;
	int r = lvm_scan(sr, &vols, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (strcmp(vols[i].location, location) == 0) {
			*ret = vols[i];
			r = 1;
		}
	free(vols);
	return r;
}

static int lvm_space(struct sr_handle *sr, struct sr_space *ret)
{
	const char *const argv[] = { "vgs", REPORT_ARGS, "-o", "vg_size,vg_free", sr->root, NULL };
	struct json_object *doc, *rows;
	int r = report_rows(sr, "measure the volume group", argv, "vg", &doc, &rows);
	if (r < 0)
		return r;
	struct json_object *row = json_object_array_get_idx(rows, 0);
	if (row) {
		uint64_t size = size_field(row, "vg_size"), free_bytes = size_field(row, "vg_free");
		ret->physical_size = size;
		ret->physical_utilisation = size > free_bytes ? size - free_bytes : 0;
	} else {
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "measure the volume group", sr->root,
			 "SR %s: there is no volume group %s", sr->uuid, sr->root);
	}
	json_object_put(doc);
	return r;
}

static int lvm_create(struct sr_handle *sr)
{
	const char *device = blockdev_device(sr);
	int r = blockdev_check_unused(sr, device);
	if (r == 0)
		r = need_dm(sr, "create the volume group");
	if (r < 0)
		return r;
	char tag[sizeof(TAG_SR) + XVM_UUID_BUFLEN];
	snprintf(tag, sizeof(tag), TAG_SR "%s", sr->uuid);
	const char *const pvcreate[] = { "pvcreate", "-q", device, NULL };
	const char *const vgcreate[] = { "vgcreate", "-q", "--addtag", tag, sr->root, device, NULL };
	if ((r = lvm_run("make the device an LVM physical volume", NULL, pvcreate)) < 0)
		return r;
	if ((r = lvm_run("create the volume group", NULL, vgcreate)) < 0) {
		void *first = error_stash();
		const char *const pvremove[] = { "pvremove", "-q", device, NULL };
		lvm_run("remove the physical volume", NULL, pvremove);
		r = error_unstash(first);
	}
	return r;
}

/* The device must be a physical volume of this SR's volume group, which carries the SR's tag. */
static int check_own_vg(struct sr_handle *sr, const char *device)
{
	struct blockdev_probe p;
	int r = blockdev_probe(sr, device, &p);
	if (r < 0)
		return r;
	if (strcmp(p.type, "LVM2_member") != 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", device,
			    "SR %s: device %s is no LVM physical volume", sr->uuid, device);
	const char *const argv[] = { "pvs", REPORT_ARGS, "-o", "vg_name,vg_tags", device, NULL };
	struct json_object *doc, *rows;
	if ((r = report_rows(sr, "find the volume group", argv, "pv", &doc, &rows)) < 0)
		return r;
	struct json_object *row = json_object_array_get_idx(rows, 0);
	const char *vg = row ? field(row, "vg_name") : "";
	char owner[XVM_UUID_BUFLEN] = "";
	if (row)
		tag_value(field(row, "vg_tags"), TAG_SR, owner, sizeof(owner));
	if (strcmp(vg, sr->root) != 0)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", device,
			 "SR %s: device %s is not in volume group %s (%s%s)", sr->uuid, device, sr->root,
			 *vg ? "it is in " : "it is in none", vg);
	else if (strcmp(owner, sr->uuid) != 0)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", device,
			 "SR %s: volume group %s lacks the tag " TAG_SR "%s", sr->uuid, vg, sr->uuid);
	json_object_put(doc);
	return r;
}

static int lvm_attach(struct sr_handle *sr)
{
	const char *device = blockdev_device(sr);
	int r = blockdev_check(sr, device, NULL);
	if (r == 0)
		r = check_own_vg(sr, device);
	if (r == 0)
		r = need_dm(sr, "activate the volume group");
	if (r < 0)
		return r;
	const char *const argv[] = { "vgchange", "-q", "-a", "y", sr->root, NULL };
	return lvm_run("activate the volume group", NULL, argv);
}

static int lvm_detach(struct sr_handle *sr)
{
	int err;
	/* Without device-mapper nothing can be active. */
	if (!dm_available(&err))
		return 0;
	const char *const argv[] = { "vgchange", "-q", "-a", "n", sr->root, NULL };
	return lvm_run("deactivate the volume group", NULL, argv);
}

static int lvm_destroy(struct sr_handle *sr)
{
	int r = need_dm(sr, "remove the volume group");
	if (r < 0)
		return r;
	const char *const vgremove[] = { "vgremove", "-q", "-f", sr->root, NULL };
	const char *const pvremove[] = { "pvremove", "-q", blockdev_device(sr), NULL };
	if ((r = lvm_run("remove the volume group", NULL, vgremove)) == 0)
		r = lvm_run("remove the physical volume", NULL, pvremove);
	return r;
}

static void lv_target(struct sr_handle *sr, const char *location, char out[SR_LOCATION_MAX * 2])
{
	snprintf(out, SR_LOCATION_MAX * 2, "%s/%s", sr->root, location);
}

static int lvm_vdi_delete(struct sr_handle *sr, const char *location)
{
	struct sr_volume v;
	int r = need_dm(sr, "remove a logical volume");
	if (r < 0 || (r = find_lv(sr, location, &v)) <= 0)
		return r;
	char target[SR_LOCATION_MAX * 2];
	lv_target(sr, location, target);
	const char *const argv[] = { "lvremove", "-q", "-f", target, NULL };
	return lvm_run("remove the logical volume", NULL, argv);
}

/* A logical volume holds raw data: `format` (qcow2 by default) is not
 * honoured, a qcow2 image in a volume would need room beyond its size. */
static int lvm_vdi_create(struct sr_handle *sr, const char *vdi_uuid, uint64_t size, const char *format,
			  struct sr_volume *ret)
{
	int r = need_dm(sr, "create a logical volume");
	if (r < 0)
		return r;
	char name[SR_LOCATION_MAX], bytes[32], tag[sizeof(TAG_VDI) + XVM_UUID_BUFLEN];
	snprintf(name, sizeof(name), LV_PREFIX "%s", vdi_uuid);
	snprintf(bytes, sizeof(bytes), "%" PRIu64 "b", size);
	snprintf(tag, sizeof(tag), TAG_VDI "%s", vdi_uuid);
	const char *const argv[] = { "lvcreate", "-q", "-y", "-L", bytes, "-n", name, "--addtag", tag, sr->root, NULL };
	if ((r = lvm_run("create the logical volume", NULL, argv)) < 0)
		return r;
	/* Its size is rounded up to whole extents: the scan says what it is. */
	if ((r = find_lv(sr, name, ret)) == 0)
		r = ERR2(XVM_ERR_SR_BACKEND_FAILURE, "create the logical volume", name,
			 "SR %s: the new logical volume %s is not listed", sr->uuid, name);
	if (r < 0) {
		void *first = error_stash();
		lvm_vdi_delete(sr, name);
		return error_unstash(first);
	}
	return 0;
}

static int lvm_vdi_resize(struct sr_handle *sr, const char *location, uint64_t size)
{
	struct sr_volume v;
	int r = need_dm(sr, "resize a logical volume");
	if (r < 0 || (r = find_lv(sr, location, &v)) < 0)
		return r;
	if (r == 0)
		return ERR2(XVM_ERR_VDI_MISSING, sr->uuid, location, "SR %s has no logical volume %s", sr->uuid,
			    location);
	/* Rounded up to whole extents, it may be large enough already. */
	if (v.virtual_size >= size)
		return 0;
	char target[SR_LOCATION_MAX * 2], bytes[32];
	lv_target(sr, location, target);
	snprintf(bytes, sizeof(bytes), "%" PRIu64 "b", size);
	const char *const argv[] = { "lvextend", "-q", "-L", bytes, target, NULL };
	return lvm_run("extend the logical volume", NULL, argv);
}

static int lvm_vdi_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
			char format[SR_FORMAT_MAX])
{
	snprintf(path, XVM_HC_PATH_MAX, "/dev/%s/%s", sr->root, location);
	snprintf(format, SR_FORMAT_MAX, "raw");
	return 0;
}

const struct sr_driver sr_driver_lvm = {
	.type = "lvm",
	.content_type = "user",
	.description = "An LVM volume group on a block device, a raw logical volume per disk",
	.required_keys = required,
	.caps = SR_CAP_VDI_CREATE | SR_CAP_VDI_RESIZE,
	.open = lvm_open,
	.close = lvm_close,
	.create = lvm_create,
	.attach = lvm_attach,
	.detach = lvm_detach,
	.destroy = lvm_destroy,
	.space = lvm_space,
	.scan = lvm_scan,
	.vdi_create = lvm_vdi_create,
	.vdi_delete = lvm_vdi_delete,
	.vdi_resize = lvm_vdi_resize,
	.vdi_path = lvm_vdi_path,
};
