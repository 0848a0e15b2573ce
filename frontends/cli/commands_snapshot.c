/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM snapshots: vm-snapshot, vm-checkpoint, snapshot-revert, -destroy, -export-to-template. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "params.h"
#include "select.h"

/* Calls ctx->cmd->data (a method taking a VM and a new name, giving a VM) and prints the new VM's UUID. */
static int copy_and_print(struct cli_ctx *ctx, const char *ref)
{
	char *copy;
	int r = cli_call_ref(ctx, ctx->cmd->data, cli_args_of(ref, cli_param_text(ctx, "new-name-label", ""), NULL),
			     &copy);
	if (r)
		return r;
	r = cli_print_uuid_of(ctx, "VM", copy);
	free(copy);
	return r;
}

int cli_run_vm_snapshot(struct cli_ctx *ctx)
{
	struct json_object *refs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	r = copy_and_print(ctx, json_object_get_string(json_object_array_get_idx(refs, 0)));
	json_object_put(refs);
	return r;
}

/* The snapshot snapshot-uuid= (or uuid=) names (free() *ref). */
static int the_snapshot(struct cli_ctx *ctx, char **ref)
{
	if (cli_args_get(ctx->args, "snapshot-uuid"))
		return cli_lookup_uuid(ctx, "VM", "snapshot-uuid", ref);
	if (cli_args_get(ctx->args, "uuid"))
		return cli_lookup_uuid(ctx, "VM", "uuid", ref);
	return cli_usage(ctx, "%s needs snapshot-uuid=", ctx->cmd->name);
}

int cli_run_snapshot_call(struct cli_ctx *ctx)
{
	char *ref;
	int r = the_snapshot(ctx, &ref);
	if (r)
		return r;
	r = cli_call(ctx, ctx->cmd->data, cli_args_of(ref, NULL), NULL);
	free(ref);
	return r;
}

int cli_run_snapshot_export_to_template(struct cli_ctx *ctx)
{
	char *ref;
	int r = the_snapshot(ctx, &ref);
	if (r)
		return r;
	r = copy_and_print(ctx, ref);
	free(ref);
	return r;
}
