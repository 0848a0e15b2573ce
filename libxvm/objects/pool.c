/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pool class: one per state store; a lone host is a pool of one. */
#include "objects/class.h"

static const struct field_def pool_fields[] = {
	UUID_FIELD,
	NAME_FIELDS,
	{ REF("master", "host", Q_RO, "The pool master") },
	{ REF("default_SR", "SR", Q_RW, "Default SR for new disks") },
	{ REF("suspend_image_SR", "SR", Q_RW, "SR for suspend images") },
	{ REF("crash_dump_SR", "SR", Q_RW, "SR for crash dumps") },
	OTHER_CONFIG,
	{ BOOL("ha_enabled", Q_RO, "True if HA is on") },
	TAGS,
	FIELDS_END
};

const struct class_def class_pool = {
	.info = { .name = "pool", .description = "A pool of hosts sharing state" },
	.fields = pool_fields,
};
