/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VDI class: a virtual disk in an SR. */
#include "objects/class.h"
#include "storage/storage.h"

static const char *const vdi_operations[] = { "clone", "copy", "resize", "resize_online",
					       "snapshot", "destroy", "forget", "update",
					       "force_unlock", "generate_config", NULL };
static const char *const vdi_types[] = { "system", "user", "ephemeral", "suspend", "crashdump",
					  "ha_statefile", "metadata", "redo_log", "rrd", NULL };

static const struct field_def vdi_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ ALLOWED_OPS(vdi_operations) },
	{ CURRENT_OPS },
	{ REF("SR", "SR", Q_RC, "The SR holding the disk") },
	{ REVERSE("VBDs", "VBD", "VDI", "Attachments of the disk to VMs") },
	{ INT("virtual_size", Q_RC, "Size the guest sees, bytes") },
	{ INT("physical_utilisation", Q_RO, "Space used in the SR, bytes") },
	{ ENUM("type", vdi_types, Q_RC, "Kind of disk"), .default_json = "\"user\"" },
	{ BOOL("sharable", Q_RC, "True if several VMs may attach it at once") },
	{ BOOL("read_only", Q_RC, "True if it can only be read") },
	OTHER_CONFIG,
	{ STR("location", Q_RO, "Location in the SR") },
	{ BOOL("managed", Q_RO, "True if xvm manages the disk"), .default_json = "true" },
	{ BOOL("missing", Q_RO, "True if the SR no longer has the disk") },
	{ MAP("sm_config", Q_RO, "Driver configuration") },
	{ BOOL("is_a_snapshot", Q_RO, "True if this is a snapshot") },
	{ REF("snapshot_of", "VDI", Q_RO, "The disk this is a snapshot of") },
	{ REVERSE("snapshots", "VDI", "snapshot_of", "Snapshots of this disk") },
	{ TIME("snapshot_time", Q_RO, "When the snapshot was taken") },
	TAGS,
	FIELDS_END
};

const struct class_def class_vdi = {
	.info = { .name = "VDI", .description = "A virtual disk image" },
	.fields = vdi_fields,
	.compute_context = storage_vdi_context,
	.compute = storage_vdi_compute,
	.compute_refreshes_stored = false,
	.refresh = storage_refresh_changed,
};
