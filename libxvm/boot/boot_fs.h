/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's ext2/3/4 filesystem on a disk image, read with libext2fs
 * through an io_manager of our own over struct boot_image: nothing is
 * mounted, no device is made. The filesystem is the whole disk, or the first
 * partition of an MBR.
 */
#pragma once

#include <stddef.h>

#include "boot/boot_image.h"

struct boot_fs;

/* -ENODEV: no ext2/3/4 filesystem there; other -errno: unreadable. */
int boot_fs_open(const struct boot_image *img, struct boot_fs **fs);
void boot_fs_close(struct boot_fs *fs);
/* Symlinks are followed. -ENOENT: no such path; -EISDIR/-EINVAL: not a regular file. */
int boot_fs_read(struct boot_fs *fs, const char *path, size_t max, char **text, size_t *len);
int boot_fs_copy(struct boot_fs *fs, const char *path, const char *dest);
