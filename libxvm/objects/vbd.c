/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VBD class: a VDI attached to a VM. */
#include "objects/class.h"
#include "storage/storage.h"

static const char *const vbd_operations[] = { "attach", "eject", "insert", "plug", "unplug",
					       "unplug_force", "pause", "unpause", NULL };
static const char *const vbd_modes[] = { "RO", "RW", NULL };
static const char *const vbd_types[] = { "CD", "Disk", "Floppy", NULL };

static const struct field_def vbd_fields[] = {
	UUID_FIELD,
	{ ALLOWED_OPS(vbd_operations) },
	{ CURRENT_OPS },
	{ REF("VM", "VM", Q_RC, "The VM") },
	{ REF("VDI", "VDI", Q_RC, "The disk; empty for an empty CD drive") },
	{ STR("device", Q_RO, "Device name in the guest") },
	{ STR("userdevice", Q_RW, "Position: 0, 1, 2, ...") },
	{ BOOL("bootable", Q_RW, "True if the VM may boot from it") },
	{ ENUM("mode", vbd_modes, Q_RW, "RO or RW"), .default_json = "\"RW\"" },
	{ ENUM("type", vbd_types, Q_RW, "CD, Disk or Floppy"), .default_json = "\"Disk\"" },
	{ BOOL("unpluggable", Q_RW, "True if it may be hot-unplugged"), .default_json = "true" },
	{ BOOL("storage_lock", Q_RO, "True if a storage-level lock is held") },
	{ BOOL("empty", Q_RO, "True for a drive without a medium") },
	OTHER_CONFIG,
	{ BOOL("currently_attached", Q_RO, "True if attached to the running VM") },
	FIELDS_END
};

const struct class_def class_vbd = {
	.info = { .name = "VBD", .description = "A virtual block device" },
	.fields = vbd_fields,
	.compute_context = storage_vbd_context,
	.compute = storage_vbd_compute,
	.compute_refreshes_stored = false,
	.refresh = storage_refresh_changed,
};
