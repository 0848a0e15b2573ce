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

static int ready(struct sr_handle *sr)
{
	struct imagedir *d = dir_of(sr);
	return d->ready ? d->ready(sr) : 0;
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

/* The directory as one read: each file's name and, for qcow2 images, its backing file. */
struct tree {
	char **names;
	char **backings;  /* parallel to names; NULL where none */
	size_t n;
};

static void tree_free(struct tree *t)
{
	free_names(t->names, t->n);
	free_names(t->backings, t->n);
	memset(t, 0, sizeof(*t));
}

static int tree_read(struct sr_handle *sr, struct tree *t)
{
	memset(t, 0, sizeof(*t));
	int r = list(sr, &t->names, &t->n);
	if (r < 0)
		return r;
	if (!(t->backings = calloc(t->n ? t->n : 1, sizeof(*t->backings)))) {
		free_names(t->names, t->n);
		return error_oom();
	}
	for (size_t k = 0; k < t->n; k++) {
		char backing[256];
		uint64_t size;
		const char *f = format_of(t->names[k]);
		/* A backing file is known by its name, whatever path comes
		 * before it (backing_by_path): never lose one an image uses. */
		if (f && strcmp(f, "qcow2") == 0 && !ends_with(t->names[k], TMP_SUFFIX) &&
		    image_size(sr, t->names[k], &size, backing) == 0 && *backing)
			t->backings[k] = strdup(strrchr(backing, '/') ? strrchr(backing, '/') + 1 : backing);
		error_clear();
	}
	return 0;
}

/* Whether some image other than `except` (may be NULL) is built on `name`. */
static bool tree_is_backing(const struct tree *t, const char *name, const char *except)
{
	for (size_t k = 0; k < t->n; k++)
		if (t->backings[k] && strcmp(t->backings[k], name) == 0 && (!except || strcmp(t->names[k], except) != 0))
			return true;
	return false;
}

/* Deletes shared bases no image uses any more, and the temporary files
 * of operations a crash cut short. */
static int collect_garbage(struct sr_handle *sr)
{
	struct imagedir *d = dir_of(sr);
	for (;;) {
		struct tree t;
		int r = tree_read(sr, &t);
		if (r < 0)
			return r;
		bool removed = false;
		for (size_t i = 0; i < t.n; i++)
			if ((is_tmp(t.names[i]) || (is_base(t.names[i]) && !tree_is_backing(&t, t.names[i], NULL))) &&
			    d->ops->unlink(d->ctx, t.names[i]) == 0)
				removed = true;
		tree_free(&t);
		/* Removing a base may free the one below it. */
		if (!removed)
			return 0;
	}
}

int imagedir_space(struct sr_handle *sr, struct sr_space *ret)
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
	struct imagedir *d = dir_of(sr);
	int r = d->ops->space(d->ctx, ret);
	return r < 0 ? backend_failure(sr, "measure", "the directory", r) : 0;
}

/* A leaf's volume: "<uuid>.qcow2" (or "<uuid>.<tag>.qcow2" after a live
 * snapshot) names its VDI; other names are introduced with a new identity. */
