/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The little of a local image file that the hypervisor layer reads itself,
 * to check a disk operation before QEMU (or, on the sim, instead of it) opens
 * the image: a qcow2 header's size, backing file and backing format, or a raw
 * image's size. Nothing here writes an image.
 */
#pragma once

#include "config_check.h"

/* A local qcow2 or raw image; -errno, -EINVAL for a garbled qcow2 header, -EOPNOTSUPP for a URL. */
int hv_image_read(const char *path, struct hv_image *ret);

/* The size of a `format` image at path as a guest sees it; 0 when it cannot be told here. */
uint64_t hv_image_size(const char *path, const char *format);

/* hv_overlay_check() of a local overlay, with its header read here (into *img). */
int hv_overlay_read_check(const struct xvm_hc_disk_config *d, uint64_t size, const char *overlay,
			  struct hv_image *img);
