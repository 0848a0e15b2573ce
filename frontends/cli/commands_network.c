/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The network commands that are more than one generic call: network-create
 * and vif-create (records built from the parameters), vm-vif-list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "params.h"
#include "printer.h"
#include "refcache.h"
#include "select.h"

static void add_text(struct json_object *rec, const char *field, struct cli_ctx *ctx, const char *param)
{
	if (cli_args_get(ctx->args, param))
		json_object_object_add(rec, field, json_object_new_string(cli_param_text(ctx, param, "")));
}

int cli_run_network_create(struct cli_ctx *ctx)
{
	struct json_object *rec = json_object_new_object();
	add_text(rec, "name_label", ctx, "name-label");
	add_text(rec, "name_description", ctx, "name-description");
	add_text(rec, "MTU", ctx, "MTU");
	add_text(rec, "bridge", ctx, "bridge");
	json_object_object_add(rec, "other_config", cli_param_map(ctx, "other-config"));
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	return cli_create_and_print(ctx, "network.create", a, "network");
}

int cli_run_vif_create(struct cli_ctx *ctx)
{
	char *vm, *net;
	int r = cli_lookup_uuid(ctx, "VM", "vm-uuid", &vm);
	if (r)
		return r;
	if ((r = cli_lookup_uuid(ctx, "network", "network-uuid", &net))) {
		free(vm);
		return r;
	}
	struct json_object *rec = json_object_new_object();
	json_object_object_add(rec, "VM", json_object_new_string(vm));
	json_object_object_add(rec, "network", json_object_new_string(net));
	add_text(rec, "device", ctx, "device");
	add_text(rec, "MAC", ctx, "mac");
	json_object_object_add(rec, "other_config", cli_param_map(ctx, "other-config"));
	free(vm);
	free(net);
	struct json_object *a = json_object_new_array();
	json_object_array_add(a, rec);
	return cli_create_and_print(ctx, "VIF.create", a, "VIF");
}

static const char *const vif_fields[] = { "uuid", "device", "MAC", "network", "MTU", "currently_attached", NULL };

int cli_run_vm_vif_list(struct cli_ctx *ctx)
{
	struct json_object *refs, *vifs;
	int r = cli_select(ctx, &refs);
	if (r)
		return r;
	if (xvm_object_get_field(ctx->conn, "VM", json_object_get_string(json_object_array_get_idx(refs, 0)), "VIFs",
				 &vifs) < 0) {
		json_object_put(refs);
		return cli_api_error();
	}
	json_object_put(refs);
	size_t n = json_object_array_length(vifs), k = 0;
	struct json_object **recs = calloc(n ? n : 1, sizeof(*recs));
	const struct xvm_class_info *c = xvm_class_lookup("VIF");
	const struct xvm_field_info *fields[8];
	size_t nf = 0;
	for (; vif_fields[nf]; nf++)
		fields[nf] = xvm_class_field(c, vif_fields[nf]);
	r = recs ? CLI_EXIT_OK : cli_fail("out of memory");
	for (; r == CLI_EXIT_OK && k < n; k++)
		if (xvm_object_get_record(ctx->conn, "VIF", json_object_get_string(json_object_array_get_idx(vifs, k)),
					  &recs[k]) < 0)
			r = cli_api_error();
	if (r == CLI_EXIT_OK)
		cli_print_records(stdout, ctx->fmt, fields, nf, recs, n, cli_refcache_uuid, ctx->refs);
	for (size_t i = 0; recs && i < k; i++)
		json_object_put(recs[i]);
	free(recs);
	json_object_put(vifs);
	return r;
}
