/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iso SR: a directory of CD images (device_config:location), each a
 * read-only VDI named after its file. Images come and go by
 * themselves (a user copies one in): the directory's change time and the
 * images' sizes are the SR's stamp, so the engine rescans it before storage
 * is read, and a new image shows in cd-list without an sr-scan or a restart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error_internal.h"
#include "storage/image_header.h"
#include "storage/imagedir.h"

static const char *const required[] = { "location", NULL };

static int iso_open(struct sr_handle *sr)
{
	struct json_object *v;
	json_object_object_get_ex(sr->device_config, "location", &v);
	return imagedir_local_open(sr, json_object_get_string(v));
}

static int iso_attach(struct sr_handle *sr)
{
	struct stat st;
	const char *why = stat(sr->root, &st) < 0 ? strerror(errno) : !S_ISDIR(st.st_mode) ? "not a directory" : NULL;
	return why ? ERR2(XVM_ERR_SR_BACKEND_FAILURE, "location", sr->root, "ISO library %s: %s", sr->root, why) : 0;
}

static bool iso_name(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcasecmp(name + n - 4, ".iso") == 0;
}

static ssize_t dir_pread(void *ctx, const char *name, void *buf, size_t len, uint64_t off)
{
	struct imagedir *d = ctx;
	return d->ops->pread(d->ctx, name, buf, len, off);
}

static int iso_scan(struct sr_handle *sr, struct sr_volume **ret, size_t *count)
{
	struct imagedir *d = sr->priv;
	char **names;
	size_t n;
	int r = d->ops->list(d->ctx, &names, &n);
	if (r < 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "list", sr->root, "ISO library %s: %s", sr->root, strerror(-r));
	struct sr_volume *vols = calloc(n ? n : 1, sizeof(*vols));
	size_t nv = 0;
	for (size_t i = 0; vols && i < n; i++) {
		struct imagedir_stat st;
		struct sr_volume *v = &vols[nv];
		char label[sizeof(v->label)];
		/* Only real ISO 9660 images: a file named .iso that is none is not offered. */
		if (iso_name(names[i]) && d->ops->stat(d->ctx, names[i], &st) == 0 && st.regular &&
		    iso_label_read(dir_pread, d, names[i], label, sizeof(label)) == 1) {
			snprintf(v->location, sizeof(v->location), "%s", names[i]);
			snprintf(v->format, sizeof(v->format), "iso");
			/* Named as the file: labels repeat ("CDROM") more than file names do. */
			snprintf(v->label, sizeof(v->label), "%s", names[i]);
			v->virtual_size = st.size;
			v->physical_utilisation = st.allocated;
			v->read_only = true;
			nv++;
		}
		free(names[i]);
	}
	free(names);
	if (!vols)
		return error_oom();
	*ret = vols;
	*count = nv;
	return 0;
}

/*
 * The directory's mtime changes when an image comes or goes, not while one
 * is being copied in; a scan during the copy does not offer it (its volume
 * descriptor is not there yet), so the images' total size is in the stamp
 * too: the copy's end changes it.
 */
static int iso_stamp(struct sr_handle *sr, char *buf, size_t size)
{
	struct imagedir *d = sr->priv;
	struct stat st;
	char **names;
	size_t n, images = 0;
	uint64_t bytes = 0;
	if (stat(sr->root, &st) < 0)
		return -errno;
	int r = d->ops->list(d->ctx, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct imagedir_stat is;
		if (iso_name(names[i]) && d->ops->stat(d->ctx, names[i], &is) == 0) {
			images++;
			bytes += is.size;
		}
		free(names[i]);
	}
	free(names);
	snprintf(buf, size, "%lld.%09ld %zu %" PRIu64, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, images, bytes);
	return 0;
}

static int iso_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX], char format[SR_FORMAT_MAX])
{
	struct imagedir *d = sr->priv;
	d->ops->path(d->ctx, location, path);
	snprintf(format, SR_FORMAT_MAX, "raw");
	return 0;
}

const struct sr_driver sr_driver_iso = {
	.type = "iso",
	.content_type = "iso",
	.description = "A directory of ISO images, read-only CDs",
	.required_keys = required,
	.caps = SR_CAP_CHANGES | SR_CAP_LOCAL_SPACE,
	.open = iso_open,
	.close = imagedir_local_close,
	.attach = iso_attach,
	.space = imagedir_space,
	.scan = iso_scan,
	.stamp = iso_stamp,
	.vdi_path = iso_path,
};
