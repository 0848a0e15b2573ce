/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The console class: how to reach a running VM's text or graphical console. */
#include "objects/class.h"

static const char *const protocols[] = { "vt100", "rfb", "rdp", NULL };

static const struct field_def console_fields[] = {
	UUID_FIELD,
	{ ENUM("protocol", protocols, Q_RO, "vt100 (serial text) or rfb (VNC)") },
	{ STR("location", Q_RO, "Where to connect: a unix socket path (vt100) or host:port (rfb)") },
	{ REF("VM", "VM", Q_RO, "The VM") },
	OTHER_CONFIG,
	FIELDS_END
};

const struct class_def class_console = {
	.info = { .name = "console", .description = "A console of a running VM" },
	.fields = console_fields,
};
