/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage, as XenServer models it:
 *
 *   SR   a storage repository (a directory of images, an ext4 device, an
 *        NFS export, an LVM volume group, an ISO library) of a `type`
 *   PBD  how a host reaches an SR: its device_config; plugged or not
 *   VDI  a virtual disk in an SR (qcow2 or raw image, ISO, logical volume)
 *   VBD  a VDI attached to a VM at a position (userdevice), Disk or CD
 *
 * The calls are XenAPI's (SR.create, VDI.clone, VBD.plug, ...) over the
 * method table, plus xvm's own for image files (VDI.import_from_file,
 * VDI.export_to_file). Sizes are bytes. References are "OpaqueRef:...".
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xvm_conn;

/*
 * Creates the SR's storage (formatting a device where the type does so),
 * its record and this host's PBD, plugged. device_config and sm_config are
 * JSON objects of strings (borrowed; may be NULL). type: "file", "ext",
 * "iso", "nfs", "lvm"; content_type "" takes the type's default.
 * *ret: the SR reference (free()).
 */
int xvm_sr_create(struct xvm_conn *conn, struct json_object *device_config, const char *name_label,
		  const char *type, const char *content_type, bool shared, struct json_object *sm_config,
		  char **ret);
/* Forgets the SR's records (VDIs, PBDs), keeping its storage; it must not be in use by a running VM. */
int xvm_sr_forget(struct xvm_conn *conn, const char *sr);
/* Destroys the SR's VDIs and storage and forgets it; no VDI may be attached. */
int xvm_sr_destroy(struct xvm_conn *conn, const char *sr);
/* Brings the records in line with the storage: new volumes are introduced, vanished ones marked missing. */
int xvm_sr_scan(struct xvm_conn *conn, const char *sr);

int xvm_pbd_plug(struct xvm_conn *conn, const char *pbd);
int xvm_pbd_unplug(struct xvm_conn *conn, const char *pbd);

/* A new empty disk of virtual_size bytes in sr. *ret: the VDI reference. */
int xvm_vdi_create(struct xvm_conn *conn, const char *sr, const char *name_label, int64_t virtual_size,
		   char **ret);
int xvm_vdi_destroy(struct xvm_conn *conn, const char *vdi);
/* Grows the disk; also while a running VM uses it (the guest sees the new size). */
int xvm_vdi_resize(struct xvm_conn *conn, const char *vdi, int64_t new_size);
/* Copy-on-write copies, O(1) in the disk's size. */
int xvm_vdi_clone(struct xvm_conn *conn, const char *vdi, char **ret);
int xvm_vdi_snapshot(struct xvm_conn *conn, const char *vdi, char **ret);
/* A full, independent copy in another (or the same) SR. */
int xvm_vdi_copy(struct xvm_conn *conn, const char *vdi, const char *sr, char **ret);
/* Image files: format "raw", "qcow2", "vhd" or "vmdk". Import writes the image's
 * content into the disk, which must be large enough and not in use. */
int xvm_vdi_import(struct xvm_conn *conn, const char *vdi, const char *filename, const char *format);
int xvm_vdi_export(struct xvm_conn *conn, const char *vdi, const char *filename, const char *format);

/* A new VBD: vdi may be NULL or "OpaqueRef:NULL" for an empty CD drive;
 * type "Disk" or "CD"; mode "RW" or "RO"; userdevice "0".."15" or
 * "autodetect". *ret: the VBD reference. */
int xvm_vbd_create(struct xvm_conn *conn, const char *vm, const char *vdi, const char *userdevice,
		   const char *type, const char *mode, bool bootable, char **ret);
int xvm_vbd_destroy(struct xvm_conn *conn, const char *vbd);
/* Hot-plug into / out of a running VM: the guest sees the disk come and go. */
int xvm_vbd_plug(struct xvm_conn *conn, const char *vbd);
int xvm_vbd_unplug(struct xvm_conn *conn, const char *vbd);
/* CD drives: change the disc; a running guest sees the new one at once. */
int xvm_vbd_insert(struct xvm_conn *conn, const char *vbd, const char *vdi);
int xvm_vbd_eject(struct xvm_conn *conn, const char *vbd);

#ifdef __cplusplus
}
#endif
