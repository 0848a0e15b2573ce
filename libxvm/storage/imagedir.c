/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "storage/imagedir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error_internal.h"
#include "storage/image_header.h"
#include "storage/qemu_img.h"

#define BASE_PREFIX "base-"
#define TMP_SUFFIX ".tmp"

static struct imagedir *dir_of(struct sr_handle *sr)
{
	return sr->priv;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* "qcow2" or "raw" from an image's name; NULL for a file that is no image of ours. */
static const char *format_of(const char *name)
{
	return ends_with(name, ".qcow2") ? "qcow2" : ends_with(name, ".raw") ? "raw" : NULL;
}

/* Whether name is "<prefix><uuid>.<format>"; the UUID goes to uuid (may be NULL). */
static bool uuid_named(const char *name, const char *prefix, char *uuid)
{
	const char *f = format_of(name);
	size_t pre = strlen(prefix), len = XVM_UUID_BUFLEN - 1;
	char u[XVM_UUID_BUFLEN];
	if (!f || strncmp(name, prefix, pre) != 0 || strlen(name) != pre + len + 1 + strlen(f))
		return false;
	memcpy(u, name + pre, len);
	u[len] = 0;
	if (!uuid_valid(u))
		return false;
	if (uuid)
		memcpy(uuid, u, sizeof(u));
	return true;
}

/* A base made by a clone; a user's own "base-*.qcow2" is an image like the others. */
static bool is_base(const char *name)
{
	return uuid_named(name, BASE_PREFIX, NULL);
}

/* What create_image leaves when it stops midway: "<image name>.tmp". */
static bool is_tmp(const char *name)
{
	return ends_with(name, ".qcow2" TMP_SUFFIX) || ends_with(name, ".raw" TMP_SUFFIX);
}

static int backend_failure(struct sr_handle *sr, const char *what, const char *name, int err)
{
	return ERR2(XVM_ERR_SR_BACKEND_FAILURE, what, strerror(-err), "SR %s: %s %s: %s", sr->uuid, what, name,
		    strerror(-err));
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int list(struct sr_handle *sr, char ***names, size_t *n)
{
	struct imagedir *d = dir_of(sr);
	int r = d->ops->list(d->ctx, names, n);
	return r < 0 ? backend_failure(sr, "list", "the directory", r) : 0;
}

static ssize_t dir_pread(void *ctx, const char *name, void *buf, size_t len, uint64_t off)
{
	struct imagedir *d = ctx;
	return d->ops->pread(d->ctx, name, buf, len, off);
}

/* The image's size (the guest's view) and, for qcow2, its backing file. */
static int image_size(struct sr_handle *sr, const char *name, uint64_t *size, char backing[256])
{
	struct imagedir *d = dir_of(sr);
	backing[0] = 0;
	if (strcmp(format_of(name), "qcow2") == 0) {
		struct qcow2_header h;
		int r = qcow2_header_read(dir_pread, d, name, &h);
		if (r < 0)
			return backend_failure(sr, "read", name, r);
		if (r == 0)
			return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "read", name, "SR %s: %s is not a qcow2 image",
				    sr->uuid, name);
		*size = h.virtual_size;
		snprintf(backing, 256, "%s", h.backing);
		return 0;
	}
	struct imagedir_stat st;
	int r = d->ops->stat(d->ctx, name, &st);
	if (r < 0)
		return backend_failure(sr, "stat", name, r);
	*size = st.size;
	return 0;
}

/* Whether `name` is some qcow2 image's backing file; names[]: the directory. */
static bool is_backing(char **backings, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (backings[k] && strcmp(backings[k], name) == 0)
			return true;
	return false;
}

/* Deletes bases no image uses any more, and what crashed operations left. */
static int collect_garbage(struct sr_handle *sr)
{
	struct imagedir *d = dir_of(sr);
	for (;;) {
		char **names;
		size_t n;
		int r = list(sr, &names, &n);
		if (r < 0)
			return r;
		char **backings = calloc(n ? n : 1, sizeof(*backings));
		if (!backings) {
			free_names(names, n);
			return error_oom();
		}
		for (size_t k = 0; k < n; k++) {
			char backing[256];
			uint64_t size;
			if (format_of(names[k]) && strcmp(format_of(names[k]), "qcow2") == 0 &&
			    image_size(sr, names[k], &size, backing) == 0 && *backing)
				backings[k] = strdup(backing);
			error_clear();
		}
		bool removed = false;
		for (size_t i = 0; i < n; i++) {
			if ((is_tmp(names[i]) || (is_base(names[i]) && !is_backing(backings, n, names[i]))) &&
			    d->ops->unlink(d->ctx, names[i]) == 0)
				removed = true;
		}
		free_names(backings, n);
		free_names(names, n);
		/* Removing a base may free the one below it. */
		if (!removed)
			return 0;
	}
}

int imagedir_space(struct sr_handle *sr, struct sr_space *ret)
{
	struct imagedir *d = dir_of(sr);
	int r = d->ops->space(d->ctx, ret);
	return r < 0 ? backend_failure(sr, "measure", "the directory", r) : 0;
}

/* A leaf's volume: "<uuid>.qcow2" names its VDI; other image names are introduced with a new identity. */
static int leaf_volume(struct sr_handle *sr, const char *name, struct sr_volume *v)
{
	struct imagedir *d = dir_of(sr);
	memset(v, 0, sizeof(*v));
	snprintf(v->location, sizeof(v->location), "%s", name);
	snprintf(v->format, sizeof(v->format), "%s", format_of(name));
	uuid_named(name, "", v->vdi_uuid);
	char backing[256];
	int r = image_size(sr, name, &v->virtual_size, backing);
	if (r < 0)
		return r;
	struct imagedir_stat st;
	if ((r = d->ops->stat(d->ctx, name, &st)) < 0)
		return backend_failure(sr, "stat", name, r);
	v->physical_utilisation = st.allocated;
	return 0;
}

int imagedir_scan(struct sr_handle *sr, struct sr_volume **ret, size_t *count)
{
	int r = collect_garbage(sr);
	char **names;
	size_t n;
	if (r < 0 || (r = list(sr, &names, &n)) < 0)
		return r;
	struct sr_volume *vols = calloc(n ? n : 1, sizeof(*vols));
	size_t nv = 0;
	if (!vols)
		r = error_oom();
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!format_of(names[i]) || is_base(names[i]))
			continue;
		/* An unreadable image is left out, as if missing, not a failed scan. */
		if (leaf_volume(sr, names[i], &vols[nv]) == 0)
			nv++;
		error_clear();
	}
	free_names(names, n);
	if (r < 0) {
		free(vols);
		return r;
	}
	*ret = vols;
	*count = nv;
	return 0;
}

