/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ext SR, as XenServer's: a block device (device_config:device)
 * formatted ext4 and mounted on <state_dir>/sr/mnt/<sr-uuid> while plugged,
 * where it is a file SR, a directory of qcow2 or raw images (imagedir).
 *
 * The filesystem's UUID is the SR's: plugging a device checks it holds
 * this SR, so SR.introduce with the SR's UUID adopts an existing device,
 * and never one that holds another SR or another filesystem.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/error_internal.h"
#include "core/util.h"
#include "storage/blockdev.h"
#include "storage/imagedir.h"
#include "storage/sr_tool.h"

#define EXT_MKFS_TIMEOUT 3600
#define EXT_MOUNT_TIMEOUT 120

static const char *const required[] = { "device", NULL };

static int need_mount(struct sr_handle *sr);

static int ext_open(struct sr_handle *sr)
{
	int r = blockdev_check_config(sr);
	if (r < 0)
		return r;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/sr/mnt/%s", sr->e->state_dir, sr->uuid);
	if ((r = imagedir_local_open(sr, dir)) == 0)
		((struct imagedir *)sr->priv)->ready = need_mount;
	return r;
}

/* Whether a filesystem is mounted on the SR's directory: it is on another device than its parent's. */
static bool mounted(struct sr_handle *sr, struct stat *st)
{
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s/..", sr->root);
	struct stat up;
	return stat(sr->root, st) == 0 && stat(parent, &up) == 0 && st->st_dev != up.st_dev;
}

static int ext_create(struct sr_handle *sr)
{
	const char *device = blockdev_device(sr);
	int r = blockdev_check_unused(sr, device);
	if (r < 0)
		return r;
	char label[17];
	snprintf(label, sizeof(label), "xvm-%.8s", sr->uuid);
	const char *const argv[] = { "mkfs.ext4", "-F", "-q", "-L", label, "-U", sr->uuid, device, NULL };
	if ((r = sr_tool_run("format the device", EXT_MKFS_TIMEOUT, NULL, argv)) < 0) {
		/* It held nothing before: what a failed mkfs wrote goes. */
		void *first = error_stash();
		blockdev_wipe(device);
		r = error_unstash(first);
	}
	return r;
}

static int ext_attach(struct sr_handle *sr)
{
	const char *device = blockdev_device(sr);
	struct stat dev, here;
	int r = blockdev_check(sr, device, &dev);
	if (r < 0)
		return r;
	if (mounted(sr, &here)) {
		if (here.st_dev == dev.st_rdev)
			return 0;
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "mount", sr->root,
			    "SR %s: another filesystem than %s's is mounted on %s", sr->uuid, device, sr->root);
	}
	struct blockdev_probe p;
	if ((r = blockdev_probe(sr, device, &p)) < 0)
		return r;
	if (strcmp(p.type, "ext4") != 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", device, "SR %s: device %s holds no ext4 filesystem%s%s%s",
			    sr->uuid, device, *p.type ? " (it holds " : "", p.type, *p.type ? ")" : "");
	if (strcmp(p.uuid, sr->uuid) != 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "device", device,
			    "SR %s: device %s holds the ext SR %s, not this one", sr->uuid, device, p.uuid);
	if (mkdir_p(sr->root) < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "mount", sr->root, "SR %s: cannot make %s: %s", sr->uuid,
			    sr->root, strerror(errno));
	const char *const argv[] = { "mount", "-t", "ext4", device, sr->root, NULL };
	if ((r = sr_tool_run("mount the SR", EXT_MOUNT_TIMEOUT, NULL, argv)) < 0)
		rmdir(sr->root);
	return r;
}

/* Unmounted, the directory goes too: nothing can then write into the state dir by mistake. */
static int ext_detach(struct sr_handle *sr)
{
	struct stat st;
	if (mounted(sr, &st)) {
		const char *const argv[] = { "umount", sr->root, NULL };
		int r = sr_tool_run("unmount the SR", EXT_MOUNT_TIMEOUT, NULL, argv);
		if (r < 0)
			return r;
	}
	if (rmdir(sr->root) < 0 && errno != ENOENT)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "unmount", sr->root, "SR %s: cannot remove %s: %s", sr->uuid,
			    sr->root, strerror(errno));
	return 0;
}

static int ext_destroy(struct sr_handle *sr)
{
	struct stat st;
	int r = 0;
	if (mounted(sr, &st))
		r = imagedir_remove_all(sr);
	if (r == 0)
		r = ext_detach(sr);
	return r < 0 ? r : blockdev_wipe(blockdev_device(sr));
}

/*
 * The engine thinks the SR plugged, but nothing is mounted (the host
 * rebooted): the directory must not be read as an empty SR, whose VDIs
 * would be marked missing, nor written, hiding new images under the mount.
 */
static int need_mount(struct sr_handle *sr)
{
	struct stat st;
	if (mounted(sr, &st))
		return 0;
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "mount", sr->root,
		    "SR %s: its device is not mounted on %s: unplug and plug its PBD", sr->uuid, sr->root);
}

const struct sr_driver sr_driver_ext = {
	.type = "ext",
	.content_type = "user",
	.description = "A block device formatted ext4, holding qcow2 or raw images",
	.required_keys = required,
	.caps = SR_CAP_VDI_CREATE | SR_CAP_VDI_RESIZE | SR_CAP_VDI_CLONE | SR_CAP_LOCAL_SPACE,
	.open = ext_open,
	.close = imagedir_local_close,
	.create = ext_create,
	.attach = ext_attach,
	.detach = ext_detach,
	.destroy = ext_destroy,
	IMAGEDIR_DRIVER_OPS,
};
