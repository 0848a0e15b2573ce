/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything that can be checked without a connection: switches the
 * command takes, required and unknown parameters, values against the
 * field types. Usage errors stop here, before anything is opened.
 */
#include <stddef.h>
#include <string.h>

#include "commands.h"
#include "select.h"

/* Switches only some commands take: the flag that allows each. */
static const struct {
	size_t offset;
	unsigned flag;
	const char *name;
} command_switches[] = {
	{ offsetof(struct cli_options, force), CLI_CMD_FORCE, "--force" },
	{ offsetof(struct cli_options, multiple), CLI_CMD_MULTIPLE, "--multiple" },
	{ offsetof(struct cli_options, all), CLI_CMD_ALL, "--all" },
};

static int check_switches(struct cli_ctx *ctx)
{
	const struct cli_options *o = &ctx->args->opts;
	for (size_t i = 0; i < sizeof(command_switches) / sizeof(command_switches[0]); i++) {
		bool set = *(const bool *)((const char *)o + command_switches[i].offset);
		if (set && !(ctx->cmd->flags & command_switches[i].flag))
			return cli_usage(ctx, "%s does not take %s", ctx->cmd->name, command_switches[i].name);
	}
	if (o->minimal && o->json)
		return cli_usage(ctx, "--minimal and --json exclude each other");
	if (ctx->args->nwords && !(ctx->cmd->flags & CLI_CMD_WORDS))
		return cli_usage(ctx, "expected name=value, got '%s'", ctx->args->words[0]);
	return CLI_EXIT_OK;
}

static int check_params(struct cli_ctx *ctx)
{
	const struct cli_command *c = ctx->cmd;
	for (const char *const *r = c->reqd; *r; r++)
		if (!cli_args_get(ctx->args, *r))
			return cli_usage(ctx, "missing parameter %s=", *r);
	for (size_t i = 0; i < ctx->args->nparams; i++) {
		const struct cli_param *p = &ctx->args->params[i];
		bool own = cli_command_has_param(c, p->name);
		if (cli_command_has_map(c, p->name)) {
			if (!p->key)
				return cli_usage(ctx, "'%s' is a map: give %s:KEY=VALUE", p->name, p->name);
			continue;
		}
		if (own && p->key)
			return cli_usage(ctx, "'%s' is not a map: '%s:%s' is not valid", p->name, p->name, p->key);
		/* Field names are checked by the filter compiler and the param-set check. */
		if (!own && !(c->flags & (CLI_CMD_FILTERS | CLI_CMD_ASSIGN | CLI_CMD_ANY_KEY)))
			return cli_usage(ctx, "unknown parameter '%s'", p->name);
	}
	return CLI_EXIT_OK;
}

int cli_prepare(struct cli_ctx *ctx)
{
	int r;
	ctx->fmt = ctx->args->opts.json ? CLI_FORMAT_JSON
		 : ctx->args->opts.minimal ? CLI_FORMAT_MINIMAL : CLI_FORMAT_TEXT;
	if (ctx->cmd->cls && !(ctx->cls = xvm_class_lookup(ctx->cmd->cls)))
		return cli_usage(ctx, "this library has no class %s", ctx->cmd->cls);
	if ((r = check_switches(ctx)) || (r = check_params(ctx)))
		return r;
	if ((ctx->cmd->flags & CLI_CMD_FILTERS) && (r = cli_filters_compile(ctx)))
		return r;
	if ((ctx->cmd->flags & CLI_CMD_SELECT) && (r = cli_select_check(ctx)))
		return r;
	return ctx->cmd->check ? ctx->cmd->check(ctx) : CLI_EXIT_OK;
}
