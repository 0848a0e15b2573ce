/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The POSIX (ustar) tar of an OVA: written one member at a time with each
 * member's SHA-256 (for the manifest), read back into a directory. Names are
 * plain file names: OVA members never have directories.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_HEX_LEN 65

/* Appends a member named `name` holding the file `path`; hex gets its SHA-256. */
int ova_tar_add_file(int fd, const char *out_name, const char *name, const char *path, char hex[SHA256_HEX_LEN]);
/* Appends a member holding `len` bytes of `buf`. */
int ova_tar_add_buffer(int fd, const char *out_name, const char *name, const void *buf, size_t len,
		       char hex[SHA256_HEX_LEN]);
/* The two zero blocks that end an archive. */
int ova_tar_finish(int fd, const char *out_name);

/* The SHA-256 of the file `path`, as hex. */
int ova_sha256_file(const char *path, char hex[SHA256_HEX_LEN]);

struct ova_member {
	char name[101];
	uint64_t size;
	char sha256[SHA256_HEX_LEN];
};

/* Extracts the regular-file members of the tar `path` into `dir`, in order;
 * *members (free()) and *n list them. IMPORT_ERROR naming what is wrong for a
 * file that is no tar, is truncated or has a member name with a '/'. */
int ova_tar_extract(const char *path, const char *dir, struct ova_member **members, size_t *n);