static void leaf_name(char out[SR_LOCATION_MAX], const char *uuid, const char *format)
{
	snprintf(out, SR_LOCATION_MAX, "%s.%s", uuid, format);
}

/* Creates `name` through a temporary file, so that the name appears whole or not at all. */
static int create_image(struct sr_handle *sr, const char *name, const char *format, uint64_t size,
			const char *backing, const char *backing_format)
{
	struct imagedir *d = dir_of(sr);
	char tmp[SR_LOCATION_MAX + 8], tmp_path[XVM_HC_PATH_MAX], bytes[24];
	snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, name);
	d->ops->path(d->ctx, tmp, tmp_path);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, size);
	const char *args[16];
	size_t n = 0;
	args[n++] = "create";
	args[n++] = "-q";
	args[n++] = "-f";
	args[n++] = format;
	if (backing) {
		/* -u: the backing file's size is known; opening it would clash
		 * with the lock of a guest that runs on it. */
		args[n++] = "-u";
		args[n++] = "-b";
		args[n++] = backing;
		args[n++] = "-F";
		args[n++] = backing_format;
	} else if (strcmp(format, "raw") == 0 && d->ops->can_preallocate) {
		/* A raw disk is chosen to never run out of room: reserve it all now. */
		args[n++] = "-o";
		args[n++] = "preallocation=falloc";
	}
	args[n++] = tmp_path;
	args[n++] = bytes;
	args[n] = NULL;
	int r = qemu_img_runv("create the image", QEMU_IMG_QUICK, NULL, args);
	if (r == 0 && (r = d->ops->rename(d->ctx, tmp, name)) < 0)
		r = backend_failure(sr, "rename", tmp, r);
	if (r < 0)
		d->ops->unlink(d->ctx, tmp);
	return r;
}

int imagedir_vdi_create(struct sr_handle *sr, const char *vdi_uuid, uint64_t size, const char *format,
			struct sr_volume *ret)
{
	struct imagedir *d = dir_of(sr);
	char name[SR_LOCATION_MAX];
	leaf_name(name, vdi_uuid, format);
	struct imagedir_stat st;
	if (d->ops->stat(d->ctx, name, &st) == 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "create", name, "SR %s already has an image %s", sr->uuid,
			    name);
	int r = create_image(sr, name, format, size, NULL, NULL);
	if (r == 0)
		r = leaf_volume(sr, name, ret);
	return r;
}

