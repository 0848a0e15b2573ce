/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The udev SR: the host's physical CD/DVD drives (/dev/sr*), each a
 * read-only VDI to put into a VM's CD drive, named after its disc when one
 * is in. XenServer's "DVD drives". device_config:location is the device
 * directory (default /dev). A disc that goes in or out changes the drive's
 * size, and so the SR's stamp: the engine rescans before storage is read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "storage/image_header.h"
#include "storage/imagedir.h"

static const char *const optional[] = { "location", NULL };

static int udev_open(struct sr_handle *sr)
{
	struct json_object *v;
	const char *dir = json_object_object_get_ex(sr->device_config, "location", &v) ? json_object_get_string(v) : "/dev";
	return imagedir_local_open(sr, dir);
}

static bool drive_name(const char *name)
{
	return strncmp(name, "sr", 2) == 0 && name[2] && strspn(name + 2, "0123456789") == strlen(name + 2);
}

/* The drive's size: 0 without a disc (or when it cannot be opened). */
static uint64_t disc_size(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	off_t end = lseek(fd, 0, SEEK_END);
	close(fd);
	return end > 0 ? (uint64_t)end : 0;
}

static ssize_t dir_pread(void *ctx, const char *name, void *buf, size_t len, uint64_t off)
{
	struct imagedir *d = ctx;
	return d->ops->pread(d->ctx, name, buf, len, off);
}

/* The drives: for each, its path and size. */
static int drives(struct sr_handle *sr, struct sr_volume **ret, size_t *count)
{
	DIR *dir = opendir(sr->root);
	if (!dir)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "location", sr->root, "device directory %s: %s", sr->root,
			    strerror(errno));
	struct sr_volume *vols = NULL;
	size_t n = 0;
	int r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(dir));) {
		char path[XVM_HC_PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", sr->root, de->d_name);
		if (!drive_name(de->d_name) || stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		struct sr_volume *nv = realloc(vols, (n + 1) * sizeof(*vols));
		if (!nv) {
			r = error_oom();
			break;
		}
		vols = nv;
		struct sr_volume *v = &vols[n++];
		memset(v, 0, sizeof(*v));
		snprintf(v->location, sizeof(v->location), "%s", de->d_name);
		snprintf(v->format, sizeof(v->format), "iso");
		v->virtual_size = disc_size(path);
		v->read_only = true;
		char label[sizeof(v->label)];
		if (v->virtual_size && iso_label_read(dir_pread, sr->priv, de->d_name, label, sizeof(label)) == 1)
			snprintf(v->label, sizeof(v->label), "%.64s (%.32s)", label, de->d_name);
		else
			snprintf(v->label, sizeof(v->label), "DVD drive %.32s", de->d_name);
	}
	closedir(dir);
	if (r < 0) {
		free(vols);
		return r;
	}
	*ret = vols;
	*count = n;
	return 0;
}

static int udev_stamp(struct sr_handle *sr, char *buf, size_t size)
{
	struct sr_volume *v;
	size_t n, used = 0;
	int r = drives(sr, &v, &n);
	if (r < 0)
		return r;
	buf[0] = 0;
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s:%llu;", v[i].location,
					 (unsigned long long)v[i].virtual_size);
	free(v);
	return 0;
}

static int udev_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
		     char format[SR_FORMAT_MAX])
{
	snprintf(path, XVM_HC_PATH_MAX, "%s/%s", sr->root, location);
	snprintf(format, SR_FORMAT_MAX, "raw");
	return 0;
}

const struct sr_driver sr_driver_udev = {
	.type = "udev",
	.content_type = "iso",
	.description = "The host's CD/DVD drives",
	.optional_keys = optional,
	.caps = SR_CAP_CHANGES,
	.open = udev_open,
	.close = imagedir_local_close,
	.scan = drives,
	.stamp = udev_stamp,
	.vdi_path = udev_path,
};
