/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vtpm-create: a TPM 2.0 for a halted VM (vtpm-destroy and the listings are generic). */
#include <stdlib.h>

#include "commands.h"
#include "params.h"
#include "select.h"

int cli_run_vtpm_create(struct cli_ctx *ctx)
{
	char *vm, *vtpm;
	int r = cli_lookup_uuid(ctx, "VM", "vm-uuid", &vm);
	if (r)
		return r;
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(vm));
	json_object_array_add(a, json_object_new_boolean(cli_param_bool(ctx, "is-unique", false)));
	free(vm);
	if ((r = cli_call_ref(ctx, "VTPM.create", a, &vtpm)))
		return r;
	r = cli_print_uuid_of(ctx, "VTPM", vtpm);
	free(vtpm);
	return r;
}
