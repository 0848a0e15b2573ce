/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VTPM class: a VM's virtual TPM 2.0, its state in STATE/vtpm/UUID (lifecycle/vtpm.c). */
#include "lifecycle/vtpm.h"
#include "objects/class.h"

static const char *const vtpm_operations[] = { "destroy", NULL };
static const char *const persistence_backends[] = { "xapi", NULL };

static const struct field_def vtpm_fields[] = {
	UUID_FIELD,
	{ ALLOWED_OPS(vtpm_operations) },
	{ CURRENT_OPS, .flags = FIELD_COMPUTED },
	{ REF("VM", "VM", Q_RC, "The VM the TPM belongs to") },
	{ REF("backend", "VM", Q_RC, "The domain where the backend is located (none: the host)") },
	{ ENUM("persistence_backend", persistence_backends, Q_RO, "Where the TPM's state is kept: the host's state dir"),
	  .default_json = "\"xapi\"" },
	{ BOOL("is_unique", Q_RO, "Whether the contents are never copied") },
	{ BOOL("is_protected", Q_RO, "Whether the contents of the VTPM are secured according to the TPM spec") },
	FIELDS_END
};

const struct class_def class_vtpm = {
	.info = { .name = "VTPM", .description = "A virtual TPM 2.0 device" },
	.fields = vtpm_fields,
	.compute_context = vtpm_context,
	.compute = vtpm_compute,
};
