/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the storage tests (test_storage*.c): the lifecycle fixture
 * (a state dir, a connection, VM "vm1") plus this host's "Local storage"
 * file SR, and the image tools (qemu-img, qemu-io) that look at the files
 * behind the records.
 */
#pragma once

#define T_LIFECYCLE_FIXTURE
#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define MiB (1024 * 1024LL)

extern char *local_sr;       /* the "Local storage" SR */
extern char local_dir[4200]; /* its directory, <state>/sr/local */

void st_setup(void);
void st_teardown(void);

/* Runs a shell command (printf-style); its exit status. stdout and stderr are
 * kept in *out when out is non-NULL (free()), dropped otherwise. */
int st_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ST_SH(...)                                                                          \
	do {                                                                                \
		char *st_o_ = NULL;                                                         \
		int st_s_ = st_sh(&st_o_, __VA_ARGS__);                                     \
		cr_assert_eq(st_s_, 0, "command failed (%d): %s", st_s_, st_o_ ? st_o_ : ""); \
		free(st_o_);                                                                \
	} while (0)

/* A new VDI of `size` bytes in sr; format "qcow2", "raw" or NULL (the default). */
char *st_vdi(xvm_conn *c, const char *sr, const char *name, int64_t size, const char *format);
/* The directory of a file SR (its PBD's device_config:location; static per thread). */
const char *st_sr_dir(xvm_conn *c, const char *sr);
/* The image file behind a VDI (static, 8 per thread). */
const char *st_vdi_file(xvm_conn *c, const char *vdi);
/* The VDI of sr whose string field is value, or NULL (free()). */
char *st_vdi_where(xvm_conn *c, const char *sr, const char *field, const char *value);
/* An ISO image `name` in the ISO library <state>/isos (made on first use: an
 * iso SR "ISOs"), and its VDI (free()). */
char *st_iso(xvm_conn *c, const char *name);
/* A new file SR on the directory `location`. */
char *st_file_sr(xvm_conn *c, const char *location);

/* A connection to the fixture's state whose hypervisor fails the first `op` (XVM_HC_FAULT). */
xvm_conn *st_faulty(const char *op);

bool st_exists(const char *path);
/* Files in directory d whose names start with prefix and end with suffix. */
unsigned st_count(const char *d, const char *prefix, const char *suffix);
/* Bytes a file takes on its file system (st_blocks). */
int64_t st_allocated(const char *path);

/* qemu-io on an image: writes `pattern` to [off, off+len) / checks it reads back. */
void st_write(const char *path, const char *format, int pattern, const char *off, const char *len);
bool st_reads(const char *path, const char *format, int pattern, const char *off, const char *len);
/* `qemu-img info` of an image (format NULL: probed) as JSON. */
struct json_object *st_info(const char *path, const char *format);
/* The image's backing file as its header names it; "" for none (static, 8 per thread). */
const char *st_backing(const char *path);

/* Mounts a tmpfs of `size` ("32m") on d in a mount namespace of the test's
 * own, so that it goes away with the test process whatever happens. */
void st_mount_tmpfs(const char *d, const char *size);
void st_umount(const char *d);
/* A file SR on a tmpfs of `size` mounted at <dir>/fs: its directory is
 * <dir>/fs/sr (static). st_tmpfs_sr_end destroys it and unmounts. */
char *st_tmpfs_sr(const char *size, const char **location);
void st_tmpfs_sr_end(char *sr);
