/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage engine: SR, PBD, VDI and VBD operations over the drivers
 * (sr_driver.h), and what the VM lifecycle needs of storage.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/util.h"
#include "hypercall.h"
#include "storage/sr_driver.h"

struct engine;

/* For each reference `ref` in the JSON array arr. */
#define STORAGE_FOR_EACH_REF(arr, i, ref)                          \
	for (size_t i = 0; i < json_object_array_length(arr); i++) \
		for (const char *ref = json_object_get_string(json_object_array_get_idx(arr, i)); ref; ref = NULL)

/* --- SR and PBD (sr_ops.c) -------------------------------------------------- */

struct sr_create_args {
	const char *host;                  /* this host, or OpaqueRef:NULL */
	struct json_object *device_config; /* borrowed */
	const char *name_label, *name_description;
	const char *type, *content_type;   /* content_type "": the type's */
	bool shared;
	struct json_object *sm_config;     /* borrowed; may be NULL */
};

int sr_create(struct engine *e, const struct sr_create_args *a, char **ret_ref);
/* A record for existing storage, without PBD (XenAPI SR.introduce). uuid may be "". */
int sr_introduce(struct engine *e, const struct sr_create_args *a, const char *uuid, char **ret_ref);
int sr_forget(struct engine *e, const char *sr);
int sr_destroy(struct engine *e, const char *sr);
int sr_scan(struct engine *e, const char *sr);
int sr_update(struct engine *e, const char *sr);

int pbd_create(struct engine *e, const char *host, const char *sr, struct json_object *device_config,
	       char **ret_ref);
int pbd_destroy(struct engine *e, const char *pbd);
int pbd_plug(struct engine *e, const char *pbd);
int pbd_unplug(struct engine *e, const char *pbd);

/* Rescans the SRs whose content changed by itself (an ISO copied into a
 * library) since their last scan; outside a transaction. Called before
 * storage objects are read, so a new image shows without an sr-scan. */
int storage_refresh_changed(struct engine *e);

/* --- VDI records from volumes (volume_records.c), inside a write transaction --- */

int storage_sync_volumes(struct engine *e, struct sr_handle *sr, const struct sr_volume *vols, size_t n);
int storage_update_space(struct engine *e, struct sr_handle *sr);
/* A VDI record for a volume; `extra` (borrowed, may be NULL) gives more fields. */
int storage_volume_record(struct engine *e, const char *sr_ref, const struct sr_volume *v,
			  struct json_object *extra, char ref[XVM_REF_BUFLEN]);
/* Deletes a VDI's record, emptying CD drives that hold it and deleting other VBDs of it. */
int storage_forget_vdi(struct engine *e, const char *vdi);

/* --- VDI (vdi_ops.c) ---------------------------------------------------------- */

/* In a transaction: the running (or paused) VM that has the VDI attached; *vm NULL if none. */
int storage_vdi_running_vm(struct engine *e, const char *vdi, char **vm);
/* In a transaction: VDI_IN_USE unless VM `vm` may attach the VDI now (rw: read-write).
 * A disk that is not sharable has one running writer at a time and no reader meanwhile. */
int storage_vdi_check_attach(struct engine *e, const char *vdi, const char *vm, bool rw);
/* In a transaction: the VDI's location in its SR ("" for none). */
int storage_vdi_location(struct engine *e, const char *vdi, char **location);

/* XenAPI VDI.create: record fields SR, virtual_size, name_label, name_description,
 * type, sharable, read_only, other_config, sm_config (type=raw|qcow2). */
int vdi_create(struct engine *e, struct json_object *record, char **ret_ref);
int vdi_destroy(struct engine *e, const char *vdi);
/* Deletes the record only; the volume stays for a later scan to find. */
int vdi_forget(struct engine *e, const char *vdi);
int vdi_resize(struct engine *e, const char *vdi, int64_t size);
int vdi_clone(struct engine *e, const char *vdi, bool snapshot, char **ret_ref);
int vdi_copy(struct engine *e, const char *vdi, const char *sr, char **ret_ref);
int vdi_import(struct engine *e, const char *vdi, const char *filename, const char *format);
int vdi_export(struct engine *e, const char *vdi, const char *filename, const char *format);
/* A new VDI (VDI.create's record; virtual_size defaults to the image's) holding the image's content. */
int vdi_create_from_image(struct engine *e, struct json_object *record, const char *filename, const char *format,
			  char **ret_ref);
struct qemu_img_progress;
/* The same, reporting how far the copy is (progress may be NULL). */
int vdi_import_progress(struct engine *e, const char *vdi, const char *filename, const char *format,
			const struct qemu_img_progress *progress);
int vdi_export_progress(struct engine *e, const char *vdi, const char *filename, const char *format,
			const struct qemu_img_progress *progress);

/* --- VBD (vbd_ops.c) ------------------------------------------------------------ */

/* XenAPI VBD.create: record fields VM, VDI, userdevice, bootable, mode, type, empty,
 * unpluggable, other_config. */
int vbd_create(struct engine *e, struct json_object *record, char **ret_ref);
int vbd_destroy(struct engine *e, const char *vbd);
int vbd_plug(struct engine *e, const char *vbd);
int vbd_unplug(struct engine *e, const char *vbd);
int vbd_insert(struct engine *e, const char *vbd, const char *vdi);
int vbd_eject(struct engine *e, const char *vbd);
/* In a transaction: a VBD record's drive for the hypervisor (path and format
 * through its SR's driver; no path for an empty CD drive). The record has the
 * VM's reference: the VDI must be free for it (storage_vdi_check_attach). */
int storage_vbd_disk(struct engine *e, struct json_object *vbd, struct xvm_hc_disk_config *disk);

/* --- Computed fields of the records (storage_records.c) ------------------------ */

struct json_object *storage_sr_context(struct engine *e);
void storage_sr_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec);
struct json_object *storage_vdi_context(struct engine *e);
void storage_vdi_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec);
struct json_object *storage_vbd_context(struct engine *e);
void storage_vbd_compute(struct engine *e, struct json_object *ctx, const char *ref, struct json_object *rec);

/* --- What the VM lifecycle needs (vm_disks.c) ----------------------------------- */

/* The VM's disks and CD drives for its domain: every VBD for a fresh boot,
 * the attached ones for a resume. Opens its own read transaction. */
int vm_disks_config(struct engine *e, const char *vm, bool resuming, struct xvm_hc_domain_config *cfg);
/* Inside a write transaction: marks the VM's VBDs attached or not. */
int vm_vbds_set_attached(struct engine *e, const char *vm, bool attached);
/* Inside a write transaction: deletes the disks the VM owns (its RW Disk VBDs' VDIs
 * that no other VM uses), for uninstall. The volumes go after the commit:
 * *locations gets an array of { sr, location } to pass to vm_disks_delete_volumes. */
int vm_disks_forget_owned(struct engine *e, const char *vm, struct json_object **volumes);
void vm_disks_delete_volumes(struct engine *e, struct json_object *volumes);
