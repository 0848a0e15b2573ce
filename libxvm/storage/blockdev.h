/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The block device under an ext or lvm SR (device_config:device): the
 * checks made before a driver formats or uses it, and what blkid finds on it.
 */
#pragma once

#include <sys/stat.h>

#include "storage/sr_driver.h"

/* For a driver's open: device_config:device must be an absolute path
 * (SR_BACKEND_FAILURE [device, path] otherwise). Nothing is opened. */
int blockdev_check_config(struct sr_handle *sr);
/* device_config:device, once open has checked it. */
const char *blockdev_device(struct sr_handle *sr);

/* SR_BACKEND_FAILURE [device, path] unless the device exists and is a block
 * device; *st: its stat (may be NULL). */
int blockdev_check(struct sr_handle *sr, const char *path, struct stat *st);

/* For SR.create, which would destroy what is there: blockdev_check, then
 * SR_DEVICE_IN_USE [path] when the device is mounted or held (by device-mapper, a RAID), or holds
 * any signature blkid knows (a filesystem, a partition table, an LVM PV). */
int blockdev_check_unused(struct sr_handle *sr, const char *path);

/* The superblock blkid finds on the device: its TYPE ("ext4", "LVM2_member")
 * and UUID, "" where none. */
struct blockdev_probe {
	char type[32];
	char uuid[64];
	char pttype[32];  /* a partition table's type */
};
int blockdev_probe(struct sr_handle *sr, const char *path, struct blockdev_probe *ret);

/* Erases every signature on the device (wipefs -a). */
int blockdev_wipe(const char *path);
