/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading image headers (image.h). A qcow2 header, big-endian: magic
 * "QFI\xfb" | u32 version | u64 backing_file_offset | u32 backing_file_size
 * | u32 cluster_bits | u64 size | ... ; from version 3 a u32 header_length
 * at 100, the version 2 header being 72 bytes. Header extensions follow it:
 * u32 type | u32 length | data padded to 8 bytes, type 0 ending them, type
 * 0xE2792ACA naming the backing file's format.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "image.h"
#include "url.h"

#define QCOW2_MAGIC "QFI\xfb"
#define EXT_BACKING_FORMAT 0xE2792ACAu
#define EXT_AREA_MAX 65536 /* a bound on the header extensions, far above what qemu-img writes */

static uint32_t be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static int garbled(const char *path, const char *why)
{
	xvm_hv_set_error("%s: garbled qcow2 header: %s", path, why);
	return -EINVAL;
}

/* The backing format among the header extensions at `off`. */
static int backing_format(int fd, const char *path, uint64_t off, struct hv_image *img)
{
	unsigned char ext[8];

	for (uint64_t end = off + EXT_AREA_MAX; off < end; ) {
		uint32_t type, len;

		if (pread(fd, ext, 8, (off_t)off) != 8)
			return garbled(path, "its header extensions are cut short");
		type = be32(ext);
		len = be32(ext + 4);
		if (type == 0)
			return 0;
		if (type == EXT_BACKING_FORMAT) {
			if (len == 0 || len >= sizeof img->backing_format ||
			    pread(fd, img->backing_format, len, (off_t)off + 8) != (ssize_t)len)
				return garbled(path, "its backing format is unreadable");
			img->backing_format[len] = '\0';
		}
		off += 8 + ((uint64_t)len + 7) / 8 * 8;
	}
	return garbled(path, "its header extensions do not end");
}

/* The backing file name, resolved as QEMU does: relative to the image's directory. */
static int backing_file(int fd, const char *path, uint64_t off, uint32_t len, struct hv_image *img)
{
	char name[XVM_HC_PATH_MAX], dir[XVM_HC_PATH_MAX];

	if (len >= sizeof name || pread(fd, name, len, (off_t)off) != (ssize_t)len)
		return garbled(path, "its backing file name is unreadable");
	name[len] = '\0';
	snprintf(dir, sizeof dir, "%s", path);
	if (name[0] == '/' || hv_path_is_url(name))
		snprintf(img->backing, sizeof img->backing, "%s", name);
	else if (snprintf(img->backing, sizeof img->backing, "%s/%s", dirname(dir), name) >= (int)sizeof img->backing)
		return garbled(path, "its backing file name is too long");
	return 0;
}

static int read_qcow2(int fd, const char *path, const unsigned char *h, struct hv_image *img)
{
	uint32_t version = be32(h + 4), header_len = version >= 3 ? be32(h + 100) : 72;
	int r;

	if (version < 2 || version > 3 || header_len < 72)
		return garbled(path, "unknown version");
	strcpy(img->format, "qcow2");
	img->size = be64(h + 24);
	if (be64(h + 8) && (r = backing_file(fd, path, be64(h + 8), be32(h + 16), img)) < 0)
		return r;
	return backing_format(fd, path, header_len, img);
}

int hv_image_read(const char *path, struct hv_image *ret)
{
	static struct hv_image zero;
	struct hv_image img = zero;
	unsigned char h[104] = { 0 };
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	if (hv_path_is_url(path)) {
		xvm_hv_set_error("%s is on NFS, where only QEMU reads it", path);
		return -EOPNOTSUPP;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		xvm_hv_set_error("disk image %s: %s", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	n = pread(fd, h, sizeof h, 0);
	if (n >= 72 && !memcmp(h, QCOW2_MAGIC, 4)) {
		r = read_qcow2(fd, path, h, &img);
	} else {
		strcpy(img.format, "raw");
		img.size = (uint64_t)st.st_size;
	}
	close(fd);
	if (r == 0)
		*ret = img;
	return r;
}

uint64_t hv_image_size(const char *path, const char *format)
{
	struct hv_image img;
	const char *want = *format ? format : "raw";

	/* Other formats are not read here. */
	if (hv_image_read(path, &img) < 0 || strcmp(img.format, want))
		return 0;
	return img.size;
}

int hv_overlay_read_check(const struct xvm_hc_disk_config *d, uint64_t size, const char *overlay,
			  struct hv_image *img)
{
	int r = hv_image_read(overlay, img);

	return r < 0 ? r : hv_overlay_check(d, size, overlay, img);
}