static int leaf_volume(struct sr_handle *sr, const char *name, struct sr_volume *v)
{
	struct imagedir *d = dir_of(sr);
	memset(v, 0, sizeof(*v));
	snprintf(v->location, sizeof(v->location), "%s", name);
	snprintf(v->format, sizeof(v->format), "%s", format_of(name));
	size_t stem = strcspn(name, ".");
	if (stem == XVM_UUID_BUFLEN - 1) {
		memcpy(v->vdi_uuid, name, stem);
		v->vdi_uuid[stem] = 0;
		if (!uuid_valid(v->vdi_uuid))
			v->vdi_uuid[0] = 0;
	}
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
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
	struct tree t;
	int r = collect_garbage(sr);
	if (r < 0 || (r = tree_read(sr, &t)) < 0)
		return r;
	struct sr_volume *vols = calloc(t.n ? t.n : 1, sizeof(*vols));
	size_t nv = 0;
	if (!vols)
		r = error_oom();
	for (size_t i = 0; r == 0 && i < t.n; i++) {
		/* An image others are built on is part of their chains, not a disk of its own. */
		if (!format_of(t.names[i]) || is_base(t.names[i]) || tree_is_backing(&t, t.names[i], NULL))
			continue;
		/* An unreadable image is left out, as if missing, not a failed scan. */
		if (leaf_volume(sr, t.names[i], &vols[nv]) == 0)
			nv++;
		error_clear();
	}
	tree_free(&t);
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

/* An image to create: made under a temporary name, then renamed, so that
 * the name appears whole or not at all. */
struct new_image {
	const char *name, *format, *backing, *backing_format;
	uint64_t size;
	char tmp[SR_LOCATION_MAX + 8];
	char tmp_path[XVM_HC_PATH_MAX];
	char backing_path[XVM_HC_PATH_MAX];
	char bytes[24];
	const char *args[16];
};

static void image_args(struct sr_handle *sr, struct new_image *img)
{
	struct imagedir *d = dir_of(sr);
	snprintf(img->tmp, sizeof(img->tmp), "%s" TMP_SUFFIX, img->name);
	d->ops->path(d->ctx, img->tmp, img->tmp_path);
	snprintf(img->bytes, sizeof(img->bytes), "%" PRIu64, img->size);
	size_t n = 0;
	const char **a = img->args;
	a[n++] = "create";
	a[n++] = "-q";
	a[n++] = "-f";
	a[n++] = img->format;
	if (img->backing) {
		/* -u: the backing file's size is known; opening it would clash
		 * with the lock of a guest that runs on it. */
		a[n++] = "-u";
		a[n++] = "-b";
		if (d->ops->backing_by_path) {
			d->ops->path(d->ctx, img->backing, img->backing_path);
			a[n++] = img->backing_path;
		} else {
			a[n++] = img->backing;
		}
		a[n++] = "-F";
		a[n++] = img->backing_format;
	} else if (strcmp(img->format, "raw") == 0 && d->ops->can_preallocate) {
		/* A raw disk is chosen to never run out of room: reserve it all now. */
		a[n++] = "-o";
		a[n++] = "preallocation=falloc";
	}
	a[n++] = img->tmp_path;
	a[n++] = img->bytes;
	a[n] = NULL;
}

/* Makes the temporary files of one or two images, at once. */
static int make_temporaries(struct sr_handle *sr, struct new_image *img, size_t n)
{
	struct imagedir *d = dir_of(sr);
	for (size_t i = 0; i < n; i++)
		image_args(sr, &img[i]);
	int r = n == 1 ? qemu_img_runv("create the image", QEMU_IMG_QUICK, NULL, img[0].args)
		       : qemu_img_run_both("create the images", QEMU_IMG_QUICK, img[0].args, img[1].args);
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			d->ops->unlink(d->ctx, img[i].tmp);
	return r;
}

/* Gives a made image its name (replacing what had it). */
static int name_image(struct sr_handle *sr, struct new_image *img)
{
	struct imagedir *d = dir_of(sr);
	int r = d->ops->rename(d->ctx, img->tmp, img->name);
	if (r < 0) {
		d->ops->unlink(d->ctx, img->tmp);
		return backend_failure(sr, "rename", img->tmp, r);
	}
	return 0;
}

static int create_image(struct sr_handle *sr, const char *name, const char *format, uint64_t size)
{
	struct new_image img = { .name = name, .format = format, .size = size };
	int r = make_temporaries(sr, &img, 1);
	return r < 0 ? r : name_image(sr, &img);
}

int imagedir_vdi_create(struct sr_handle *sr, const char *vdi_uuid, uint64_t size, const char *format,
			struct sr_volume *ret)
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
	struct imagedir *d = dir_of(sr);
	char name[SR_LOCATION_MAX];
	leaf_name(name, vdi_uuid, format);
	struct imagedir_stat st;
	if (d->ops->stat(d->ctx, name, &st) == 0)
		return ERR2(XVM_ERR_SR_BACKEND_FAILURE, "create", name, "SR %s already has an image %s", sr->uuid,
			    name);
	int r = create_image(sr, name, format, size);
	if (r == 0)
		r = leaf_volume(sr, name, ret);
	return r;
}

