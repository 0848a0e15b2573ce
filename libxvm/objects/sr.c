/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SR class: a storage repository holding VDIs. */
#include "objects/class.h"
#include "storage/storage.h"

static const char *const sr_operations[] = { "scan", "destroy", "forget", "plug", "unplug",
					      "update", "vdi_create", "vdi_introduce", "vdi_destroy",
					      "vdi_resize", "vdi_clone", "vdi_snapshot", NULL };

static const struct field_def sr_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ ALLOWED_OPS(sr_operations) },
	{ CURRENT_OPS },
	{ REVERSE("VDIs", "VDI", "SR", "Virtual disks in the SR") },
	{ REVERSE("PBDs", "PBD", "SR", "Connections of hosts to the SR") },
	{ INT("virtual_allocation", Q_RO, "Sum of the VDIs' virtual sizes, bytes") },
	{ INT("physical_utilisation", Q_RO, "Space in use, bytes") },
	{ INT("physical_size", Q_RO, "Total space, bytes") },
	{ STR("type", Q_RC, "Driver: file, ext, iso, nfs, lvm") },
	{ STR("content_type", Q_RC, "Content: user, iso") },
	{ BOOL("shared", Q_RW, "True if every host of the pool sees the SR") },
	OTHER_CONFIG,
	TAGS,
	{ MAP("sm_config", Q_RO, "Driver configuration") },
	FIELDS_END
};

const struct class_def class_sr = {
	.info = { .name = "SR", .description = "A storage repository" },
	.fields = sr_fields,
	.compute_context = storage_sr_context,
	.compute = storage_sr_compute,
	.compute_refreshes_stored = true,
	.refresh = storage_refresh_changed,
};
