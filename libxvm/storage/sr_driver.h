/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SR driver interface: one table of operations per SR type, in the
 * manner of libvirt's storage backends. The engine (storage/sr_ops.c,
 * vdi_ops.c) keeps the records, locks and checks; a driver only acts on
 * its storage and reports what is there. Drivers never touch the store.
 *
 * A driver works on volumes named by a `location` it chooses (a file name,
 * a logical volume name), returns 0 or a negative error code set through
 * error_internal.h (SR_BACKEND_FAILURE for what its tools report), and
 * leaves the storage as it found it when an operation fails.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "hypercall.h"

struct engine;

#define SR_LOCATION_MAX 256
#define SR_FORMAT_MAX 16

/* One volume as the storage holds it. */
struct sr_volume {
	char location[SR_LOCATION_MAX];
	char vdi_uuid[XVM_UUID_BUFLEN];  /* the VDI identity the storage records; "" if none */
	char format[SR_FORMAT_MAX];      /* "qcow2", "raw", "iso" */
	char label[128];                 /* a name to show (an ISO's volume id); "" for none */
	uint64_t virtual_size;
	uint64_t physical_utilisation;
	bool read_only;
};

struct sr_space {
	uint64_t physical_size;
	uint64_t physical_utilisation;
};

/* An SR while one operation uses it: what the driver needs to find its storage. */
struct sr_handle {
	struct engine *e;
	const struct sr_driver *drv;
	char ref[XVM_REF_BUFLEN];
	char uuid[XVM_UUID_BUFLEN];
	struct json_object *device_config;  /* borrowed: object of strings */
	struct json_object *sm_config;      /* borrowed */
	char *root;                         /* the driver's: directory, mount point, URL */
	void *priv;                         /* the driver's: a connection, say */
};

/* Switches a running guest from a disk's image to a new top image, whose
 * backing is the old one (a live snapshot); ctx is the caller's. */
struct sr_live_switch {
	int (*fn)(void *ctx, const char *new_top_path, const char *format);
	void *ctx;
};

enum sr_caps {
	SR_CAP_VDI_CREATE = 1u << 0,   /* vdi_create, vdi_delete */
	SR_CAP_VDI_RESIZE = 1u << 1,
	SR_CAP_VDI_CLONE = 1u << 2,    /* copy-on-write clone and snapshot */
	SR_CAP_SHARED = 1u << 3,       /* every host of a pool may plug it */
	SR_CAP_CHANGES = 1u << 4,      /* volumes come and go by themselves: rescan when `stamp` changes */
	SR_CAP_LOCAL_SPACE = 1u << 5,  /* `space` is a local statvfs: cheap enough to run at every read */
};

struct sr_driver {
	const char *type;                 /* "file" */
	const char *content_type;         /* "user" or "iso" */
	const char *description;
	const char *const *required_keys; /* device_config keys, NULL-terminated */
	const char *const *optional_keys;
	unsigned caps;

	/* Called first on every handle: checks device_config's values and
	 * fills sr->root (and priv). Must not change the storage. */
	int (*open)(struct sr_handle *sr);
	void (*close)(struct sr_handle *sr);
	/* SR.create: makes new, empty storage (formatting a device); refuses
	 * storage that holds another SR or data it would destroy. NULL: an
	 * existing location is used as it is. */
	int (*create)(struct sr_handle *sr);
	/* PBD.plug / unplug on this host (mount, connect); idempotent. NULL: nothing to do. */
	int (*attach)(struct sr_handle *sr);
	int (*detach)(struct sr_handle *sr);
	/* SR.destroy: removes what create made; the volumes are already deleted. */
	int (*destroy)(struct sr_handle *sr);
	int (*space)(struct sr_handle *sr, struct sr_space *ret);
	/* Every volume in the SR (not internal ones, such as shared bases). *ret: free(). */
	int (*scan)(struct sr_handle *sr, struct sr_volume **ret, size_t *count);
	/* SR_CAP_CHANGES: a stamp of the SR's content (a directory's mtime), cheap
	 * to read; the engine rescans when it differs from the last scan's. */
	int (*stamp)(struct sr_handle *sr, char *buf, size_t size);

	/* A new volume for VDI vdi_uuid, of virtual size `size`, format "qcow2" or "raw". */
	int (*vdi_create)(struct sr_handle *sr, const char *vdi_uuid, uint64_t size, const char *format,
			  struct sr_volume *ret);
	int (*vdi_delete)(struct sr_handle *sr, const char *location);
	int (*vdi_resize)(struct sr_handle *sr, const char *location, uint64_t size);
	/*
	 * A copy-on-write twin of `location` for VDI new_uuid, O(1) in the size.
	 * `location` may be renamed: *src_after tells where its content is now.
	 * live: non-NULL when a running guest writes to `location`; the driver
	 * calls it once the new top image of `location` exists.
	 */
	int (*vdi_clone)(struct sr_handle *sr, const char *location, const char *new_uuid,
			 const struct sr_live_switch *live, struct sr_volume *src_after, struct sr_volume *ret);
	/* What QEMU and qemu-img open: a path or URL, and its format. */
	int (*vdi_path)(struct sr_handle *sr, const char *location, char path[XVM_HC_PATH_MAX],
			char format[SR_FORMAT_MAX]);
};

/* The driver for an SR type, or NULL. */
const struct sr_driver *sr_driver_lookup(const char *type);
/* The types there are, for error messages: "file, ext, iso, nfs, lvm". */
const char *sr_driver_types(void);

extern const struct sr_driver sr_driver_file, sr_driver_ext, sr_driver_iso, sr_driver_lvm, sr_driver_nfs,
	sr_driver_udev;
