/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VTPM methods of the method table: XenAPI's VTPM.create and VTPM.destroy. */
#include <stdlib.h>

#include "core/methods.h"
#include "lifecycle/vtpm.h"

/* VTPM.create(vM, is_unique) -> VTPM */
static int m_create(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *vm;
	bool unique;
	char *ref = NULL;
	int r;
	if ((r = arg_string(args, 0, "vM", &vm)) < 0 || (r = arg_bool(args, 1, "is_unique", &unique)) < 0 ||
	    (r = vtpm_create(e, vm, unique, &ref)) < 0)
		return r;
	*result = json_object_new_string(ref);
	free(ref);
	return 0;
}

static int m_destroy(struct engine *e, struct json_object *args, struct json_object **result)
{
	const char *ref;
	int r = arg_string(args, 0, "self", &ref);
	*result = NULL;
	return r < 0 ? r : vtpm_destroy(e, ref);
}

const struct method vtpm_methods[] = {
	{ "VTPM.create", m_create, 2, "A TPM 2.0 for a Halted VM, at most one (vM, is_unique) -> VTPM" },
	{ "VTPM.destroy", m_destroy, 1, "Deletes a vTPM and its state; its VM must be Halted (self)" },
	{ NULL },
};
