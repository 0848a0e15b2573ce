/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Typed values of a command's own parameters. */
#include "params.h"

#include <string.h>
#include <strings.h>

#include "convert.h"

/* Parameters that are sizes, whatever the class calls the field. */
static const char *const size_params[] = { "virtual-size", "disk-size", NULL };

static bool is_size(const char *name)
{
	for (const char *const *s = size_params; *s; s++)
		if (strcmp(*s, name) == 0)
			return true;
	return false;
}

/* The bool or enum field of the command's class an own parameter stands for, or NULL. */
static const struct xvm_field_info *typed_field(const struct cli_ctx *ctx, const char *name)
{
	const struct xvm_field_info *f = ctx->cls ? cli_field_lookup(ctx->cls, name) : NULL;
	return f && (f->type == XVM_TYPE_BOOL || f->type == XVM_TYPE_ENUM) ? f : NULL;
}

int cli_check_param_values(struct cli_ctx *ctx)
{
	for (size_t i = 0; i < ctx->args->nparams; i++) {
		const struct cli_param *p = &ctx->args->params[i];
		if (p->key || !cli_command_has_param(ctx->cmd, p->name))
			continue;
		int64_t bytes;
		const struct xvm_field_info *f;
		if (is_size(p->name) && (cli_parse_memory(p->value, &bytes) < 0 || bytes <= 0))
			return cli_usage(ctx, "%s= takes a size in bytes or with a unit (512MiB, 10GiB), not '%s'",
					 p->name, p->value);
		if (!is_size(p->name) && (f = typed_field(ctx, p->name))) {
			char err[512];
			struct json_object *v;
			if (cli_convert_value(f, p->value, &v, err, sizeof(err)) < 0)
				return cli_usage(ctx, "%s", err);
			json_object_put(v);
		}
	}
	return CLI_EXIT_OK;
}

const char *cli_param_text(const struct cli_ctx *ctx, const char *name, const char *dflt)
{
	const struct cli_param *p = cli_args_get(ctx->args, name);
	return p ? p->value : dflt;
}

bool cli_param_bool(const struct cli_ctx *ctx, const char *name, bool dflt)
{
	const struct cli_param *p = cli_args_get(ctx->args, name);
	bool v = dflt;
	if (p)
		cli_parse_bool(p->value, &v);
	return v;
}

int64_t cli_param_size(const struct cli_ctx *ctx, const char *name)
{
	const struct cli_param *p = cli_args_get(ctx->args, name);
	int64_t bytes = 0;
	if (p)
		cli_parse_memory(p->value, &bytes);
	return bytes;
}

const char *cli_param_enum(const struct cli_ctx *ctx, const char *name, const char *dflt)
{
	const struct cli_param *p = cli_args_get(ctx->args, name);
	const struct xvm_field_info *f = typed_field(ctx, name);
	for (size_t i = 0; p && f && f->enum_values && f->enum_values[i]; i++)
		if (strcasecmp(f->enum_values[i], p->value) == 0)
			return f->enum_values[i];
	return dflt;
}

struct json_object *cli_param_map(const struct cli_ctx *ctx, const char *name)
{
	struct json_object *m = json_object_new_object();
	for (size_t i = 0; m && i < ctx->args->nparams; i++) {
		const struct cli_param *p = &ctx->args->params[i];
		if (p->key && strcmp(p->name, name) == 0)
			json_object_object_add(m, p->key, json_object_new_string(p->value));
	}
	return m;
}
