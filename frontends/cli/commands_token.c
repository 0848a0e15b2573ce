/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * API tokens for xvmd: a client that can only send a user name and a
 * password (XenAPI.py, Xen Orchestra, Terraform) logs in with a token as
 * its password. They live in the state store, so these commands work
 * locally as well as through the daemon.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"

/* Not a XenAPI class: the fields printed, as the printer wants them. */
static const struct xvm_field_info token_fields[] = {
	{ .name = "uuid", .type = XVM_TYPE_STRING, .qualifier = XVM_QUAL_RO_RUNTIME },
	{ .name = "user", .type = XVM_TYPE_STRING, .qualifier = XVM_QUAL_RO_CONSTRUCTOR },
	{ .name = "name_label", .type = XVM_TYPE_STRING, .qualifier = XVM_QUAL_RO_CONSTRUCTOR },
	{ .name = "created", .type = XVM_TYPE_DATETIME, .qualifier = XVM_QUAL_RO_RUNTIME },
};
#define NFIELDS (sizeof(token_fields) / sizeof(token_fields[0]))

/* Calls method with the string arguments (NULL-terminated); *result may be NULL. */
static int call(struct cli_ctx *ctx, const char *method, struct json_object **result, const char *a, const char *b)
{
	struct json_object *args = json_object_new_array();
	if (a)
		json_object_array_add(args, json_object_new_string(a));
	if (b)
		json_object_array_add(args, json_object_new_string(b));
	int r = xvm_call(ctx->conn, method, args, result);
	json_object_put(args);
	return r;
}

int cli_run_token_create(struct cli_ctx *ctx)
{
	const struct cli_param *label = cli_args_get(ctx->args, "name-label");
	struct json_object *secret;
	if (call(ctx, "token.create", &secret, cli_args_get(ctx->args, "user")->value, label ? label->value : "") < 0)
		return cli_api_error();
	puts(ctx->fmt == CLI_FORMAT_JSON ? json_object_to_json_string(secret) : json_object_get_string(secret));
	json_object_put(secret);
	return CLI_EXIT_OK;
}

int cli_run_token_list(struct cli_ctx *ctx)
{
	struct json_object *all;
	if (call(ctx, "token.get_all_records", &all, NULL, NULL) < 0)
		return cli_api_error();
	size_t n = (size_t)json_object_object_length(all), i = 0;
	struct json_object **records = calloc(n ? n : 1, sizeof(*records));
	const struct xvm_field_info *fields[NFIELDS];
	for (size_t f = 0; f < NFIELDS; f++)
		fields[f] = &token_fields[f];
	if (!records) {
		json_object_put(all);
		return cli_fail("out of memory");
	}
	json_object_object_foreach(all, uuid, rec) {
		(void)uuid;
		records[i++] = rec;
	}
	cli_print_records(stdout, ctx->fmt, fields, NFIELDS, records, n, NULL, NULL);
	free(records);
	json_object_put(all);
	return CLI_EXIT_OK;
}

int cli_run_token_destroy(struct cli_ctx *ctx)
{
	return call(ctx, "token.destroy", NULL, cli_args_get(ctx->args, "uuid")->value, NULL) < 0 ? cli_api_error()
												  : CLI_EXIT_OK;
}
