/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PBD class: how one host reaches one SR. */
#include "objects/class.h"

static const struct field_def pbd_fields[] = {
	UUID_FIELD,
	{ REF("host", "host", Q_RC, "The host") },
	{ REF("SR", "SR", Q_RC, "The SR") },
	{ MAP("device_config", Q_RC, "Driver arguments: location, server, ...") },
	{ BOOL("currently_attached", Q_RO, "True if the host has the SR plugged") },
	OTHER_CONFIG,
	FIELDS_END
};

const struct class_def class_pbd = {
	.info = { .name = "PBD", .description = "A physical block device: a host's connection to an SR" },
	.fields = pbd_fields,
};
