/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a scan needs from an image, read from its first bytes without a
 * process per file: a qcow2 header's size and backing file, an ISO 9660
 * volume's label and size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads len bytes at off into buf: the count read or a negative errno. */
typedef ssize_t (*image_pread_fn)(void *ctx, const char *name, void *buf, size_t len, uint64_t off);

struct qcow2_header {
	uint64_t virtual_size;
	char backing[256];   /* as written in the image; "" for none */
};

/* 1 and the header for a qcow2 image, 0 for anything else, <0 on a read error. */
int qcow2_header_read(image_pread_fn pread, void *ctx, const char *name, struct qcow2_header *ret);

/* 1 and its volume identifier (spaces cut) for an ISO 9660 image, 0 if it is none. */
int iso_label_read(image_pread_fn pread, void *ctx, const char *name, char *label, size_t size);
