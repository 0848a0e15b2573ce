/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A directory of disk images: what the file, ext and nfs SRs share.
 *
 * Each VDI is one leaf image named after it, "<vdi-uuid>.qcow2" (or
 * ".raw"). A clone or snapshot turns the source's content into a shared,
 * read-only base, "base-<uuid>.qcow2", under two new empty qcow2 leaves:
 * the source's (same name, so the VDI keeps its location) and the copy's.
 * O(1): a hard link, a rename and two small files, whatever the size.
 * A running guest cannot follow a rename: when it writes to the source,
 * its image stays where it is as the base, and QEMU moves onto a new top
 * "<vdi-uuid>.<tag>.qcow2" beside it (a live snapshot); the VDI's location
 * follows. An image some other image is built on is never a VDI; deleting
 * a VDI deletes the images below it that nothing else uses.
 *
 * Every step leaves a valid tree: the source's name is replaced by an
 * atomic rename, and what a crash can leave (a base nobody uses, a
 * "<image>.tmp" file) is cleaned up by the next scan. The chain is read
 * from the qcow2 headers themselves, so a scan rebuilds everything from
 * the directory alone (a VDI is found by the UUID its file name starts with).
 *
 * The directory is reached through imagedir_ops: POSIX calls for a local
 * directory, libnfs for an NFS export that is never mounted.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/sr_driver.h"

struct imagedir_stat {
	uint64_t size;        /* bytes in the file */
	uint64_t allocated;   /* bytes the file takes on the storage */
	bool regular;
};

struct imagedir_ops {
	/* The names in the directory (not "." and ".."); *names: free() each and the array. */
	int (*list)(void *ctx, char ***names, size_t *count);
	/* -ENOENT when absent. */
	int (*stat)(void *ctx, const char *name, struct imagedir_stat *ret);
	/* Reads up to len bytes at off; the count read or a negative errno. */
	ssize_t (*pread)(void *ctx, const char *name, void *buf, size_t len, uint64_t off);
	int (*unlink)(void *ctx, const char *name);
	/* Atomic; replaces `to`. */
	int (*rename)(void *ctx, const char *from, const char *to);
	/* A second name for the same file. */
	int (*link)(void *ctx, const char *from, const char *to);
	int (*space)(void *ctx, struct sr_space *ret);
	/* What qemu-img and QEMU open for the file: a path or a URL. */
	void (*path)(void *ctx, const char *name, char out[XVM_HC_PATH_MAX]);
	/* Whether raw images can be preallocated here (qemu-img preallocation=falloc). */
	bool can_preallocate;
	/* Whether qcow2 headers name their backing file by path() rather than
	 * by name: QEMU 7.2's nfs driver resolves a relative backing name
	 * against the image's own URL, not its directory's. */
	bool backing_by_path;
};

/* What a driver built on imagedir keeps in sr_handle->priv. */
struct imagedir {
	const struct imagedir_ops *ops;
	void *ctx;
	/* Checked before each driver operation below (the ext SR's mount, the
	 * nfs SR's connection); NULL when the directory is always there. */
	int (*ready)(struct sr_handle *sr);
};

/* POSIX operations on a local directory; ctx is its path. */
extern const struct imagedir_ops imagedir_local_ops;
/* For a driver's open and close: sr->priv becomes an imagedir on the local
 * directory `dir` (absolute), sr->root its path. */
int imagedir_local_open(struct sr_handle *sr, const char *dir);
void imagedir_local_close(struct sr_handle *sr);

/*
 * libnfs operations on the SR's directory of an NFS export, EXPORT/<sr-uuid>:
 * sr->priv becomes an imagedir on it, sr->root its URL. server: a host name
 * or IPv4 address; export: an absolute path. Nothing is sent until
 * imagedir_nfs_connect, which the driver calls before the directory is
 * used; it fails with SR_BACKEND_FAILURE and libnfs's word for why.
 */
extern const struct imagedir_ops imagedir_nfs_ops;
int imagedir_nfs_open(struct sr_handle *sr, const char *server, const char *export);
void imagedir_nfs_close(struct sr_handle *sr);
int imagedir_nfs_connect(struct sr_handle *sr);
/* The SR's directory, on a connected handle: is there / made / removed if empty. */
int imagedir_nfs_check_dir(struct sr_handle *sr);
int imagedir_nfs_make_dir(struct sr_handle *sr);
void imagedir_nfs_remove_dir(struct sr_handle *sr);

/* Driver operations for an SR whose sr->priv is a struct imagedir. */
int imagedir_space(struct sr_handle *sr, struct sr_space *ret);
int imagedir_scan(struct sr_handle *sr, struct sr_volume **ret, size_t *count);
int imagedir_vdi_create(struct sr_handle *sr, const char *vdi_uuid, uint64_t size, const char *format,
			struct sr_volume *ret);
int imagedir_vdi_delete(struct sr_handle *sr, const char *location);
int imagedir_vdi_resize(struct sr_handle *sr, const char *location, uint64_t size);
int imagedir_vdi_clone(struct sr_handle *sr, const char *location, const char *new_uuid,
		       const struct sr_live_switch *live, struct sr_volume *src_after, struct sr_volume *ret);
int imagedir_vdi_path(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
		      char format[SR_FORMAT_MAX]);
/* A driver table's volume operations, all of them imagedir's. */
#define IMAGEDIR_DRIVER_OPS                                                                        \
	.space = imagedir_space, .scan = imagedir_scan, .vdi_create = imagedir_vdi_create,         \
	.vdi_delete = imagedir_vdi_delete, .vdi_resize = imagedir_vdi_resize, .vdi_clone = imagedir_vdi_clone, \
	.vdi_path = imagedir_vdi_path

/* Whether the directory holds any image at all (sr-create refuses to adopt one that does). */
int imagedir_is_empty(struct sr_handle *sr, bool *empty);
/* Removes the bases and temporary files left (SR.destroy, after the VDIs). */
int imagedir_remove_all(struct sr_handle *sr);