int imagedir_vdi_delete(struct sr_handle *sr, const char *location)
{
	struct imagedir *d = dir_of(sr);
	int r = d->ops->unlink(d->ctx, location);
	if (r < 0 && r != -ENOENT)
		return backend_failure(sr, "delete", location, r);
	return collect_garbage(sr);
}

int imagedir_vdi_resize(struct sr_handle *sr, const char *location, uint64_t size)
{
	struct imagedir *d = dir_of(sr);
	char path[XVM_HC_PATH_MAX], bytes[24];
	d->ops->path(d->ctx, location, path);
	snprintf(bytes, sizeof(bytes), "%" PRIu64, size);
	const char *format = format_of(location);
	if (strcmp(format, "raw") == 0 && d->ops->can_preallocate)
		return qemu_img_run("resize the image", QEMU_IMG_QUICK, NULL, "resize", "-q", "-f", format,
				    "--preallocation=falloc", path, bytes, (char *)NULL);
	return qemu_img_run("resize the image", QEMU_IMG_QUICK, NULL, "resize", "-q", "-f", format, path, bytes,
			    (char *)NULL);
}

int imagedir_vdi_clone(struct sr_handle *sr, const char *location, const char *new_uuid,
		       const struct sr_live_switch *live, struct sr_volume *src_after, struct sr_volume *ret)
{
	struct imagedir *d = dir_of(sr);
	const char *format = format_of(location);
	uint64_t size;
	char backing[256];
	int r = image_size(sr, location, &size, backing);
	if (r < 0)
		return r;

	/* The source's content gets a second name, the shared base, and the copy
	 * its leaf over it: until the source moves, a failure undoes all. */
	char base_uuid[XVM_UUID_BUFLEN], base[SR_LOCATION_MAX], top[SR_LOCATION_MAX], name[SR_LOCATION_MAX];
	char path[XVM_HC_PATH_MAX];
	uuid_generate_str(base_uuid);
	snprintf(base, sizeof(base), BASE_PREFIX "%s.%s", base_uuid, format);
	if ((r = d->ops->link(d->ctx, location, base)) < 0)
		return backend_failure(sr, "link", location, r);
	leaf_name(name, new_uuid, "qcow2");
	if ((r = create_image(sr, name, "qcow2", size, base, format)) < 0) {
		d->ops->unlink(d->ctx, base);
		return r;
	}
	/* Then the source gets a new empty top over the base; a raw source's becomes qcow2. */
	snprintf(top, sizeof(top), "%.*s.qcow2", (int)(strlen(location) - strlen(format) - 1), location);
	if ((r = create_image(sr, top, "qcow2", size, base, format)) < 0) {
		d->ops->unlink(d->ctx, name);
		d->ops->unlink(d->ctx, base);
		return r;
	}
	if (live) {
		d->ops->path(d->ctx, top, path);
		if ((r = live->fn(live->ctx, path, "qcow2")) < 0) {
			/* The guest still writes to the old file: give it its name back. */
			if (strcmp(top, location) == 0)
				d->ops->rename(d->ctx, base, location);
			else {
				d->ops->unlink(d->ctx, top);
				d->ops->unlink(d->ctx, base);
			}
			d->ops->unlink(d->ctx, name);
			return r;
		}
	}
	if (strcmp(top, location) != 0)
		d->ops->unlink(d->ctx, location);
	if ((r = leaf_volume(sr, top, src_after)) < 0)
		return r;
	return leaf_volume(sr, name, ret);
}

int imagedir_vdi_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
		      char format[SR_FORMAT_MAX])
{
	struct imagedir *d = dir_of(sr);
	const char *f = format_of(location);
	if (!f)
		return ERR2(XVM_ERR_VDI_MISSING, sr->uuid, location, "SR %s has no image %s", sr->uuid, location);
	d->ops->path(d->ctx, location, path);
	snprintf(format, SR_FORMAT_MAX, "%s", f);
	return 0;
}

int imagedir_is_empty(struct sr_handle *sr, bool *empty)
{
	char **names;
	size_t n;
	int r = list(sr, &names, &n);
	if (r < 0)
		return r;
	*empty = true;
	for (size_t i = 0; i < n; i++)
		if (format_of(names[i]))
			*empty = false;
	free_names(names, n);
	return 0;
}

int imagedir_remove_all(struct sr_handle *sr)
{
	/* With the leaves gone, every base is unused. */
	return collect_garbage(sr);
}