int imagedir_vdi_delete(struct sr_handle *sr, const char *location)
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
	struct imagedir *d = dir_of(sr);
	struct tree t;
	int r = tree_read(sr, &t);
	if (r < 0)
		return r;
	char name[256];
	snprintf(name, sizeof(name), "%s", location);
	/* The leaf, then each image below it that nothing else is built on. */
	for (bool leaf = true; *name; leaf = false) {
		if (!leaf && tree_is_backing(&t, name, NULL))
			break;
		char below[256] = "";
		for (size_t k = 0; k < t.n; k++)
			if (strcmp(t.names[k], name) == 0 && t.backings[k])
				snprintf(below, sizeof(below), "%s", t.backings[k]);
		if ((r = d->ops->unlink(d->ctx, name)) < 0 && r != -ENOENT) {
			r = backend_failure(sr, "delete", name, r);
			break;
		}
		r = 0;
		/* What is deleted no longer holds up the image below it. */
		for (size_t k = 0; k < t.n; k++)
			if (strcmp(t.names[k], name) == 0) {
				free(t.backings[k]);
				t.backings[k] = NULL;
			}
		snprintf(name, sizeof(name), "%s", below);
	}
	tree_free(&t);
	return r;
}

int imagedir_vdi_resize(struct sr_handle *sr, const char *location, uint64_t size)
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
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

/*
 * Splitting the source for a clone: its content becomes the shared base of
 * two new empty qcow2 tops, the source's and the clone's `copy`, made at
 * once. When nothing runs on the source, its content gets a second name,
 * the base, and the source's name goes to its new top (a raw source's top
 * is qcow2: the location may change). A running guest cannot follow a
 * rename: its image stays the base as it is, and the guest moves onto a new
 * top "<uuid>.<tag>.qcow2" beside it. *top gets the source's new location.
 */
static int split(struct sr_handle *sr, const char *location, const char *format, uint64_t size,
		 const struct sr_live_switch *live, struct new_image *copy, char top[SR_LOCATION_MAX])
{
	struct imagedir *d = dir_of(sr);
	char base[SR_LOCATION_MAX], tag[XVM_UUID_BUFLEN], path[XVM_HC_PATH_MAX];
	int r;
	uuid_generate_str(tag);
	if (live) {
		snprintf(top, SR_LOCATION_MAX, "%.*s.%.8s.qcow2", (int)strcspn(location, "."), location, tag);
		snprintf(base, sizeof(base), "%s", location);
	} else {
		snprintf(top, SR_LOCATION_MAX, "%.*s.qcow2", (int)(strlen(location) - strlen(format) - 1), location);
		snprintf(base, sizeof(base), BASE_PREFIX "%s.%s", tag, format);
		if ((r = d->ops->link(d->ctx, location, base)) < 0)
			return backend_failure(sr, "link", location, r);
	}
	struct new_image imgs[2] = {
		{ .name = top, .format = "qcow2", .size = size, .backing = base, .backing_format = format },
		*copy,
	};
	imgs[1].backing = base;
	imgs[1].backing_format = format;
	if ((r = make_temporaries(sr, imgs, 2)) < 0)
		goto undo_base;
	/* The copy is named first: undoing a new name is safe, undoing the source's is not. */
	if ((r = name_image(sr, &imgs[1])) < 0) {
		d->ops->unlink(d->ctx, imgs[0].tmp);
		goto undo_base;
	}
	if ((r = name_image(sr, &imgs[0])) < 0)
		goto undo_copy;
	if (live) {
		d->ops->path(d->ctx, top, path);
		if ((r = live->fn(live->ctx, path, "qcow2")) < 0) {
			d->ops->unlink(d->ctx, top);
			goto undo_copy;
		}
	} else if (strcmp(top, location) != 0) {
		d->ops->unlink(d->ctx, location);
	}
	return 0;
undo_copy:
	d->ops->unlink(d->ctx, imgs[1].name);
undo_base:
	if (!live)
		d->ops->unlink(d->ctx, base);
	return r;
}

int imagedir_vdi_clone(struct sr_handle *sr, const char *location, const char *new_uuid,
		       const struct sr_live_switch *live, struct sr_volume *src_after, struct sr_volume *ret)
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
	const char *format = format_of(location);
	uint64_t size;
	char backing[256], top[SR_LOCATION_MAX], name[SR_LOCATION_MAX];
	int r = image_size(sr, location, &size, backing);
	if (r < 0)
		return r;
	leaf_name(name, new_uuid, "qcow2");
	struct new_image copy = { .name = name, .format = "qcow2", .size = size };
	if ((r = split(sr, location, format, size, live, &copy, top)) < 0 ||
	    (r = leaf_volume(sr, top, src_after)) < 0)
		return r;
	return leaf_volume(sr, name, ret);
}

int imagedir_vdi_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
		      char format[SR_FORMAT_MAX])
{
	int ready_r = ready(sr);
	if (ready_r < 0)
		return ready_r;
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
