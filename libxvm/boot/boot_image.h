/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Read access to a guest disk image, whatever its format, without QEMU
 * running it: a raw file is read as is; for any other format (qcow2 and its
 * backing chain) `qemu-img map` says once where each guest range lies (which
 * file of the chain, at which offset) and reads go straight to those files.
 * Metadata only is read at open, so a big sparse disk opens as fast as a
 * small one. Compressed or encrypted clusters cannot be read this way.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BOOT_IMAGE_MAX_CHAIN 16

struct boot_extent {
	uint64_t start, length;
	uint64_t offset;       /* in files[depth]; meaningless unless data */
	int depth;
	int data;              /* 0: reads as zeros */
};

struct boot_image {
	int fds[BOOT_IMAGE_MAX_CHAIN];
	int nfds;
	struct boot_extent *ext;
	size_t next;
	uint64_t size;
};

/* Opens path (of format "raw", "qcow2", ...). XenAPI-style error on failure. */
int boot_image_open(const char *path, const char *format, struct boot_image *img);
/* Reads len bytes at off; -errno (-EIO past the end or from an unreadable cluster). */
int boot_image_read(const struct boot_image *img, void *buf, size_t len, uint64_t off);
void boot_image_close(struct boot_image *img);
