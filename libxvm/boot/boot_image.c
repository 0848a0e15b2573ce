/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "boot/boot_image.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error_internal.h"
#include "storage/qemu_img.h"

#define MAP_TIMEOUT_S 60

static int open_layer(struct boot_image *img, const char *path)
{
	if (img->nfds == BOOT_IMAGE_MAX_CHAIN)
		return ERR1(XVM_ERR_VALUE_NOT_SUPPORTED, path, "disk image %s has a backing chain of more than %d files",
			    path, BOOT_IMAGE_MAX_CHAIN);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR1(XVM_ERR_SR_BACKEND_FAILURE, path, "cannot open disk image %s: %s", path, strerror(errno));
	img->fds[img->nfds++] = fd;
	return 0;
}

static int open_raw(const char *path, struct boot_image *img)
{
	int r = open_layer(img, path);
	struct stat st;
	if (r < 0)
		return r;
	if (fstat(img->fds[0], &st) < 0)
		return ERR1(XVM_ERR_SR_BACKEND_FAILURE, path, "cannot stat disk image %s: %s", path, strerror(errno));
	if (!(img->ext = calloc(1, sizeof(*img->ext))))
		return error_oom();
	img->size = (uint64_t)st.st_size;
	img->ext[0] = (struct boot_extent){ .start = 0, .length = img->size, .data = 1 };
	img->next = 1;
	return 0;
}

static uint64_t field_u64(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

/* The chain's files, top first: each layer names the next one. */
static int open_chain(const char *path, const char *format, struct boot_image *img)
{
	char *out = NULL;
	int r = qemu_img_run("reading the disk image", MAP_TIMEOUT_S, &out, "info", "--backing-chain", "--output=json",
			     "-f", format, path, NULL);
	if (r < 0)
		return r;
	struct json_object *chain = json_tokener_parse(out);
	free(out);
	if (!json_object_is_type(chain, json_type_array)) {
		json_object_put(chain);
		return ERR1(XVM_ERR_SR_BACKEND_FAILURE, path, "qemu-img info of %s gave no backing chain", path);
	}
	const char *name = path;
	for (size_t i = 0; r == 0 && i < json_object_array_length(chain); i++) {
		struct json_object *layer = json_object_array_get_idx(chain, i), *v;
		if ((r = open_layer(img, name)) == 0 && i == 0)
			img->size = field_u64(layer, "virtual-size");
		name = json_object_object_get_ex(layer, "full-backing-filename", &v) ? json_object_get_string(v) : NULL;
		if (!name && i + 1 < json_object_array_length(chain))
			r = ERR1(XVM_ERR_SR_BACKEND_FAILURE, path, "qemu-img info of %s names no backing file", path);
	}
	json_object_put(chain);
	return r;
}

static int read_map(const char *path, const char *format, struct boot_image *img)
{
	char *out = NULL;
	int r = qemu_img_run("reading the disk image", MAP_TIMEOUT_S, &out, "map", "--output=json", "-f", format,
			     path, NULL);
	if (r < 0)
		return r;
	struct json_object *map = json_tokener_parse(out);
	free(out);
	size_t n = json_object_is_type(map, json_type_array) ? json_object_array_length(map) : 0;
	if (n && !(img->ext = calloc(n, sizeof(*img->ext))))
		r = error_oom();
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(map, i), *v;
		struct boot_extent *x = &img->ext[img->next++];
		x->start = field_u64(e, "start");
		x->length = field_u64(e, "length");
		x->depth = (int)field_u64(e, "depth");
		x->data = json_object_object_get_ex(e, "data", &v) && json_object_get_boolean(v);
		if (x->data && !json_object_object_get_ex(e, "offset", &v))
			r = ERR1(XVM_ERR_VALUE_NOT_SUPPORTED, path,
				 "disk image %s has compressed or encrypted data, which xvm-boot cannot read", path);
		else if (x->data)
			x->offset = (uint64_t)json_object_get_int64(v);
		if (r == 0 && x->data && x->depth >= img->nfds)
			r = ERR1(XVM_ERR_SR_BACKEND_FAILURE, path, "qemu-img map of %s names a layer beyond its chain", path);
	}
	json_object_put(map);
	return r;
}

int boot_image_open(const char *path, const char *format, struct boot_image *img)
{
	struct boot_image tmp = { .nfds = 0 };
	int r;
	if (strcmp(format, "raw") == 0)
		r = open_raw(path, &tmp);
	else if ((r = open_chain(path, format, &tmp)) == 0)
		r = read_map(path, format, &tmp);
	if (r < 0) {
		boot_image_close(&tmp);
		return r;
	}
	*img = tmp;
	return 0;
}

/* The extent holding off: the map is sorted and contiguous. */
static const struct boot_extent *find_extent(const struct boot_image *img, uint64_t off)
{
	size_t lo = 0, hi = img->next;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct boot_extent *x = &img->ext[mid];
		if (off < x->start)
			hi = mid;
		else if (off >= x->start + x->length)
			lo = mid + 1;
		else
			return x;
	}
	return NULL;
}

int boot_image_read(const struct boot_image *img, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	while (len) {
		const struct boot_extent *x = find_extent(img, off);
		if (!x)
			return -EIO;
		uint64_t in = off - x->start;
		size_t n = x->length - in < len ? (size_t)(x->length - in) : len;
		if (!x->data) {
			memset(p, 0, n);
		} else {
			ssize_t got = pread(img->fds[x->depth], p, n, (off_t)(x->offset + in));
			if (got < 0)
				return -errno;
			if (got == 0)
				return -EIO;
			n = (size_t)got;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

void boot_image_close(struct boot_image *img)
{
	for (int i = 0; i < img->nfds; i++)
		close(img->fds[i]);
	img->nfds = 0;
	free(img->ext);
	img->ext = NULL;
	img->next = 0;
}
